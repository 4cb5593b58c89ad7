"""console/domain/templates.py to the letter: where each error points, the words that say the
fix, what a template needs and uses, how it is saved and found. Written from the survivors of
`tools/mutate.py console/domain/templates.py` (README "Testing")."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.domain.templates import (
    FIELDS,
    SCHEMA,
    Template,
    TemplateError,
    dump_template,
    find_templates,
    load_template,
    resolve_template,
    save_template,
    suggest,
    template_dirs,
    unused_names,
)

REQUEST = """request:
  applicationId: 134
  campaignName: Campaign1
  callingList: CallingList1
  phoneNumber: '5551234'
  timeZone: GMT
  phoneType: Mobile
  from: "08:00"
  until: "20:00"
"""


def _write(tmp_path: Path, text: str, name: str = "t.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(TemplateError) as info:
        load_template(_write(tmp_path, text))
    return str(info.value)


def _template(**request: object) -> Template:
    base: dict[str, object] = {
        "applicationId": 134, "campaignName": "C", "callingList": "L", "phoneNumber": "5551234",
        "timeZone": "GMT", "phoneType": "Mobile", "from": "08:00", "until": "20:00"}
    base.update(request)
    return Template(name="t", request=base)


# -- what a template needs and uses ---------------------------------------------------------
def test_placeholders_skip_built_ins_and_defaults_and_come_once_in_order() -> None:
    template = Template(name="t", request={
        "phoneNumber": "${phone}", "campaignName": "${campaign}-${seq}",
        "otherFields": {"A": "${ticket}", "B": ["${phone}", "${uuid}", "${agent}"]},
        "callingList": "${list}"}, defaults={"list": "L1"})
    assert template.placeholders() == ["phone", "campaign", "ticket", "agent"]


def test_names_are_every_placeholder_and_every_field() -> None:
    template = Template(name="t", request={"phoneNumber": "${phone}",
                                           "otherFields": {"X": ["${deep}"]}},
                        defaults={"phone": "1"})
    assert template.names() == {"phone", "deep"} | set(FIELDS)


def test_campaign_and_list_fall_back_to_a_question_mark() -> None:
    assert Template(name="t", request={}).campaign == "?"
    assert Template(name="t", request={}).calling_list == "?"
    assert _template().campaign == "C" and _template().calling_list == "L"


def test_where_uses_the_key_then_its_first_part_then_line_one() -> None:
    template = Template(name="nm", request={}, marks={"request": (4, 1), "request.x": (7, 3)})
    assert template.where("request.x") == "nm:7:3"
    assert template.where("request.y") == "nm:4:1"  # falls back to `request`
    assert template.where("other.y") == "nm:1:1"
    with_path = Template(name="nm", request={}, path=Path("/p/t.yaml"))
    assert with_path.where("anything") == "/p/t.yaml:1:1"


@pytest.mark.parametrize("ref, fixed", [
    ("  ABC-1 ", "ABC-1"), ("", None), ("   ", None), ("R-${seq}", None), ("R-$${x}", None),
    (7, None)])
def test_a_fixed_reference_is_literal_text_only(ref: object, fixed: str | None) -> None:
    assert _template(referenceId=ref).fixed_reference == fixed


def test_a_template_without_a_reference_has_no_fixed_one() -> None:
    assert _template().fixed_reference is None


def test_render_expands_and_a_value_named_like_a_field_overrides_it() -> None:
    template = _template(phoneNumber="${phone}", campaignName="K${seq}")
    rendered = template.render({"phone": "5550001", "callingList": "Other"}, seq=5)
    assert rendered["phoneNumber"] == "5550001"
    assert rendered["campaignName"] == "K5"
    assert rendered["callingList"] == "Other"
    assert "phone" not in rendered  # a placeholder value is not a field


def test_render_seq_defaults_to_one() -> None:
    assert _template(campaignName="K${seq}").render({})["campaignName"] == "K1"
    assert _template(campaignName="K${seq}").build({}, device_path="/devices/x").campaign_name \
        == "K1"


def test_render_names_the_line_of_the_field_that_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, REQUEST.replace("'5551234'", "${phone}"))
    with pytest.raises(TemplateError) as info:
        load_template(path).render({})
    assert str(info.value).startswith(f"{path}:5:3: ")
    assert "phone" in str(info.value)


def test_build_fills_the_device_only_when_the_template_has_none() -> None:
    assert _template().build({}, device_path="/devices/a").device_path == "/devices/a"
    assert _template(devicePath="/devices/own").build(
        {}, device_path="/devices/a").device_path == "/devices/own"
    assert _template(devicePath="").build({}, device_path="/devices/a").device_path == \
        "/devices/a"


# -- loading: where each error points -------------------------------------------------------
def test_a_list_is_not_a_template(tmp_path: Path) -> None:
    message = _refused(tmp_path, "- a\n- b\n")
    assert message.endswith("t.yaml:1:1: a template is a mapping with schema, name, description "
                            "and request (see `outbound-console templates new`)")


def test_schema_must_be_a_whole_number_in_range(tmp_path: Path) -> None:
    assert "schema must be a whole number (this version writes 1), got 'x'" in \
        _refused(tmp_path, "schema: x\n" + REQUEST)
    assert "got True" in _refused(tmp_path, "schema: true\n" + REQUEST)
    newer = _refused(tmp_path, "\nschema: 2\n" + REQUEST)
    assert ":2:1: schema 2 was written by a newer outbound-console; this one reads schemas 0 "\
        "and 1: upgrade it" in newer
    assert ":1:1: schema -1 does not exist (0 or 1)" in _refused(tmp_path, "schema: -1\n" + REQUEST)
    assert SCHEMA == 1


def test_the_flat_form_reads_fields_at_the_top_and_names_their_lines(tmp_path: Path) -> None:
    flat = "\n".join(line.strip() for line in REQUEST.splitlines()[1:]) + "\nname: flat\n"
    template = load_template(_write(tmp_path, flat))
    assert template.schema == 0 and template.name == "flat" and template.description == ""
    assert template.request["callingList"] == "CallingList1"
    assert "name" not in template.request and "schema" not in template.request
    bad = flat.replace("phoneType: Mobile", "phoneType: Pigeon")
    assert ":6:1: " in _refused(tmp_path, bad)


def test_the_flat_form_with_an_explicit_schema_zero(tmp_path: Path) -> None:
    flat = "schema: 0\n" + "\n".join(line.strip() for line in REQUEST.splitlines()[1:]) + "\n"
    template = load_template(_write(tmp_path, flat, "zero.yaml"))
    assert template.name == "zero" and "schema" not in template.request


def test_an_unknown_top_key_is_named_with_its_line_and_a_suggestion(tmp_path: Path) -> None:
    message = _refused(tmp_path, "schema: 1\n" + REQUEST + "defualts: {}\n")
    assert message.endswith(":11:1: unknown key 'defualts' (did you mean 'defaults'?); a "
                            "template has schema, name, description, request, defaults")


@pytest.mark.parametrize("name", ["!bad", "a/b", 5])
def test_a_bad_name_is_refused_on_its_line(tmp_path: Path, name: object) -> None:
    message = _refused(tmp_path, f"schema: 1\nname: {name!r}\n" + REQUEST)
    assert ":2:1: name must be text of letters, digits, space, '.', '_' or '-', got " in message


def test_the_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    assert load_template(_write(tmp_path, "schema: 1\n" + REQUEST, "mine.yaml")).name == "mine"


def test_description_must_be_text(tmp_path: Path) -> None:
    assert ":2:1: description must be text" in _refused(
        tmp_path, "schema: 1\ndescription: [1]\n" + REQUEST)
    assert load_template(_write(tmp_path, "schema: 1\ndescription:\n" + REQUEST)).description \
        == ""


def test_request_must_be_a_mapping(tmp_path: Path) -> None:
    message = _refused(tmp_path, "schema: 1\nname: x\nrequest: [1]\n")
    assert ":3:1: request must be a mapping of AddRecord fields (chainId, " in message


@pytest.mark.parametrize("defaults", ["[1]", "{a: true}", "{a: [1]}", "{1: x}"])
def test_defaults_map_names_to_text_or_numbers(tmp_path: Path, defaults: str) -> None:
    message = _refused(tmp_path, "schema: 1\n" + REQUEST + f"defaults: {defaults}\n")
    assert message.endswith(":11:1: defaults must map placeholder names to text or numbers")


def test_defaults_of_text_and_numbers_load(tmp_path: Path) -> None:
    template = load_template(_write(tmp_path, "schema: 1\n" + REQUEST +
                                    "defaults: {a: x, b: 2, c: 1.5}\n"))
    assert template.defaults == {"a": "x", "b": 2, "c": 1.5}


def test_an_unquoted_clock_time_stays_a_clock_time(tmp_path: Path) -> None:
    text = REQUEST.replace('"08:00"', "8:30").replace('"20:00"', "20:00")
    template = load_template(_write(tmp_path, "schema: 1\n" + text))
    assert template.request["from"] == "8:30" and template.request["until"] == "20:00"


def test_a_quoted_number_like_a_clock_is_not_touched(tmp_path: Path) -> None:
    text = "schema: 1\n" + REQUEST + "defaults: {t: '8:30', n: 510}\n"
    assert load_template(_write(tmp_path, text)).defaults == {"t": "8:30", "n": 510}


# -- check_request --------------------------------------------------------------------------
def test_operation_name_add_record_is_allowed_and_nothing_else(tmp_path: Path) -> None:
    ok = REQUEST + "  operationName: AddRecord\n"
    assert load_template(_write(tmp_path, "schema: 1\n" + ok)).request["operationName"] == \
        "AddRecord"
    other = REQUEST + "  operationName: DeleteRecord\n"
    assert "'operationName' is not an AddRecord field" in _refused(tmp_path, "schema: 1\n" + other)


def test_an_unknown_field_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = _refused(tmp_path, "schema: 1\n" + REQUEST + "  phonenumber2: x\n")
    assert ":11:3: 'phonenumber2' is not an AddRecord field (did you mean 'phoneNumber'?)" \
        in message


def test_a_field_must_be_text_or_a_number(tmp_path: Path) -> None:
    message = _refused(tmp_path, "schema: 1\n" + REQUEST.replace("GMT", "[GMT]"))
    assert message.endswith(":7:3: timeZone must be text or a number, got ['GMT']")
    other = _refused(tmp_path, "schema: 1\n" + REQUEST + "  otherFields: [1]\n")
    assert other.endswith("otherFields must be text or a number or a mapping, got [1]")
    assert "got True" in _refused(tmp_path, "schema: 1\n" + REQUEST.replace("GMT", "true"))


def test_missing_fields_are_all_named_with_plural(tmp_path: Path) -> None:
    one = _refused(tmp_path, "schema: 1\n" + REQUEST.replace("  timeZone: GMT\n", ""))
    assert ":2:1: missing required field timeZone (devicePath may be left out" in one
    two = _refused(tmp_path, "schema: 1\n" + REQUEST.replace("  timeZone: GMT\n", "")
                   .replace("  phoneType: Mobile\n", "  phoneType: ''\n"))
    assert "missing required fields timeZone, phoneType (" in two or \
        "missing required fields phoneType, timeZone (" in two


def test_a_secret_looking_literal_in_other_fields_is_refused(tmp_path: Path) -> None:
    text = "schema: 1\n" + REQUEST + "  otherFields:\n    password: hunter2\n"
    assert ":11:3: templates never hold secrets: give such a value as ${env:NAME} instead" in \
        _refused(tmp_path, text)
    allowed = "schema: 1\n" + REQUEST + "  otherFields:\n    password: ${env:MY_VALUE}\n"
    assert load_template(_write(tmp_path, allowed)).request["otherFields"]["password"] == \
        "${env:MY_VALUE}"


def test_a_literal_other_field_is_checked_beside_a_placeholder(tmp_path: Path) -> None:
    text = "schema: 1\n" + REQUEST + "  otherFields:\n    T: ${ticket}\n    N: .nan\n"
    assert "otherFields" in _refused(tmp_path, text)
    fine = "schema: 1\n" + REQUEST + "  otherFields:\n    T: ${ticket}\n    N: 5\n"
    assert load_template(_write(tmp_path, fine)).placeholders() == ["ticket"]


def test_placeholders_in_phone_fields_are_checked_by_stand_ins(tmp_path: Path) -> None:
    email = REQUEST.replace("'5551234'", "${addr}").replace("Mobile", "EmailAddress")
    assert load_template(_write(tmp_path, "schema: 1\n" + email)).placeholders() == ["addr"]
    both = REQUEST.replace("'5551234'", "${n}").replace("Mobile", "${t}")
    assert load_template(_write(tmp_path, "schema: 1\n" + both)).placeholders() == ["n", "t"]
    typed = REQUEST.replace("Mobile", "${t}")
    assert load_template(_write(tmp_path, "schema: 1\n" + typed)).placeholders() == ["t"]


@pytest.mark.parametrize("field, value", [
    ("chainId", "${c}"), ("applicationId", "${a}"), ("from", "${f}"), ("until", "${u}"),
    ("campaignName", "${c}"), ("callingList", "${l}"), ("timeZone", "${z}"),
    ("devicePath", "${d}"), ("referenceId", "${r}")])
def test_a_placeholder_in_any_field_passes_the_check(tmp_path: Path, field: str,
                                                     value: str) -> None:
    text = "schema: 1\n" + REQUEST + f"  {field}: {value}\n" if f"  {field}:" not in REQUEST \
        else "schema: 1\n" + "\n".join(
            f"  {field}: {value}" if line.startswith(f"  {field}:") else line
            for line in REQUEST.splitlines()) + "\n"
    assert load_template(_write(tmp_path, text)).placeholders() == [value[2:-1]]


def test_every_bad_field_is_listed_each_on_its_line(tmp_path: Path) -> None:
    text = "schema: 1\n" + REQUEST.replace("Mobile", "Pigeon").replace("134", "abc")
    path = tmp_path / "t.yaml"
    first, *others = _refused(tmp_path, text).splitlines()
    assert first.startswith(f"{path}:3:3: applicationId: ")
    assert others == [f"  {path}:8:3: phoneType: got 'Pigeon'; expected one of NoContactType, "
                      "HomePhone, DirectBusinessPhone, BusinessWithExt, Mobile, VacationPhone, "
                      "Pager, Modem, VoiceMail, PinPager, EmailAddress, InstantMessaging"]


# -- saving ---------------------------------------------------------------------------------
def test_dump_writes_block_text_and_no_operation_name() -> None:
    template = Template(name="t", request={**_template().request, "operationName": "AddRecord"},
                        description="one\ntwo", defaults={"x": "1"})
    text = dump_template(template)
    assert text.startswith("schema: 1\nname: t\ndescription: |\n  one\n  two\nrequest:\n")
    assert "operationName" not in text and text.endswith("defaults:\n  x: '1'\n")


def test_dump_keeps_a_one_line_description_on_its_line() -> None:
    text = dump_template(Template(name="t", request=_template().request, description="short"))
    assert "description: short\n" in text


def test_dump_leaves_out_empty_description_and_defaults() -> None:
    text = dump_template(_template())
    assert "description" not in text and "defaults" not in text


def test_dump_keeps_long_lines_whole_up_to_a_hundred_columns() -> None:
    long = "x " * 45  # 90 characters: one line at width 100, folded at the default 80
    text = dump_template(Template(name="t", request={**_template().request,
                                                     "otherFields": {"Note": long.strip()}}))
    assert f"Note: {long.strip()}\n" in text


def test_dump_refuses_a_secret() -> None:
    with pytest.raises(TemplateError, match="templates never hold secrets"):
        dump_template(Template(name="t", request={**_template().request,
                                                  "otherFields": {"password": "x"}}))
    with pytest.raises(TemplateError, match="templates never hold secrets"):
        dump_template(Template(name="t", request=_template().request,
                               defaults={"api_token": "x"}))


def test_save_checks_first_makes_folders_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "t.yaml"
    saved = save_template(_template(), path)
    assert saved.path == path and saved.request["campaignName"] == "C"
    assert not path.with_suffix(".yaml.tmp").exists()
    with pytest.raises(TemplateError) as info:
        save_template(_template(phoneType="Pigeon"), tmp_path / "bad.yaml")
    assert str(info.value).startswith(f"{tmp_path / 'bad.yaml'}:")
    assert not (tmp_path / "bad.yaml").exists()


# -- finding --------------------------------------------------------------------------------
def test_template_dirs_are_the_templates_folders() -> None:
    assert template_dirs([Path("/a"), Path("b")]) == [Path("/a/templates"), Path("b/templates")]


def test_find_skips_missing_folders_and_the_first_path_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    _write(first, "schema: 1\nname: from-one\n" + REQUEST, "c/l/t.yaml")
    _write(second, "schema: 1\nname: from-two\n" + REQUEST, "c/l/t.yaml")
    _write(second, "schema: 1\nname: other\n" + REQUEST, "c/l/u.yaml")
    _write(second, "- broken\n", "c/l/v.yaml")
    found = find_templates([tmp_path / "missing", first, second])
    names = [f.name if isinstance(f, Template) else "error" for f in found]
    assert names == ["from-one", "other", "error"]


def test_resolve_a_direct_file_only_when_it_is_yaml_and_exists(tmp_path: Path) -> None:
    path = _write(tmp_path, "schema: 1\n" + REQUEST, "direct.yaml")
    assert resolve_template(str(path), []) == path
    text = _write(tmp_path, "x", "direct.txt")
    with pytest.raises(TemplateError, match="no template"):
        resolve_template(str(text), [], examples=False)


def test_resolve_by_relative_name_then_by_a_unique_bare_name(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    path = _write(folder, "schema: 1\n" + REQUEST, "camp/list/mine.yaml")
    assert resolve_template("camp/list/mine", [folder], examples=False) == path
    assert resolve_template("camp/list/mine.yaml", [folder], examples=False) == path
    assert resolve_template("mine", [folder], examples=False) == path.resolve()


def test_resolve_refuses_an_ambiguous_name_listing_both(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    a = _write(folder, "schema: 1\n" + REQUEST, "c1/l/dup.yaml")
    b = _write(folder, "schema: 1\n" + REQUEST, "c2/l/dup.yaml")
    with pytest.raises(TemplateError) as info:
        resolve_template("dup", [folder, folder.resolve()], examples=False)
    assert str(info.value) == (f"template 'dup' is ambiguous: {a.resolve()}, {b.resolve()}; "
                               "give campaign/list/name")


def test_resolve_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as info:
        resolve_template("nope", [tmp_path], examples=False)
    assert str(info.value) == (f"no template 'nope' (looked in {tmp_path}); "
                               "`outbound-console templates list` shows them")
    with pytest.raises(TemplateError) as info:
        resolve_template("nope", [tmp_path])
    assert f"(looked in {tmp_path}, the shipped examples)" in str(info.value)


def test_the_users_template_wins_over_a_shipped_example(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    mine = _write(folder, "schema: 1\n" + REQUEST, "doc-sample.yaml")
    assert resolve_template("doc-sample", [folder]) == mine
    shipped = resolve_template("doc-sample", [tmp_path / "empty"])
    assert shipped != mine and shipped.name == "doc-sample.yaml"


# -- suggestions ----------------------------------------------------------------------------
def test_suggest_finds_a_close_word_or_a_case_slip_or_nothing() -> None:
    assert suggest("phonNumber", FIELDS) == " (did you mean 'phoneNumber'?)"
    assert suggest("CALLINGLIST", FIELDS) == " (did you mean 'callingList'?)"
    assert suggest("zzzz", FIELDS) == ""


def test_unused_names_lists_only_what_no_template_uses_with_a_suggestion() -> None:
    template = _template(phoneNumber="${phone}", otherFields={"T": "${ticket}"})
    assert unused_names(["phone", "tikcet", "callingList", "zzz"], [template]) == [
        "'tikcet' (did you mean 'ticket'?)", "'zzz'"]
    assert unused_names(["phone"], []) == ["'phone' (did you mean 'phoneType'?)"]
