"""`rebuild_from_journal` to the letter: after a kill -9, the journal alone decides which
records GWS surely never had (resume: safe to send again) and which it may have (unconfirmed:
check first). Unknown is never refused: only a record whose POST was refused or never
delivered, or never sent at all, is safe to re-send."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from console.app.replay import ReplayInputError, rebuild_from_journal

TARGET = {"profile": "prod", "url": "https://gws.example:8090", "user": "agent007"}


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in a folder of the test's own: a run whose folder is unknown writes to the current
    one (and a planted bug must not litter the repository)."""
    monkeypatch.chdir(tmp_path)


class JournalFile:
    """Lines as the console writes them (only the fields the rebuild reads, plus noise)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[str] = []

    def add(self, kind: str, **fields: Any) -> JournalFile:
        self.lines.append(json.dumps({"ts": "2026-11-27T12:00:00.000+00:00", "kind": kind,
                                      **fields, "target": TARGET}))
        return self

    def start(self, run: str, resume_dir: Path | None = None) -> JournalFile:
        return self.add("replay", run=run, event="start", planned=0,
                        resumeDir=str(resume_dir) if resume_dir else None)

    def end(self, run: str) -> JournalFile:
        return self.add("replay", run=run, event="end", stopped=False)

    def planned(self, run: str, ref: str, seq: int) -> JournalFile:
        return self.add("planned", run=run, seq=seq, referenceId=ref,
                        row={"_template": "/t/cb.yaml", "_seq": seq, "phone": f"555{seq:04d}"})

    def request(self, ref: str) -> JournalFile:
        return self.add("request", method="POST", path="/api/v2/me/outbound-records",
                        body={"operationName": "AddRecord", "referenceId": ref})

    def response(self, ref: str, outcome: str, **more: Any) -> JournalFile:
        return self.add("response", referenceId=ref, outcome=outcome, **more)

    def verdict(self, ref: str, state: str, post: str | None, reason: str = "") -> JournalFile:
        return self.add("verdict", referenceId=ref, state=state, post=post, reason=reason)

    def raw(self, text: str) -> JournalFile:
        self.lines.append(text)
        return self

    def save(self) -> Path:
        self.path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return self.path


def rows(path: Path | None) -> list[dict[str, str]]:
    assert path is not None
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_each_fate_goes_where_it_belongs(tmp_path: Path) -> None:
    j = JournalFile(tmp_path / "j.jsonl").start("r1", tmp_path / "run")
    fates = {
        # never requested: GWS never had it
        "never": lambda ref: None,
        # acknowledged: done, in no file
        "acked": lambda ref: j.request(ref).response(ref, "accepted").verdict(
            ref, "acknowledged", "accepted"),
        # refused by GWS (HTTP answer) or never delivered: safe to send again
        "refused": lambda ref: j.request(ref).response(ref, "refused").verdict(
            ref, "failed", "refused", "statusCode 6"),
        "undelivered": lambda ref: j.request(ref).response(ref, "not_delivered").verdict(
            ref, "failed", "not_delivered", "connection refused"),
        # failed by an Error notification after GWS accepted the POST: it may be there
        "notified": lambda ref: j.request(ref).response(ref, "accepted").verdict(
            ref, "failed", "accepted", "OCS error 1"),
        "no_answer": lambda ref: j.request(ref).response(ref, "accepted").verdict(
            ref, "no_answer", "accepted", "no acknowledgement within 10 s"),
        "unknown": lambda ref: j.request(ref).response(ref, "unknown").verdict(
            ref, "unknown", "unknown", "reset while reading the reply"),
        # killed before the verdict
        "resp_refused": lambda ref: j.request(ref).response(ref, "refused", error="HTTP 400"),
        "resp_undelivered": lambda ref: j.request(ref).response(ref, "not_delivered",
                                                                error="DNS"),
        "resp_accepted": lambda ref: j.request(ref).response(ref, "accepted"),
        "resp_unknown": lambda ref: j.request(ref).response(ref, "unknown", error="timeout"),
        "request_only": lambda ref: j.request(ref),
        # a verdict without post: the response's outcome decides
        "verdict_no_post": lambda ref: j.request(ref).response(ref, "refused").verdict(
            ref, "failed", None, "statusCode 2"),
    }
    for seq, name in enumerate(fates, 1):
        j.planned("r1", name, seq)
    for name, fate in fates.items():
        fate(name)
    rebuilt = rebuild_from_journal(j.save())
    assert rebuilt.run_id == "r1" and rebuilt.target == TARGET and not rebuilt.ended
    assert rebuilt.planned == len(fates) and rebuilt.sent == len(fates) - 1
    safe = {r["phone"]: r for r in rows(rebuilt.resume_file)}
    unsure = {r["_referenceId"]: r for r in rows(rebuilt.unconfirmed_file)}
    seq_of = {name: seq for seq, name in enumerate(fates, 1)}
    assert set(safe) == {f"555{seq_of[n]:04d}" for n in (
        "never", "refused", "undelivered", "resp_refused", "resp_undelivered",
        "verdict_no_post")}
    assert set(unsure) == {"notified", "no_answer", "unknown", "resp_accepted",
                           "resp_unknown", "request_only"}
    assert rebuilt.counts == Counter({"resume": 6, "unconfirmed": 6, "acknowledged": 1})
    # The resume rows are the planned rows as they were (what `replay --resume` reads), with
    # the target they were going to (which `replay --resume` holds them to).
    assert safe["5550001"] == {"_target": "prod | agent007 | https://gws.example:8090",
                               "_template": "/t/cb.yaml", "_seq": "1", "phone": "5550001"}
    # Each unconfirmed row says its state and why.
    assert {ref: (r["_state"], r["_reason"]) for ref, r in unsure.items()} == {
        "notified": ("failed", "OCS error 1"),
        "no_answer": ("no_answer", "no acknowledgement within 10 s"),
        "unknown": ("unknown", "reset while reading the reply"),
        "resp_accepted": ("unconfirmed", "accepted by GWS; the run ended before its "
                          "acknowledgement (check before re-sending)"),
        "resp_unknown": ("unknown", "sent; the run ended before GWS answered: GWS may have "
                         "accepted it (check before re-sending)"),
        "request_only": ("unknown", "sent; the run ended before GWS answered: GWS may have "
                         "accepted it (check before re-sending)"),
    }
    assert unsure["no_answer"]["phone"] == f"555{seq_of['no_answer']:04d}"
    # The files go to the folder the run used (its start line), named by the run.
    assert rebuilt.resume_file == tmp_path / "run" / "replay-r1.resume.csv"
    assert rebuilt.unconfirmed_file == tmp_path / "run" / "replay-r1.unconfirmed.csv"


def test_the_last_run_by_default_another_by_its_id_and_the_folder_asked_for(
        tmp_path: Path) -> None:
    j = JournalFile(tmp_path / "j.jsonl")
    j.start("old", tmp_path / "old").planned("old", "a", 1).request("a").end("old")
    j.start("new", tmp_path / "new").planned("new", "b", 1).planned("new", "c", 2)
    j.request("b").response("b", "accepted").verdict("b", "acknowledged", "accepted")
    path = j.save()
    last = rebuild_from_journal(path)
    assert last.run_id == "new" and last.planned == 2 and last.sent == 1
    assert last.counts == Counter({"acknowledged": 1, "resume": 1})
    assert last.unconfirmed_file is None and last.resume_file is not None
    assert [r["phone"] for r in rows(last.resume_file)] == ["5550002"]
    older = rebuild_from_journal(path, resume_dir=tmp_path / "here", run_id="old")
    assert older.run_id == "old" and older.ended and older.sent == 1
    assert older.resume_file is None
    assert older.unconfirmed_file == tmp_path / "here" / "replay-old.unconfirmed.csv"
    assert [r["_referenceId"] for r in rows(older.unconfirmed_file)] == ["a"]


def test_a_run_with_nothing_left_writes_no_file(tmp_path: Path) -> None:
    j = JournalFile(tmp_path / "j.jsonl").start("r", tmp_path)
    j.planned("r", "a", 1).request("a").verdict("a", "acknowledged", "accepted")
    rebuilt = rebuild_from_journal(j.save())
    assert rebuilt.resume_file is None and rebuilt.unconfirmed_file is None
    assert not list(tmp_path.glob("*.csv"))


def test_a_run_without_its_folder_writes_to_the_current_one(tmp_path: Path) -> None:
    j = JournalFile(tmp_path / "j.jsonl").start("r").planned("r", "a", 1)
    rebuilt = rebuild_from_journal(j.save())
    assert rebuilt.resume_file == Path(".") / "replay-r.resume.csv"
    assert (tmp_path / "replay-r.resume.csv").exists()


def test_lines_cut_by_the_kill_foreign_lines_and_other_runs_are_passed_over(
        tmp_path: Path) -> None:
    j = JournalFile(tmp_path / "j.jsonl").start("r", tmp_path)
    j.planned("r", "a", 1).planned("ghost", "g", 1)  # a planned line of a run never started
    j.raw("[1, 2]").raw('"text"').raw("{not json").raw("")
    j.add("event", seq=1, data={"referenceId": "a"})  # events do not decide
    j.add("request", body="not a body").add("request", body={"referenceId": 7})
    j.add("verdict", referenceId=None, state="acknowledged")
    j.request("a").raw('{"ts": "2026-11-27T12:00:01', )  # the kill cut this line
    rebuilt = rebuild_from_journal(j.save())
    assert rebuilt.planned == 1 and rebuilt.sent == 1
    assert rebuilt.counts == Counter({"unconfirmed": 1})
    [row] = rows(rebuilt.unconfirmed_file)
    assert row["_referenceId"] == "a" and row["_state"] == "unknown"


def test_what_cannot_be_rebuilt_is_said_with_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.jsonl"
    with pytest.raises(ReplayInputError, match=f"{missing}: cannot read: No such file"):
        rebuild_from_journal(missing)
    empty = JournalFile(tmp_path / "e.jsonl").add("session", url="u").save()
    with pytest.raises(ReplayInputError, match=f"^{empty}: no replay in this journal$"):
        rebuild_from_journal(empty)
    two = JournalFile(tmp_path / "t.jsonl").start("r1").start("r2").save()
    with pytest.raises(ReplayInputError) as info:
        rebuild_from_journal(two, run_id="r3")
    assert str(info.value) == f"{two}: no replay 'r3' (replays there: r1, r2)"
    # A run named twice (a start and an end) is listed once.
    again = JournalFile(tmp_path / "a.jsonl").start("r1").end("r1").save()
    with pytest.raises(ReplayInputError, match=r"\(replays there: r1\)$"):
        rebuild_from_journal(again, run_id="x")
