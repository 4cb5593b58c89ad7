"""Benchmark: microseconds per journal line, beside a same-run baseline doing the bare minimum.

    python bench/journal.py [--events N] [--rounds R] [--batch B]

Workloads, each timed for the journal and for its baseline, rounds alternating, median
reported:
- *events*: `Journal.write_event` of the two notifications of the documentation sample
  (OutboundRecordMessage and DeviceUserEventMessage, each event a fresh `Event`, referenceId
  and phone varying), with a target and the password to cut, as the engine writes them under
  a flood: inside a running event loop, the events of one Bayeux reply (B of them; B=1 too,
  one event per reply, where no write is shared) written one after the other, then the loop
  turns (`await asyncio.sleep(0)`, in both). Baseline: `json.dumps` of the same line's
  fields (a float timestamp) and one `os.write` per line, to a file on the same disk: no
  redaction, no password cut, no ISO time.
- *shared*: the same events with their data already encoded (`Event.data_json`, which
  `watch --json` shares with the journal): the journal's own cost. Baseline: one f-string
  line around the same `data_json` and one `os.write`.
- *records*: the request / response / verdict lines `replay` writes per record
  (`Journal.write`, each on disk before it returns). Same baseline as *events*.
The difference from the baseline is what the journal's guarantees cost: every credential key
redacted at any depth, the password cut from every line, the target on every line, an ISO
8601 UTC timestamp; the journal shares one write among the event lines of one reply, the
baseline writes each line on its own. Target (issue 15): journal <= 10 us per event. Both
wall-clock and CPU time (`time.process_time`) are printed: on a shared machine the CPU figure
is the steadier one.
"""

from __future__ import annotations

import argparse
import asyncio
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

from console.domain.events import Event  # noqa: E402
from console.domain.journal import Journal  # noqa: E402

