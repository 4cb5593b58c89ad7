"""YAML 1.1's guesses narrowed in every file the console reads: an unquoted value is a number
only when the number writes back as the text typed, true/false only when spelled so; anything
else stays the text typed (a phone number's leading zeros, a `+`, `0x...`, `1:2:3`, `12.50`,
`no`, a country code `NO`). Through the loader, YAML rows, templates, profiles and the binary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from console.domain.rows import read_rows
from console.domain.templates import load_template
from console.domain.yamlfile import load_yaml_mapping, parse_yaml
from tests.cli_helpers import isolated_env, run_bin
from tests.test_templates import GOOD, write

KEPT_AS_TEXT = ["0005551234", "+15551234", "0x5551234", "0o17", "0b101", "1:2:3:4", "8:30",
                "1_000", "0134", "-0", "+3", "12.50", "1.0e+3", "1_0.5", "1.", ".5", "-.5e-1",
                "no", "NO", "yes", "Yes", "on", "OFF", "-1:30", "123456789012345678.0"]
NUMBERS = [("134", 134), ("-3", -3), ("0", 0), ("12.5", 12.5), ("-0.25", -0.25),
           ("6.02e+23", 6.02e+23), ("5551234", 5551234)]


@pytest.mark.parametrize("typed", KEPT_AS_TEXT)
def test_a_plain_value_that_would_not_write_back_stays_the_text_typed(typed: str) -> None:
    data, _ = parse_yaml(f"a: {typed}\nb: [{typed}]\n", Path("x.yaml"))
    assert data == {"a": typed, "b": [typed]}


@pytest.mark.parametrize(("typed", "value"), NUMBERS)
def test_a_number_that_writes_back_as_typed_stays_a_number(typed: str, value: object) -> None:
    data, _ = parse_yaml(f"a: {typed}\n", Path("x.yaml"))
    assert data == {"a": value} and type(data["a"]) is type(value)


def test_booleans_are_only_true_and_false_and_tags_and_quotes_are_honoured() -> None:
    text = "a: true\nb: False\nc: TRUE\nd: '0134'\ne: !!int 0134\nf: !!bool yes\ng: .nan\nh: ~\n"
    data, _ = parse_yaml(text, Path("x.yaml"))
    assert {k: v for k, v in data.items() if k != "g"} == {
        "a": True, "b": False, "c": True, "d": "0134", "e": 92, "f": True, "h": None}
    assert math.isnan(data["g"])  # YAML's own spelling: refused where a number must be finite


def test_yaml_rows_keep_what_was_typed(tmp_path: Path) -> None:
    path = tmp_path / "rows.yaml"
    path.write_text("- phone: 0005551234\n  ticket: 12.50\n  country: NO\n"
                    "- phone: +15551234\n  ticket: 7\n  country: 'DE'\n"
                    "- {phone: 0x5551234, ticket: 1:2:3:4, applicationId: 0134}\n")
    assert [dict(row) for row in read_rows(path)] == [
        {"phone": "0005551234", "ticket": "12.50", "country": "NO"},
        {"phone": "+15551234", "ticket": 7, "country": "DE"},
        {"phone": "0x5551234", "ticket": "1:2:3:4", "applicationId": "0134"}]


def test_a_template_keeps_what_was_typed(tmp_path: Path) -> None:
    text = GOOD.replace("Ticket: ${ticket}", "Ticket: ${ticket}\n    Answer: no\n    Country: NO") \
        .replace("ticket: T-1", "ticket: 0012")
    record = load_template(write(tmp_path, text)).build({"phone": "0005551234"},
                                                          device_path="/devices/d")
    assert record.other_fields == {"Ticket": "0012", "Nom": "Hélène", "Answer": "no",
                                   "Country": "NO"}
    assert record.phone_number == "0005551234"


@pytest.mark.parametrize(("typed", "sent"), [("0134", 134), ("134", 134)])
def test_an_application_id_with_a_leading_zero_is_the_decimal_typed(
        tmp_path: Path, typed: str, sent: int) -> None:
    text = GOOD.replace("applicationId: 134", f"applicationId: {typed}")
    record = load_template(write(tmp_path, text)).build({"phone": "5550000"},
                                                          device_path="/devices/d")
    assert record.application_id == sent  # YAML 1.1 read 0134 as octal: 92


def test_a_hexadecimal_application_id_is_refused_not_converted(tmp_path: Path) -> None:
    from console.domain.templates import TemplateError

    text = GOOD.replace("applicationId: 134", "applicationId: 0x86")
    with pytest.raises(TemplateError, match=r"t.yaml:7:3: applicationId: got '0x86'"):
        load_template(write(tmp_path, text))


@pytest.mark.parametrize(("field", "typed"), [("phoneNumber", "5551234"),
                                               ("phoneNumber", "0005551234"),
                                               ("phoneNumber", "+15551234"),
                                               ("campaignName", "2024"),
                                               ("callingList", "12.5")])
def test_a_number_in_a_text_field_is_taken_as_the_text_typed(tmp_path: Path, field: str,
                                                             typed: str) -> None:
    old = {"phoneNumber": "${phone}", "campaignName": "Campaign1",
           "callingList": "CallingList1"}[field]
    template = load_template(write(tmp_path, GOOD.replace(f"{field}: {old}",
                                                          f"{field}: {typed}")))
    assert template.request[field] == typed
    body = template.build({"phone": "5550000"}, device_path="/devices/d").body()
    assert body[field] == typed


def test_a_rows_number_for_a_text_field_is_taken_as_its_text(tmp_path: Path) -> None:
    rows = tmp_path / "rows.yaml"
    rows.write_text("- phoneNumber: 5551234\n")
    template = load_template(write(tmp_path, GOOD))
    record = template.build({"phone": "5550000", **read_rows(rows)[0]}, device_path="/devices/d")
    assert record.phone_number == "5551234"


def test_profiles_read_through_the_same_rule(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("url: https://gws.example:8443\nusername: 0042\nenvironment: NO\n"
                    "timeout: 30\n")
    data, lines = load_yaml_mapping(path)
    assert data == {"url": "https://gws.example:8443", "username": "0042",
                    "environment": "NO", "timeout": 30}
    assert lines["username"] == 2


async def test_a_replay_dry_run_sends_what_the_rows_file_says(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "t.yaml").write_text(GOOD.replace("ticket: T-1", "ticket: 0012"))
    (work / "rows.yaml").write_text("- phone: 0005551234\n  ticket: 12.50\n"
                                    "- phone: +15551234\n")
    code, out, err = await run_bin("replay", "t.yaml", "--rows", "rows.yaml", "--dry-run",
                                   "--json", env=isolated_env(tmp_path), cwd=work)
    assert code == 0, err
    bodies = [line["body"] for line in map(json.loads, out.splitlines())
              if line.get("type") == "dry_run"]
    assert [(b["phoneNumber"], b["otherFields"]["Ticket"]) for b in bodies] == \
        [("0005551234", "12.50"), ("+15551234", "0012")]


@pytest.mark.parametrize(("typed", "words"), [
    ("true", "phoneNumber must be text or a number, got True"), (".nan", "phoneNumber: got nan"),
    ("-.inf", "phoneNumber: got -inf")])
def test_a_boolean_or_non_finite_number_in_a_text_field_is_still_refused(
        tmp_path: Path, typed: str, words: str) -> None:
    from console.domain.templates import TemplateError

    text = GOOD.replace("phoneNumber: ${phone}", f"phoneNumber: {typed}")
    with pytest.raises(TemplateError, match=rf"t.yaml:10:3: {words}"):
        load_template(write(tmp_path, text))


@pytest.mark.parametrize("typed", [".inf", "-.Inf", "+.INF", ".NaN"])
def test_yamls_own_infinity_and_nan_stay_numbers(typed: str) -> None:
    data, _ = parse_yaml(f"a: {typed}\n", Path("x.yaml"))
    assert isinstance(data["a"], float) and not math.isfinite(data["a"])
