"""The AddRecord model: every field's rules, and the exact documented body."""

from __future__ import annotations

from typing import Any

import pytest

from console.errors import RecordInvalid
from console.model import PHONE_TYPES, AddRecord, format_time_of_day, parse_time_of_day
from tests.helpers import sample_request


def problems_for(**changes: Any) -> dict[str, str]:
    with pytest.raises(RecordInvalid) as info:
        AddRecord.parse(sample_request(**changes))
    return {p.field: str(p) for p in info.value.problems}


def test_sample_serialises_to_exactly_the_documented_body() -> None:
    body = AddRecord.parse(sample_request()).body()
    assert body == sample_request()
    assert next(iter(body)) == "operationName"


def test_twelve_phone_types() -> None:
    assert len(PHONE_TYPES) == 12
    assert PHONE_TYPES[0] == "NoContactType" and PHONE_TYPES[-1] == "InstantMessaging"


def test_reference_id_generated_unique_and_renewed() -> None:
    a = AddRecord.parse(sample_request(referenceId=...))
    b = AddRecord.parse(sample_request(referenceId=...))
    assert a.reference_id != b.reference_id and len(a.reference_id) >= 16
    renewed = a.renewed()
    assert renewed.reference_id != a.reference_id and renewed.phone_number == a.phone_number


def test_optional_fields_are_left_out_when_absent() -> None:
    body = AddRecord.parse(sample_request(chainId=...)).body()
    assert "chainId" not in body and "otherFields" not in body


@pytest.mark.parametrize(("given", "seconds"), [
    (0, 0), (86399, 86399), ("3600", 3600), ("08:30", 30600), ("8:30", 30600),
    ("23:59:59", 86399), ("00:00:01", 1),
])
def test_times_of_day(given: Any, seconds: int) -> None:
    assert parse_time_of_day(given) == seconds
    record = AddRecord.parse(sample_request(**{"from": given}))
    assert record.body()["from"] == seconds


@pytest.mark.parametrize("bad", [86400, -1, "24:00", "12:60", "12:30:61", "noon", "8h", True,
                                 1.5, None, "", "12:3"])
def test_bad_times_name_the_field(bad: Any) -> None:
    problems = problems_for(until=bad)
    assert "until" in problems
    assert "HH:MM" in problems["until"]


def test_format_time_of_day() -> None:
    assert format_time_of_day(30615) == "08:30:15"


def test_until_before_from_is_accepted() -> None:
    assert AddRecord.parse(sample_request(**{"from": "22:00", "until": "06:00"})).until == 21600


@pytest.mark.parametrize(("field", "bad"), [
    ("applicationId", -1), ("applicationId", "13a"), ("applicationId", True),
    ("applicationId", 1.5), ("chainId", -2), ("chainId", "x"),
])
def test_ids_are_non_negative_integers(field: str, bad: Any) -> None:
    problems = problems_for(**{field: bad})
    assert field in problems and repr(bad) in problems[field]


def test_ids_accept_digit_text() -> None:
    assert AddRecord.parse(sample_request(applicationId="134", chainId=" 7 ")).chain_id == 7


def test_phone_type_must_be_one_of_the_twelve() -> None:
    problems = problems_for(phoneType="Cell")
    assert "'Cell'" in problems["phoneType"] and "Mobile" in problems["phoneType"]


@pytest.mark.parametrize(("phone_type", "number", "ok"), [
    ("Mobile", "+44 20 7946-0018", True), ("Mobile", "5551234", True),
    ("Mobile", "call me", False), ("Mobile", "12", False), ("HomePhone", "jo@example.com", False),
    ("BusinessWithExt", "5551234x89", True), ("DirectBusinessPhone", "5551234x89", False),
    ("EmailAddress", "jo@example.com", True), ("EmailAddress", "5551234", False),
    ("InstantMessaging", "12345", True), ("InstantMessaging", "jo@im.example", True),
    ("InstantMessaging", "two words", False),
])
def test_phone_number_checked_by_phone_type(phone_type: str, number: str, ok: bool) -> None:
    changes = {"phoneType": phone_type, "phoneNumber": number}
    if ok:
        assert AddRecord.parse(sample_request(**changes)).phone_number == number
    else:
        problems = problems_for(**changes)
        assert number in problems["phoneNumber"]
        assert phone_type in problems["phoneNumber"] or "e-mail" in problems["phoneNumber"]


@pytest.mark.parametrize("bad", [["a"], {"nested": {"x": 1}}, {"flag": True}, {"": "x"}, "a=b"])
def test_other_fields_is_a_map_of_scalars(bad: Any) -> None:
    assert "otherFields" in problems_for(otherFields=bad)


def test_other_fields_kept_in_order_with_non_ascii() -> None:
    record = AddRecord.parse(sample_request(otherFields={"Nom": "Hélène", "Balance": 12.5}))
    assert list(record.body()["otherFields"].items()) == [("Nom", "Hélène"), ("Balance", 12.5)]


@pytest.mark.parametrize("bad", ["devices/x", "/device/x", "/devices/", "/devices/a b", 7])
def test_device_path_shape(bad: Any) -> None:
    assert "devicePath" in problems_for(devicePath=bad)


@pytest.mark.parametrize("bad", ["", "a b", "x" * 129, 12])
def test_reference_id_shape(bad: Any) -> None:
    assert "referenceId" in problems_for(referenceId=bad)


def test_missing_required_fields_are_all_named() -> None:
    problems = problems_for(campaignName=..., timeZone=..., devicePath=...)
    assert {"campaignName", "timeZone", "devicePath"} <= set(problems)
    assert all("required" in problems[f] for f in ("campaignName", "timeZone", "devicePath"))


def test_unknown_field_and_wrong_operation() -> None:
    problems = problems_for(phonenumber="1", operationName="UpdateRecord")
    assert "phonenumber" in problems and "no such AddRecord field" in problems["phonenumber"]
    assert "operationName" in problems


def test_blank_text_is_refused() -> None:
    problems = problems_for(campaignName="   ", timeZone="")
    assert {"campaignName", "timeZone"} <= set(problems)


def test_error_message_names_source_field_given_and_expected() -> None:
    with pytest.raises(RecordInvalid) as info:
        AddRecord.parse(sample_request(phoneType="Cell"), source="t.yaml")
    text = str(info.value)
    assert text.startswith("t.yaml: invalid AddRecord")
    assert "phoneType: got 'Cell'; expected one of" in text


def test_not_a_mapping() -> None:
    with pytest.raises(RecordInvalid):
        AddRecord.parse(["not", "a", "map"])  # type: ignore[arg-type]


def test_phone_problem_reported_together_with_other_problems() -> None:
    problems = problems_for(phoneNumber="call me", until="25:99")
    assert {"phoneNumber", "until"} <= set(problems)
