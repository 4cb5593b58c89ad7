"""A `${` that forms no placeholder, `${env:}` and MYSQL_PWD-style variables: refused when the
template loads (so also by `--dry-run`), naming the file:line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.domain.placeholders import PlaceholderError, expand, secret_env
from console.domain.templates import TemplateError, find_templates, load_template
from console.example_templates import DIR as EXAMPLES
from tests.test_templates import GOOD, write

SECRET = "s3cret-Value-91"


@pytest.mark.parametrize("typo", ["${ticket", "${ ticket }", "${}", "${1st}", "x ${ticket",
                                  "${ticket}${", "${env:A B}"])
def test_a_dollar_brace_that_is_no_placeholder_is_refused_with_the_line(
        tmp_path: Path, typo: str) -> None:
    path = write(tmp_path, GOOD.replace("Ticket: ${ticket}", f"Ticket: '{typo}'"))
    with pytest.raises(TemplateError) as info:
        load_template(path)
    message = str(info.value)
    assert message.startswith(f"{path}:16:5: "), message
    if "env:" not in typo:
        assert "is not a placeholder" in message and "$${ for a literal ${" in message, message


def test_a_typo_in_a_field_names_that_fields_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("phoneNumber: ${phone}", "phoneNumber: ${phone"))
    with pytest.raises(TemplateError, match=r"t.yaml:10:3: '\$\{phone' is not a placeholder"):
        load_template(path)


def test_a_literal_dollar_brace_is_written_with_two_dollars(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("Ticket: ${ticket}", "Ticket: 'cost $${ticket} ${ticket}'"))
    record = load_template(path).build({"phone": "5551234"}, device_path="/devices/d")
    assert record.other_fields["Ticket"] == "cost ${ticket} T-1"


def test_expand_refuses_a_stray_dollar_brace() -> None:
    with pytest.raises(PlaceholderError, match="is not a placeholder"):
        expand("a ${b", {"b": "x"})
    assert expand("a $${b", {}) == "a ${b"


@pytest.mark.parametrize("text", ["${env:}", "${env}", "x-${env:}-y"])
def test_env_without_a_name_says_the_name_is_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.delenv("OUTBOUND_CONSOLE_SECRET_ENV", raising=False)
    path = write(tmp_path, GOOD.replace("Ticket: ${ticket}", f"Ticket: '{text}'"))
    with pytest.raises(TemplateError) as info:
        load_template(path)
    message = str(info.value)
    assert message.startswith(f"{path}:16:5: ") and "missing the variable name" in message
    assert "OUTBOUND_CONSOLE_SECRET_ENV" not in message


@pytest.mark.parametrize("name", ["GWS_PWD", "MYSQL_PWD", "PWD_EU", "db-pwd"])
def test_pwd_as_a_word_is_a_secret_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        name: str) -> None:
    monkeypatch.setenv(name, SECRET)
    path = write(tmp_path, GOOD.replace("Ticket: ${ticket}", f"Ticket: ${{env:{name}}}"))
    with pytest.raises(TemplateError) as info:
        load_template(path)
    message = str(info.value)
    assert "is not expanded: its name says it holds a secret" in message, message
    assert SECRET not in message


@pytest.mark.parametrize("name", ["PWD", "OLDPWD", "PWDIR", "APWD"])
def test_the_working_folder_variables_are_not_secret(monkeypatch: pytest.MonkeyPatch,
                                                     name: str) -> None:
    monkeypatch.setenv(name, "/home/me")
    assert secret_env(name) is None


def test_the_shipped_examples_still_load() -> None:
    found = find_templates([EXAMPLES])
    assert found and all(not isinstance(t, TemplateError) for t in found), found
