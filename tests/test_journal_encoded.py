"""The journal's two shortcuts of a replay — a field given as JSON text made already (a
record's body as posted) and many lines in one write (the plan) — write exactly the lines
`write` writes, with the same redaction; and the reused encoders behind them."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from console.domain.journal import Journal
from console.domain.jsontext import make_encoder
from console.domain.model import AddRecord

FIELDS = {"applicationId": 134, "campaignName": "Campaign1", "callingList": "CallingList1",
          "phoneNumber": "5551234", "timeZone": "GMT", "phoneType": "Mobile", "from": "08:00",
          "until": "20:00", "devicePath": "/devices/d1", "referenceId": "ref-1",
          "otherFields": {"Ticket": "T-1", "Grüße": "ü \u2028 \"q\""}}
TARGET = {"profile": "prod", "url": "https://gws.example", "user": "u", "production": True}


def lines_of(path: Path) -> list[dict[str, Any]]:
    # Split on newlines only: str.splitlines() also splits inside a string at U+2028.
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]


def without_ts(text: str) -> list[str]:
    """The lines with their timestamps blanked (two journals write at different moments)."""
    return [re.sub(r'^\{"ts": "[^"]*"', '{"ts": ""', line) for line in text.split("\n")]


def test_a_body_given_as_its_json_writes_the_line_write_writes(tmp_path: Path) -> None:
    record = AddRecord.parse(FIELDS)
    one, two = Journal(tmp_path / "a.jsonl", target=TARGET), \
        Journal(tmp_path / "b.jsonl", target=TARGET)
    one.write("request", method="POST", path="/p", url="u", body=record.body())
    two.write_encoded("request", "body", record.body_view(), record.body_json(),
                      method="POST", path="/p", url="u")
    one.close()
    two.close()
    a, b = (tmp_path / "a.jsonl").read_text("utf-8"), (tmp_path / "b.jsonl").read_text("utf-8")
    assert without_ts(a) == without_ts(b)
    [line] = lines_of(tmp_path / "b.jsonl")
    assert line["body"] == record.body() and line["target"] == TARGET
    assert list(line) == ["ts", "kind", "method", "path", "url", "body", "target"]


def test_a_body_with_a_credential_key_is_redacted_not_spliced(tmp_path: Path) -> None:
    record = AddRecord.parse({**FIELDS, "otherFields": {"ApiKey": "k-123", "Keep": "seen"}})
    path = tmp_path / "s.jsonl"
    journal = Journal(path, secrets=("hunter2",))
    journal.write_encoded("request", "body", record.body_view(), record.body_json(),
                          note="typed hunter2 here")
    journal.close()
    text = path.read_text("utf-8")
    assert "k-123" not in text and "hunter2" not in text and '"seen"' in text
    [line] = lines_of(path)
    assert line["body"]["otherFields"] == {"ApiKey": "[redacted]", "Keep": "seen"}
    assert line["note"] == "typed [redacted] here"
    # The record itself is untouched: it is what is posted.
    assert record.body()["otherFields"]["ApiKey"] == "k-123"


def test_the_password_is_cut_from_a_spliced_body_too(tmp_path: Path) -> None:
    record = AddRecord.parse({**FIELDS, "otherFields": {"Note": "pw hunter2 pasted"}})
    path = tmp_path / "p.jsonl"
    journal = Journal(path, secrets=("hunter2",))
    journal.write_encoded("request", "body", record.body_view(), record.body_json())
    journal.close()
    assert "hunter2" not in path.read_text("utf-8")
    assert lines_of(path)[0]["body"]["otherFields"]["Note"] == "pw [redacted] pasted"


def test_many_lines_are_the_lines_of_write_in_order(tmp_path: Path) -> None:
    rows = [{"run": "r1", "seq": n, "referenceId": f"ref-{n}", "row": {"phone": str(n)},
             "token": "t"} for n in range(1, 700)]  # more than one batch
    one, two = Journal(tmp_path / "a.jsonl", target=TARGET), \
        Journal(tmp_path / "b.jsonl", target=TARGET)
    for row in rows:
        one.write("planned", **row)
    two.write_many("planned", iter(rows))
    two.write_many("planned", [])  # nothing: no line
    a, b = (tmp_path / "a.jsonl").read_text("utf-8"), (tmp_path / "b.jsonl").read_text("utf-8")
    assert without_ts(a) == without_ts(b) and len(b.split("\n")) == 700
    assert [line["seq"] for line in lines_of(tmp_path / "b.jsonl")] == list(range(1, 700))
    assert "\"t\"" not in b  # the token field is redacted as write redacts it
    one.close()
    two.close()


def test_many_lines_are_on_disk_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    script = (
        "import os, signal\n"
        "from pathlib import Path\n"
        "from console.domain.journal import Journal\n"
        f"j = Journal(path=Path({str(path)!r}))\n"
        "j.write_many('planned', ({'n': n} for n in range(600)))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    assert proc.returncode == -9
    assert [line["n"] for line in lines_of(path)] == list(range(600))


@pytest.mark.parametrize("value", [{"a": [1, 2.5, -0.0, 1e300, 10**30, None, "ü"]}, [], "x"])
def test_the_strict_encoder_writes_what_json_dumps_writes(value: Any) -> None:
    strict = make_encoder(allow_nan=False)
    assert strict(value) == json.dumps(value, ensure_ascii=False, allow_nan=False)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_the_strict_encoder_refuses_what_json_cannot_carry(bad: float) -> None:
    strict = make_encoder(allow_nan=False)
    with pytest.raises(ValueError) as mine:
        strict({"x": [bad]})
    with pytest.raises(ValueError) as theirs:
        json.dumps({"x": [bad]}, allow_nan=False)
    assert str(mine.value) == str(theirs.value)
    assert make_encoder()({"x": bad}) == json.dumps({"x": bad})  # the default still allows


def test_a_body_with_a_float_that_slipped_past_is_refused_not_sent_as_nan() -> None:
    record = AddRecord.parse(FIELDS)
    object.__getattribute__(record, "other_fields")["Score"] = math.nan  # past validation
    with pytest.raises(ValueError):
        record.body_json()


def test_the_body_and_its_json_are_made_once_and_agree() -> None:
    record = AddRecord.parse(FIELDS)
    assert record.body_view() is record.body_view()
    assert record.body_json() is record.body_json()
    assert json.loads(record.body_json()) == record.body() == record.body_view()
    assert record.body() is not record.body_view()
    renewed = record.renewed()
    assert json.loads(renewed.body_json())["referenceId"] == renewed.reference_id != "ref-1"


def test_reference_ids_are_random_uuid4_hex() -> None:
    from console.domain.fields import new_reference_id

    seen = {new_reference_id() for _ in range(20000)}
    assert len(seen) == 20000
    for ref in list(seen)[:2000]:
        parsed = uuid.UUID(ref)
        assert re.fullmatch(r"[0-9a-f]{32}", ref) and parsed.hex == ref
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # Every one of the 122 random bits takes both values.
    ones = 0
    zeros = 0
    for ref in seen:
        n = int(ref, 16)
        ones |= n
        zeros |= ~n
    assert (ones & zeros) & ((1 << 128) - 1) == ~((0xF000 << 64) | (0xC000 << 48)) & \
        ((1 << 128) - 1)


@pytest.mark.parametrize("how", ["write", "write_encoded", "write_many"])
def test_a_failed_write_at_the_loops_turn_is_raised_by_the_next_line_of_any_kind(
        tmp_path: Path, how: str) -> None:
    """The event lines' write failed in a loop callback (nobody to raise to): the next line,
    whichever way it is written, raises it, although its own write would succeed."""
    import asyncio
    import errno

    from console.domain.events import Event

    journal = Journal(tmp_path / "f.jsonl")
    real_put = journal._put
    failures = [OSError(errno.ENOSPC, "No space left on device")]

    def put(text: str) -> None:
        if failures:
            raise failures.pop()
        real_put(text)

    journal._put = put  # type: ignore[method-assign]
    record = AddRecord.parse(FIELDS)

    async def main() -> None:
        journal.write_event(Event("/v2/me/outbound", {"n": 1}, 1.0, 1), None)
        await asyncio.sleep(0)
        with pytest.raises(OSError) as later:
            if how == "write":
                journal.write("verdict", state="x")
            elif how == "write_encoded":
                journal.write_encoded("request", "body", record.body_view(), record.body_json())
            else:
                journal.write_many("planned", [{"n": 1}])
        assert later.value.errno == errno.ENOSPC
        journal.write("verdict", state="after")  # raised once, then writing goes on

    asyncio.run(main())
    journal.close()
    assert [line.get("state") for line in lines_of(tmp_path / "f.jsonl")] == ["after"]


def test_a_body_too_deep_to_check_is_not_written_spliced(tmp_path: Path) -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = {"x": deep}
    path = tmp_path / "d.jsonl"
    journal = Journal(path)
    journal.write_encoded("request", "body", deep, '{"x": "whatever the caller encoded"}')
    journal.close()
    [line] = lines_of(path)
    assert "whatever" not in path.read_text("utf-8")
    assert "unwritten" in line or "unwritten" in json.dumps(line)


def test_many_lines_go_out_in_batches_not_one_write_each_nor_one_huge_write(
        tmp_path: Path) -> None:
    from console.domain import journal as module

    journal = Journal(tmp_path / "b.jsonl")
    sizes: list[int] = []
    real_put = journal._put
    journal._put = lambda text: (sizes.append(text.count("\n")), real_put(text))[1]  # type: ignore[method-assign]
    journal.write_many("planned", ({"n": n} for n in range(2 * module._BATCH + 1)))
    assert sizes == [module._BATCH, module._BATCH, 1]
    journal.close()
