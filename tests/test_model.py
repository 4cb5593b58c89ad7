"""The AddRecord model: every field's rules, and the exact documented body."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from console.domain.model import (
    PHONE_TYPES,
    AddRecord,
    format_time_of_day,
    parse_time_of_day,
)
from console.errors import RecordInvalid
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
        assert problems["phoneNumber"].endswith(f"(phoneType {phone_type})")


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


# -- what GWS can carry and store: strict JSON, 32-bit DBIDs, UTF-8 text, bounded sizes --------
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_other_fields_refuse_nan_and_infinity(bad: float) -> None:
    problems = problems_for(otherFields={"Balance": bad})
    assert "Balance: a finite number or text" in problems["otherFields"]


def test_the_body_is_strict_json_even_if_validation_is_bypassed() -> None:
    record = AddRecord.parse(sample_request(otherFields={"Balance": 12.5}))
    assert json.loads(record.body_json()) == record.body()
    slipped = dataclasses.replace(record, other_fields={"Balance": float("nan")})
    with pytest.raises(ValueError, match="not JSON compliant"):
        slipped.body_json()


@pytest.mark.parametrize("field", ["applicationId", "chainId"])
def test_ids_are_32_bit_dbids(field: str) -> None:
    assert AddRecord.parse(sample_request(**{field: 2**31 - 1})).body()[field] == 2147483647
    for bad in (2**31, 2**64, "2147483648", "99999999999999999999", 10**5000):
        problems = problems_for(**{field: bad})
        assert "0..2147483647" in problems[field] and "32-bit" in problems[field]
        assert len(problems[field]) < 300  # a 5000-digit number is summarised, not printed


def test_other_fields_integers_fit_a_long() -> None:
    assert AddRecord.parse(sample_request(otherFields={"n": 2**63 - 1})).other_fields
    problems = problems_for(otherFields={"n": 10**5000})
    assert "n: a whole number within" in problems["otherFields"]


@pytest.mark.parametrize(("field", "value"), [
    ("campaignName", "Camp\ud800"), ("callingList", "\udfffList"), ("timeZone", "GMT\ud83d"),
    ("phoneNumber", "555\ud800"), ("devicePath", "/devices/\ud800"), ("referenceId", "r\udc00"),
    ("otherFields", {"a": "\ud800"}), ("otherFields", {"\ud800": "a"}),
])
def test_lone_surrogates_are_refused_in_words_that_print(field: str, value: Any) -> None:
    with pytest.raises(RecordInvalid) as info:
        AddRecord.parse(sample_request(**{field: value}))
    text = str(info.value)
    text.encode("utf-8")  # the message itself is printable (repr escapes the surrogate)
    assert f"{field}: got" in text and "half a UTF-16 surrogate pair" in text, text


def test_a_real_non_bmp_character_is_fine() -> None:
    record = AddRecord.parse(sample_request(otherFields={"Note": "call back \U0001f4de"}))
    assert "\U0001f4de" in record.body_json()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("campaignName", "C" * 256, "at most 255 characters (got 256)"),
    ("otherFields", {"Note": "n" * 4001}, "Note: text of at most 4000 characters (got 4,001)"),
    ("otherFields", {"k" * 256: "v"}, "at most 255 characters"),
    ("phoneNumber", "5" * 30_000_000, "(30,000,000 characters)"),
])
def test_huge_text_is_refused_with_a_short_message(field: str, value: Any, words: str) -> None:
    with pytest.raises(RecordInvalid) as info:
        AddRecord.parse(sample_request(**{field: value}))
    assert words in str(info.value) and len(str(info.value)) < 1000


def test_values_checked_before_give_the_same_answer_again_field_by_field() -> None:
    """The checks remember plain values that passed (a replay repeats them): a record parsed
    again is the same, a bad value is refused every time, and a value good for one field is
    no good for another because it was seen there."""
    first = AddRecord.parse(sample_request(campaignName="  Campaign 9 ", applicationId="134"))
    again = AddRecord.parse(sample_request(campaignName="  Campaign 9 ", applicationId="134"))
    assert first == again and first.campaign_name == "Campaign 9"
    assert first.application_id == 134 and type(first.application_id) is int
    for _ in range(2):
        assert set(problems_for(**{"from": "25:00"})) == {"from"}
        assert set(problems_for(applicationId=True)) == {"applicationId"}
        assert set(problems_for(applicationId=1.0)) == {"applicationId"}
    # "Mobile" and "5551234" pass as text in campaignName; not as a device path.
    AddRecord.parse(sample_request(campaignName="Mobile", callingList="/devices/x y"))
    assert set(problems_for(devicePath="/devices/x y")) == {"devicePath"}
    # 1 passed as applicationId; True (equal to 1 in Python) still fails, "1" still passes.
    assert AddRecord.parse(sample_request(applicationId=1)).application_id == 1
    assert set(problems_for(applicationId=True)) == {"applicationId"}
    assert AddRecord.parse(sample_request(applicationId="1")).application_id == 1


def test_the_memory_of_checked_values_is_bounded() -> None:
    from console.domain import model

    largest = 0
    for n in range(model._CHECKED_MAX + 10):
        AddRecord.parse(sample_request(phoneNumber=f"555{n:07d}"))
        largest = max(largest, len(model._CHECKED))
    assert largest == model._CHECKED_MAX


def test_the_body_given_out_is_a_copy_all_the_way_down() -> None:
    record = AddRecord.parse(sample_request(otherFields={"Ticket": "T-1"}))
    body = record.body()
    body["otherFields"]["Ticket"] = "changed"
    body["phoneNumber"] = "0"
    assert record.body()["otherFields"] == {"Ticket": "T-1"}
    assert json.loads(record.body_json())["otherFields"] == {"Ticket": "T-1"}
    assert record.body_view()["phoneNumber"] != "0"


@pytest.mark.parametrize("field, value", [
    ("callingList", "CallingList1\rX"),  # a Windows paste, or a CSV cell with a stray CR
    ("campaignName", "Campaign\x1b[2J1"),
    ("phoneNumber", "555\x001234"),
    ("timeZone", "GMT\x9b"),
])
def test_a_control_character_in_a_text_field_is_refused_naming_it(field: str,
                                                                    value: str) -> None:
    """Found by a newcomer: a `\\r` in callingList was accepted and sent (GWS would store it),
    and the server's answer quoting it rewrote the terminal line."""
    with pytest.raises(RecordInvalid) as caught:
        AddRecord.parse({**sample_request(), field: value})
    text = str(caught.value)
    assert field in text and "without control characters" in text and "retype it" in text


def test_a_control_character_in_an_other_field_name_is_refused() -> None:
    with pytest.raises(RecordInvalid, match="field names without control characters"):
        AddRecord.parse({**sample_request(), "otherFields": {"Tic\rket": "1"}})
    # A value may hold tabs and line breaks (free text, a CSV cell's CRLF): kept as given...
    record = AddRecord.parse({**sample_request(), "otherFields": {"Note": "a\tb\r\nc"}})
    assert record.body()["otherFields"]["Note"] == "a\tb\r\nc"
    # ...but no other control character (an ESC from a terminal paste would be stored).
    with pytest.raises(RecordInvalid, match="Note: text without control characters other"):
        AddRecord.parse({**sample_request(), "otherFields": {"Note": "a\x1b[31mb"}})