PASSWORD = "bench-Passw0rd-7Qx"
URL = "https://gws.eu.example:8090"
TARGET = {"profile": "eu-prod", "url": URL, "user": "agent007",
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


def make_encoded_events(n: int) -> list[Event]:
    """As `make_events`, with each event's data already encoded (as `watch --json` does it)."""
    events = make_events(n)
    for event in events:
        assert event.data_json
    return events


def make_records(n: int) -> list[tuple[str, dict[str, Any]]]:
    """`n` lines, the three replay writes per record."""
    lines: list[tuple[str, dict[str, Any]]] = []
    for i in range(n // 3 + 1):
        ref = f"ref-{i:08d}"
        body = {**SAMPLE["request"], "referenceId": ref, "otherFields": {"Ticket": f"T-{i}"}}
        lines.append(("request", {"method": "POST", "path": "/api/v2/me/outbound-records",
                                  "url": URL + "/api/v2/me/outbound-records",
                                  "body": body}))
        lines.append(("response", {"referenceId": ref, "httpStatus": 200,
                                   "body": {"statusCode": 0}, "elapsedMs": 3.2}))
        lines.append(("verdict", {"referenceId": ref, "state": "acknowledged",
                                  "latencyMs": 4.1, "reason": ""}))
    return lines[:n]


Timing = tuple[float, float]


def _start() -> Timing:
    return time.perf_counter(), time.process_time()


def _since(start: Timing) -> Timing:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def in_loop(events: list[Event], batch: int, write: Callable[[Event], None],
            close: Callable[[], None]) -> Timing:
    """`write` each event inside a running event loop, `batch` events per turn of the loop
    (one Bayeux reply), then `close`: the time until every line is on disk."""

    async def feed() -> None:
        for first in range(0, len(events), batch):
            for event in events[first:first + batch]:
                write(event)
            await asyncio.sleep(0)  # the loop turns: the next reply

    started = _start()
    asyncio.run(feed())
    close()
    return _since(started)


def journal_events(path: Path, events: list[Event], batch: int) -> Timing:
    journal = Journal(path=path, secrets=(PASSWORD,), target=TARGET)

    def write(event: Event) -> None:
        journal.write_event(event, event.reference_id)

    return in_loop(events, batch, write, journal.close)


def bare_events(path: Path, events: list[Event], batch: int) -> Timing:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(event: Event) -> None:
        line = json.dumps({"ts": time.time(), "kind": "event", "seq": event.seq,
                           "channel": event.channel, "data": event.data,
                           "matched": event.reference_id, "target": TARGET},
                          ensure_ascii=False)
        os.write(fd, (line + "\n").encode("utf-8"))

    return in_loop(events, batch, write, lambda: os.close(fd))


def bare_encoded_events(path: Path, events: list[Event], batch: int) -> Timing:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    target = json.dumps(TARGET, ensure_ascii=False)

    def write(event: Event) -> None:
        line = (f'{{"ts": {time.time()}, "kind": "event", "seq": {event.seq}, "channel": '
                f'{json.dumps(event.channel)}, "data": {event.data_json}, "matched": '
                f'{json.dumps(event.reference_id)}, "target": {target}}}')
        os.write(fd, (line + "\n").encode("utf-8"))

    return in_loop(events, batch, write, lambda: os.close(fd))


def journal_records(path: Path, lines: list[tuple[str, dict[str, Any]]], _: int) -> Timing:
    journal = Journal(path=path, secrets=(PASSWORD,), target=TARGET)
    started = _start()
    for kind, fields in lines:
        journal.write(kind, **fields)
    elapsed = _since(started)
    journal.close()
    return elapsed


def bare_records(path: Path, lines: list[tuple[str, dict[str, Any]]], _: int) -> Timing:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    started = _start()
    for kind, fields in lines:
        line = json.dumps({"ts": time.time(), "kind": kind, **fields, "target": TARGET},
                          ensure_ascii=False)
        os.write(fd, (line + "\n").encode("utf-8"))
    elapsed = _since(started)
    os.close(fd)
    return elapsed


def measure(name: str, n: int, rounds: int, batch: int, make: Callable[[int], list[Any]],
            journal: Callable[[Path, list[Any], int], Timing],
            bare: Callable[[Path, list[Any], int], Timing], directory: Path) -> None:
    runs: dict[str, list[Timing]] = {"journal": [], "bare": []}
    for r in range(rounds):  # alternate, so a busy moment hurts both alike
        for which, run in (("journal", journal), ("bare", bare)):
            path = directory / f"{name}-{which}-{r}.jsonl"
            wall, cpu = run(path, make(n), batch)  # fresh objects: nothing cached before
            runs[which].append((wall * 1e6 / n, cpu * 1e6 / n))
            path.unlink()

    def median(which: str, i: int) -> float:
        return statistics.median(t[i] for t in runs[which])

    for i, clock in enumerate(("wall", "cpu")):
        j, b = median("journal", i), median("bare", i)
        print(f"{name:<11} {clock:<4}  journal {j:6.2f} us/line   baseline "
              f"{b:6.2f} us/line   x{j / b:.2f} of the baseline   (median of {rounds} rounds "
              f"of {n:,} lines; journal min {min(t[i] for t in runs['journal']):.2f}, bare min "
              f"{min(t[i] for t in runs['bare']):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=32,
                        help="events per Bayeux reply (per turn of the event loop)")
    args = parser.parse_args()
    print(__doc__.split("\n\n")[2].replace("\n", " ").strip())
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for batch in (1, args.batch):
            measure(f"events B={batch}", args.events, args.rounds, batch, make_events,
                    journal_events, bare_events, directory)
        measure(f"shared B={args.batch}", args.events, args.rounds, args.batch,
                make_encoded_events, journal_events, bare_encoded_events, directory)
        measure("records", args.events, args.rounds, 1, make_records, journal_records,
                bare_records, directory)


if __name__ == "__main__":
    main()
