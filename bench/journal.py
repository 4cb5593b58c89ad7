"""Benchmark: microseconds per journal line, beside a same-run baseline doing the bare minimum.

    python bench/journal.py [--events N] [--rounds R]

Two workloads, each timed for the journal and for its baseline, rounds alternating, median
reported:
- *events*: `Journal.write_event` of the two notifications of the documentation sample
  (OutboundRecordMessage and DeviceUserEventMessage, each event a fresh `Event`, referenceId
  and phone varying), with a target and the password to cut, as the engine writes them under
  a flood. Baseline: `json.dumps` of the same line's fields (a float timestamp) and one
  `os.write` per line, to a file on the same disk: no redaction, no password cut, no ISO time.
- *records*: the request / response / verdict lines `replay` writes per record
  (`Journal.write`). Same baseline.
The difference from the baseline is what the journal's guarantees cost: every credential key
redacted at any depth, the password cut from every line, the target on every line, an ISO
8601 UTC timestamp. Target (issue 15): journal <= 10 us per event.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.events import Event  # noqa: E402
from console.journal import Journal  # noqa: E402

PASSWORD = "bench-Passw0rd-7Qx"
TARGET = {"profile": "eu-prod", "url": "https://gws.eu.example:8090", "user": "agent007",
          "simulator": False, "environment": "production"}
SAMPLE = json.loads((ROOT / "tests" / "data" / "create-record-sample.json").read_text())


def make_events(n: int) -> list[Event]:
    """`n` fresh events (no cached JSON), alternating the sample's two notifications."""
    events: list[Event] = []
    ack, user = (note["data"] for note in SAMPLE["notifications"])
    for i in range(n):
        if i % 2 == 0:
            data = {**ack, "referenceId": f"ref-{i:08d}", "record": dict(ack["record"])}
            channel = "/v2/me/outbound"
        else:
            data = {**user, "userData": {**user["userData"], "GSW_PHONE": f"555{i:07d}"},
                    "metrics": user["metrics"]}
            channel = "/me/internal"
        events.append(Event(channel, data, time.time(), seq=i + 1))
    return events


def make_records(n: int) -> list[tuple[str, dict[str, Any]]]:
    """`n` lines, the three replay writes per record."""
    lines: list[tuple[str, dict[str, Any]]] = []
    for i in range(n // 3 + 1):
        ref = f"ref-{i:08d}"
        body = {**SAMPLE["request"], "referenceId": ref, "otherFields": {"Ticket": f"T-{i}"}}
        lines.append(("request", {"method": "POST", "path": "/api/v2/me/outbound-records",
                                  "url": TARGET["url"] + "/api/v2/me/outbound-records",
                                  "body": body}))
        lines.append(("response", {"referenceId": ref, "httpStatus": 200,
                                   "body": {"statusCode": 0}, "elapsedMs": 3.2}))
        lines.append(("verdict", {"referenceId": ref, "state": "acknowledged",
                                  "latencyMs": 4.1, "reason": ""}))
    return lines[:n]


def journal_events(path: Path, events: list[Event]) -> float:
    journal = Journal(path=path, secrets=(PASSWORD,), target=TARGET)
    started = time.perf_counter()
    for event in events:
        journal.write_event(event, event.reference_id)
    elapsed = time.perf_counter() - started
    journal.close()
    return elapsed


def bare_events(path: Path, events: list[Event]) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    started = time.perf_counter()
    for event in events:
        line = json.dumps({"ts": time.time(), "kind": "event", "seq": event.seq,
                           "channel": event.channel, "data": event.data,
                           "matched": event.reference_id, "target": TARGET},
                          ensure_ascii=False)
        os.write(fd, (line + "\n").encode("utf-8"))
    elapsed = time.perf_counter() - started
    os.close(fd)
    return elapsed


def journal_records(path: Path, lines: list[tuple[str, dict[str, Any]]]) -> float:
    journal = Journal(path=path, secrets=(PASSWORD,), target=TARGET)
    started = time.perf_counter()
    for kind, fields in lines:
        journal.write(kind, **fields)
    elapsed = time.perf_counter() - started
    journal.close()
    return elapsed


def bare_records(path: Path, lines: list[tuple[str, dict[str, Any]]]) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    started = time.perf_counter()
    for kind, fields in lines:
        line = json.dumps({"ts": time.time(), "kind": kind, **fields, "target": TARGET},
                          ensure_ascii=False)
        os.write(fd, (line + "\n").encode("utf-8"))
    elapsed = time.perf_counter() - started
    os.close(fd)
    return elapsed


def measure(name: str, n: int, rounds: int, make: Callable[[int], list[Any]],
            journal: Callable[[Path, list[Any]], float],
            bare: Callable[[Path, list[Any]], float], directory: Path) -> None:
    ours: list[float] = []
    theirs: list[float] = []
    for r in range(rounds):  # alternate, so a busy moment hurts both alike
        for which, run in (("journal", journal), ("bare", bare)):
            path = directory / f"{name}-{which}-{r}.jsonl"
            elapsed = run(path, make(n))  # fresh objects: nothing cached from a previous run
            (ours if which == "journal" else theirs).append(elapsed * 1e6 / n)
            path.unlink()
    j, b = statistics.median(ours), statistics.median(theirs)
    print(f"{name:<8} journal {j:6.2f} us/line   bare json.dumps+os.write {b:6.2f} us/line   "
          f"x{j / b:.2f} of the baseline   (median of {rounds} rounds of {n:,} lines; "
          f"journal min {min(ours):.2f}, bare min {min(theirs):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(__doc__.split("\n\n")[2].replace("\n", " ").strip())
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        measure("events", args.events, args.rounds, make_events, journal_events, bare_events,
                directory)
        measure("records", args.events, args.rounds, make_records, journal_records, bare_records,
                directory)


if __name__ == "__main__":
    main()
