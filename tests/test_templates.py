"""Request templates: load, check, placeholders, save, find — errors with file:line:col."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.domain.templates import (
    Template,
    TemplateError,
    dump_template,
    find_templates,
    load_template,
    resolve_template,
    save_template,
)
from console.errors import RecordInvalid
from console.example_templates import DIR as EXAMPLES

REPO_TEMPLATES = EXAMPLES  # the example templates shipped with the package
GOOD = """schema: 1
name: cb
description: |
  Two lines
  of description.
request:
  applicationId: 134
  campaignName: Campaign1
  callingList: CallingList1
  phoneNumber: ${phone}
  timeZone: GMT
  phoneType: Mobile
  from: "08:00"
  until: "20:00"
  otherFields:
    Ticket: ${ticket}
    Nom: Hélène
defaults:
  ticket: T-1
"""


def write(tmp_path: Path, text: str, name: str = "t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_templates_are_valid() -> None:
    found = find_templates([REPO_TEMPLATES])
    assert len(found) >= 4
    assert all(isinstance(t, Template) for t in found), [str(t) for t in found]


def test_load_render_build(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, GOOD))
    assert template.name == "cb" and template.campaign == "Campaign1"
    assert template.placeholders() == ["phone"]
    record = template.build({"phone": "5551234"}, device_path="/devices/d")
    body = record.body()
    assert body["phoneNumber"] == "5551234" and body["from"] == 28800
    assert body["otherFields"] == {"Ticket": "T-1", "Nom": "Hélène"}
    again = template.build({"phone": "5551234"}, device_path="/devices/d")
    assert again.reference_id != record.reference_id


def test_set_overrides_fields_and_defaults(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, GOOD))
    fields = template.render({"phone": "1", "ticket": "T-9", "timeZone": "PST"})
    assert fields["timeZone"] == "PST" and fields["otherFields"]["Ticket"] == "T-9"


def test_builtin_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace("${ticket}", "${env:TICKET_ENV}-${seq}-${today}-${uuid}")
    monkeypatch.setenv("TICKET_ENV", "INC42")
    fields = load_template(write(tmp_path, text)).render({"phone": "1"}, seq=7)
    ticket = fields["otherFields"]["Ticket"]
    assert ticket.startswith("INC42-7-") and len(ticket.split("-")[-1]) == 32


def test_unknown_placeholder_names_file_line_and_fix(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, GOOD))
    with pytest.raises(TemplateError) as info:
        template.render({})
    message = str(info.value)
    assert "t.yaml:10:3" in message and "${phone}" in message and "--set phone=" in message


def test_missing_env_variable(tmp_path: Path) -> None:
    os.environ.pop("SURELY_NOT_SET", None)
    template = load_template(write(tmp_path, GOOD.replace("${ticket}", "${env:SURELY_NOT_SET}")))
    with pytest.raises(TemplateError, match="SURELY_NOT_SET is not set"):
        template.render({"phone": "1"})


def test_unquoted_clock_times_are_not_base_60(tmp_path: Path) -> None:
    text = GOOD.replace('"08:00"', "8:30").replace('"20:00"', "20:00:30")
    record = load_template(write(tmp_path, text)).build({"phone": "5551234"}, device_path="/devices/d")
    assert (record.from_, record.until) == (30600, 72030)


@pytest.mark.parametrize(("change", "words"), [
    (("phoneType: Mobile", "phoneType: Cell"), ":12:3: phoneType: got 'Cell'"),
    (("phoneType: Mobile", "phonetype: Mobile"), ":12:3: 'phonetype' is not an AddRecord field "
                                                 "(did you mean 'phoneType'?)"),
    (("schema: 1", "schema: 9"), ":1:1: schema 9 was written by a newer"),
    (("schema: 1", "schema: one"), ":1:1: schema must be a whole number"),
    (("name: cb", "nmae: cb"), ":2:1: unknown key 'nmae' (did you mean 'name'?)"),
    (("  timeZone: GMT\n", ""), "missing required field timeZone"),
    (("  from: \"08:00\"", "  from: \"25:00\""), ":13:3: from: got '25:00'"),
    (("  applicationId: 134", "  applicationId: [134]"), ":7:3: applicationId must be text or"),
    (("Nom: Hélène", "password: hunter2"), "never hold secrets"),
    (("request:", "request: 5\nx:"), "unknown key 'x'"),
])
def test_bad_templates_say_where_and_what(tmp_path: Path, change: tuple[str, str],
                                          words: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(TemplateError) as info:
        load_template(path)
    assert words in str(info.value)
    assert "hunter2" not in str(info.value)


def test_python_tags_are_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("phoneNumber: ${phone}",
                                        "phoneNumber: !!python/object/apply:os.getcwd []"))
    with pytest.raises(TemplateError) as info:
        load_template(path)
    assert "t.yaml:10:" in str(info.value) and "not allowed" in str(info.value)


def test_not_utf8_and_not_a_mapping(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TemplateError, match="bin.yaml:1:1: not UTF-8"):
        load_template(binary)
    with pytest.raises(TemplateError, match="a template is a mapping"):
        load_template(write(tmp_path, "- a\n- b\n"))


def test_schema_0_flat_files_still_load(tmp_path: Path) -> None:
    flat = ("applicationId: 134\ncampaignName: Campaign1\ncallingList: CallingList1\n"
            "phoneNumber: '5551234'\ntimeZone: GMT\nphoneType: Mobile\nfrom: 0\nuntil: 3600\n")
    template = load_template(write(tmp_path, flat, "legacy.yaml"))
    assert template.schema == 0 and template.name == "legacy"
    assert template.build({}, device_path="/devices/d").phone_number == "5551234"
    with pytest.raises(TemplateError, match=r"legacy2.yaml:4:1: 'phoneNumbr' is not an AddRecord"):
        load_template(write(tmp_path, flat.replace("phoneNumber", "phoneNumbr"), "legacy2.yaml"))


def test_save_is_pleasant_yaml_and_round_trips(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, GOOD))
    saved = save_template(template, tmp_path / "out" / "cb.yaml")
    text = (tmp_path / "out" / "cb.yaml").read_text(encoding="utf-8")
    assert text.startswith("schema: 1\nname: cb\ndescription: |\n  Two lines\n")
    assert "Hélène" in text  # non-ASCII kept as is
    assert text.index("applicationId") < text.index("campaignName") < text.index("phoneNumber")
    assert saved.request == template.request and saved.defaults == template.defaults


def test_save_refuses_secrets(tmp_path: Path) -> None:
    template = Template(name="x", request={"applicationId": 1, "campaignName": "C",
                                           "callingList": "L", "phoneNumber": "555",
                                           "timeZone": "GMT", "phoneType": "Mobile", "from": 0,
                                           "until": 1, "otherFields": {"Token": "abc"}})
    with pytest.raises(TemplateError, match="never hold secrets"):
        dump_template(template)
    assert not (tmp_path / "x.yaml").exists()


def test_find_and_resolve(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    (root / "C1" / "L1").mkdir(parents=True)
    (root / "C2" / "L2").mkdir(parents=True)
    write(root / "C1" / "L1", GOOD, "a.yaml")
    write(root / "C2" / "L2", GOOD.replace("name: cb", "name: b"), "b.yaml")
    write(root / "C2" / "L2", "request: [", "broken.yaml")
    found = find_templates([root])
    assert sum(isinstance(f, Template) for f in found) == 2
    assert sum(isinstance(f, TemplateError) for f in found) == 1
    assert resolve_template("a", [root]) == root / "C1" / "L1" / "a.yaml"
    assert resolve_template("C2/L2/b", [root]) == root / "C2" / "L2" / "b.yaml"
    with pytest.raises(TemplateError, match="no template 'zzz'"):
        resolve_template("zzz", [root])


def test_record_invalid_after_expansion_names_the_template(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, GOOD))
    with pytest.raises(RecordInvalid) as info:
        template.build({"phone": "not a number"}, device_path="/devices/d")
    assert "t.yaml" in str(info.value) and "phoneNumber" in str(info.value)


# -- secrets never expand, bodies stay strict JSON ---------------------------------------------
SECRET = "s3cret-Value-91"


@pytest.mark.parametrize("name", [
    "OUTBOUND_CONSOLE_PASSWORD", "OUTBOUND_CONSOLE_SIM_PASSWORD", "GWS_EU_PASSWORD", "DB_PASSWD",
    "MY_SECRET", "API_TOKEN", "gws_api_key", "AWS_SECRET_ACCESS_KEY", "LDAP_PASS", "X_PW",
    "BASIC_AUTH", "SESSION_COOKIE", "PRIVATE_NOTE", "GITHUB_APIKEY", "SSO_CREDENTIALS",
])
def test_a_secret_variable_is_refused_when_the_template_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, SECRET)
    path = write(tmp_path, GOOD.replace("Ticket: ${ticket}", f"Ticket: x-${{env:{name}}}"))
    with pytest.raises(TemplateError) as info:
        load_template(path)
    message = str(info.value)
    assert f"t.yaml:16:5: ${{env:{name}}} is not expanded" in message, message
    assert SECRET not in message


@pytest.mark.parametrize("field", ["phoneNumber", "campaignName"])
def test_a_secret_variable_is_refused_in_any_field(tmp_path: Path, field: str) -> None:
    text = GOOD.replace("  phoneNumber: ${phone}", "  phoneNumber: '${env:OUTBOUND_CONSOLE_PASSWORD}'"
                        ) if field == "phoneNumber" else GOOD.replace(
        "campaignName: Campaign1", "campaignName: ${env:OUTBOUND_CONSOLE_PASSWORD}")
    with pytest.raises(TemplateError, match=r"is not expanded: it holds the console's own"):
        load_template(write(tmp_path, text))


def test_ordinary_variables_still_expand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKET", "INC-42")
    monkeypatch.setenv("PWD", "/home/me")  # a working directory, not a password
    path = write(tmp_path, GOOD.replace("Ticket: ${ticket}", "Ticket: ${env:TICKET} ${env:PWD}"))
    record = load_template(path).build({"phone": "5551234"}, device_path="/devices/d")
    assert record.other_fields == {"Ticket": "INC-42 /home/me", "Nom": "Hélène"}


def test_variables_marked_secret_by_a_profile_or_the_user_are_refused_at_send_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.domain.placeholders import mark_secret_env

    monkeypatch.setattr("console.domain.placeholders._marked", set())
    monkeypatch.setenv("EU_GWS", SECRET)
    monkeypatch.setenv("MINE", "nothing secret")
    template = load_template(write(tmp_path, GOOD.replace(
        "Ticket: ${ticket}", "Ticket: ${env:EU_GWS} ${env:MINE}")))  # not known as secret yet
    mark_secret_env("EU_GWS")  # what reading a profile with password_from: env:EU_GWS does
    with pytest.raises(TemplateError, match=r"t.yaml:15:3: \$\{env:EU_GWS\} is not expanded: a "
                                            r"profile reads its GWS password from it"):
        template.build({"phone": "5551234"}, device_path="/devices/d")
    monkeypatch.setenv("EU_GWS", "ordinary")  # no longer a secret's copy...
    monkeypatch.setattr("console.domain.placeholders._marked", set())  # ...nor marked
    monkeypatch.setenv("OUTBOUND_CONSOLE_SECRET_ENV", "OTHER, MINE")
    with pytest.raises(TemplateError, match=r"\$\{env:MINE\} is not expanded: "
                                            r"OUTBOUND_CONSOLE_SECRET_ENV lists it as secret"):
        template.build({"phone": "5551234"}, device_path="/devices/d")


def test_a_copy_of_the_password_under_another_name_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTBOUND_CONSOLE_PASSWORD", SECRET)
    monkeypatch.setenv("NOTE", SECRET)
    with pytest.raises(TemplateError) as info:
        load_template(write(tmp_path, GOOD.replace("Ticket: ${ticket}", "Ticket: ${env:NOTE}")))
    message = str(info.value)
    assert "holds the same value as OUTBOUND_CONSOLE_PASSWORD" in message
    assert SECRET not in message


def test_the_cli_simulator_password_variable_is_a_known_secret() -> None:
    from console.cli.main import SIM_PASSWORD_ENV
    from console.domain.placeholders import SECRET_ENV
    from console.profile import PASSWORD_ENV

    assert {SIM_PASSWORD_ENV, PASSWORD_ENV} == SECRET_ENV


@pytest.mark.parametrize("value", [".nan", ".inf", "-.Inf", ".NaN"])
def test_nan_and_infinity_in_a_template_are_refused_with_the_line(tmp_path: Path,
                                                                    value: str) -> None:
    path = write(tmp_path, GOOD.replace("Nom: Hélène", f"Balance: {value}"))
    with pytest.raises(TemplateError, match=r"t.yaml:15:3: otherFields: got .*Balance: a finite "
                                            r"number or text"):
        load_template(path)


def test_a_rows_value_with_nan_for_a_field_is_refused(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, GOOD))
    with pytest.raises(RecordInvalid, match=r"otherFields: .*finite number"):
        template.build({"phone": "5551234", "otherFields": {"x": float("nan")}},
                       device_path="/devices/d")
    with pytest.raises(RecordInvalid, match=r"applicationId: .*0..2147483647"):
        template.build({"phone": "5551234", "applicationId": str(2**64)}, device_path="/devices/d")
