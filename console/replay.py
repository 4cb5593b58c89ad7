"""Incident replay: send many records from templates, with a rate and a concurrency limit that
hold, and a verdict per record.

Defaults (also in the README): at most 10 records per second and 4 POSTs in flight. GWS passes
each AddRecord to OCS, which writes it to the calling list's database table; a mistaken
`--count 100000` must not turn into a flood. The limits can be raised, explicitly, to 5000/s
and 64 in flight.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from console.correlation import Tracked
from console.engine import Engine
from console.errors import RecordInvalid
from console.model import AddRecord
from console.rows import Row
from console.templates import Template, TemplateError

__all__ = ["Job", "Outcome", "Replay", "plan", "summarise", "DEFAULT_RATE",
           "DEFAULT_CONCURRENCY", "MAX_RATE", "MAX_CONCURRENCY", "TEMPLATE_COLUMN"]

DEFAULT_RATE = 10.0
DEFAULT_CONCURRENCY = 4
MAX_RATE = 5000.0
MAX_CONCURRENCY = 64
TEMPLATE_COLUMN = "_template"
State = Literal["acknowledged", "failed", "no_answer", "not_sent", "invalid", "unconfirmed"]


@dataclass
class Job:
    """One record to send."""

    seq: int
    """Its number in the run, from 1."""
    template: Template
    """Where its fields come from."""
    values: dict[str, Any]
    """Placeholder values (row + --set)."""
    record: AddRecord | None = None
    """The request, built before anything is sent (None when invalid)."""
    error: str = ""
    """Why it cannot be sent (template, row or field problem)."""
    source: str = ""
    """The row it came from (file:line), if any."""


@dataclass
class Outcome:
    """What happened to one job."""

    job: Job
    """The job."""
    state: State
    """acknowledged, failed, no_answer, not_sent, invalid, or unconfirmed (interrupted)."""
    reason: str = ""
    """Why it failed or was not sent."""
    latency_ms: float | None = None
    """POST start to acknowledgement."""
    http_status: int | None = None
    """HTTP status of the POST."""
    accepted: bool = False
    """GWS accepted the POST (HTTP 2xx, statusCode 0): re-sending could add it twice."""
    by_notification: bool = False
    """The failure came as an Error notification (not an HTTP/statusCode refusal)."""

    def as_json(self) -> dict[str, Any]:
        record = self.job.record
        return {"seq": self.job.seq, "template": self.job.template.name,
                "referenceId": record.reference_id if record else None, "state": self.state,
                "reason": self.reason, "latencyMs": None if self.latency_ms is None
                else round(self.latency_ms, 1), "httpStatus": self.http_status,
                "source": self.job.source or None}


def plan(templates: list[Template], rows: list[Row] | None, count: int,
         sets: dict[str, Any], device_path: str | None) -> list[Job]:
    """Every record of the run, built and checked before the first is sent."""
    jobs: list[Job] = []
    seq = 0
    for template in templates:
        if rows is not None:
            mine = [r for r in rows if r.get(TEMPLATE_COLUMN) in (None, "", template.name,
                                                                  str(template.path))]
            sources = [(dict(r), f"row {r.line}") for r in mine]
        else:
            sources = [({}, "") for _ in range(count)]
        for values, source in sources:
            seq += 1
            values.pop(TEMPLATE_COLUMN, None)
            values.pop("_seq", None)
            merged = {**values, **sets}
            job = Job(seq, template, merged, source=source)
            try:
                job.record = template.build(merged, seq, device_path)
            except TemplateError as exc:
                job.error = f"{source}: {exc}" if source else str(exc)
            except RecordInvalid as exc:
                detail = "; ".join(str(p) for p in exc.problems)
                job.error = f"{template.path or template.name} {source}: {detail}".strip()
            jobs.append(job)
    return jobs


class _Pacer:
    """A token bucket: on average `rate` per second, with a burst of at most 1% of a second's
    worth (at least 1), so a high rate does not cost a timer per record and a low one stays
    evenly spaced."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate / 100.0)
        self.tokens = 1.0
        self.last = time.monotonic()

    async def wait(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self.tokens) / self.rate)


class Replay:
    """Runs the jobs through an open Engine."""

    def __init__(self, engine: Engine, jobs: list[Job], *, rate: float = DEFAULT_RATE,
                 concurrency: int = DEFAULT_CONCURRENCY, timeout_s: float = 10.0,
                 on_outcome: Callable[[Outcome], None] | None = None) -> None:
        if not 0 < rate <= MAX_RATE:
            raise ValueError(f"--rate must be between 0 and {MAX_RATE:g} records/s")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
        self.engine = engine
        self.jobs = jobs
        self.rate = rate
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.on_outcome = on_outcome
        self.outcomes: dict[int, Outcome] = {}
        self.sent = 0
        self.started_at = 0.0
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        """Stop sending (Ctrl-C); what is in flight may still be acknowledged."""
        self._stopping.set()

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    async def run(self, grace_s: float = 5.0) -> list[Outcome]:
        self.started_at = time.monotonic()
        pacer = _Pacer(self.rate)
        slots = asyncio.Semaphore(self.concurrency)
        for job in self.jobs:
            if job.record is None:
                self._finish(Outcome(job, "invalid", job.error))
                continue
            if self.stopped:
                break
            if not self.engine.connected:
                # Deaf: an ack published now would be lost. Wait for the stream (or Ctrl-C).
                await self._until(self.engine.until_connected())
                if self.stopped:
                    break
            await pacer.wait()
            await self._acquire(slots)
            if self.stopped:
                slots.release()
                break
            task = asyncio.get_running_loop().create_task(self._one(job, slots))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._tasks:
            limit = min(grace_s, self.timeout_s) if self.stopped else None
            done, pending = await asyncio.wait(set(self._tasks), timeout=limit)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for job in self.jobs:
            if job.seq not in self.outcomes:
                self._finish(Outcome(job, "not_sent", "stopped before it was sent"))
        return [self.outcomes[job.seq] for job in self.jobs]

    async def _until(self, awaitable: Any) -> None:
        wait = asyncio.ensure_future(awaitable)
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({wait, stop}, return_when=asyncio.FIRST_COMPLETED)
        for future in (wait, stop):
            future.cancel()

    async def _acquire(self, slots: asyncio.Semaphore) -> None:
        if not slots.locked():
            await slots.acquire()  # a free slot: no need to race it against Ctrl-C
            return
        stop = asyncio.ensure_future(self._stopping.wait())
        take = asyncio.ensure_future(slots.acquire())
        done, _ = await asyncio.wait({stop, take}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if take not in done:
            take.cancel()
            try:
                await take
                slots.release()  # it got the slot as it was cancelled
            except asyncio.CancelledError:
                pass

    async def _one(self, job: Job, slots: asyncio.Semaphore) -> None:
        assert job.record is not None
        tracked: Tracked | None = None
        try:
            try:
                tracked = await self.engine.send(job.record)
                self.sent += 1
            finally:
                slots.release()  # the limit is on POSTs in flight; acks are awaited freely
            if tracked.state == "pending":
                await self.engine.wait(tracked, self.timeout_s)
            self._finish(_outcome(job, tracked))
        except asyncio.CancelledError:
            if tracked is not None:
                self._finish(Outcome(job, "unconfirmed", "interrupted while waiting for the "
                             "acknowledgement", http_status=tracked.http_status,
                             accepted=tracked.http_status is not None and tracked.http_status < 300))
            raise

    def _finish(self, outcome: Outcome) -> None:
        if outcome.job.seq in self.outcomes:
            return
        self.outcomes[outcome.job.seq] = outcome
        if self.on_outcome is not None:
            self.on_outcome(outcome)


def _outcome(job: Job, tracked: Tracked) -> Outcome:
    accepted = tracked.http_status is not None and 200 <= tracked.http_status < 300
    if tracked.state == "acknowledged":
        return Outcome(job, "acknowledged", tracked.reason, tracked.latency_ms,
                       tracked.http_status, True)
    if tracked.state == "no_answer":
        return Outcome(job, "no_answer", tracked.reason, None, tracked.http_status, accepted)
    return Outcome(job, "failed", tracked.reason, None, tracked.http_status, accepted,
                   by_notification=accepted)


@dataclass
class Summary:
    """The verdict table of a run."""

    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    elapsed_s: float = 0.0

    def rows(self) -> list[tuple[str, str]]:
        sent = sum(n for state, n in self.counts.items() if state not in ("not_sent", "invalid"))
        table = [("records", str(sum(self.counts.values()))), ("sent", str(sent))]
        for state in ("acknowledged", "failed", "no_answer", "unconfirmed", "not_sent",
                      "invalid"):
            if self.counts[state] or state in ("acknowledged", "failed", "no_answer"):
                table.append((state.replace("_", " "), str(self.counts[state])))
        if self.p50_ms is not None:
            table.append(("latency p50 / p95 / max",
                          f"{self.p50_ms:.0f} / {self.p95_ms:.0f} / {self.max_ms:.0f} ms"))
        return table


def summarise(outcomes: list[Outcome], elapsed_s: float = 0.0) -> Summary:
    summary = Summary(elapsed_s=elapsed_s)
    latencies: list[float] = []
    for outcome in outcomes:
        summary.counts[outcome.state] += 1
        if outcome.state == "acknowledged" and outcome.latency_ms is not None:
            latencies.append(outcome.latency_ms)
        elif outcome.state in ("failed", "no_answer", "invalid", "unconfirmed"):
            summary.reasons[_short(outcome.reason)] += 1
    if latencies:
        ordered = sorted(latencies)
        summary.p50_ms = statistics.median(ordered)
        summary.p95_ms = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        summary.max_ms = ordered[-1]
    return summary


def _short(reason: str) -> str:
    # Group by the part before the per-record detail (e.g. "AddRecord: GWS answered statusCode 6").
    return reason.split(" (HTTP")[0][:160]


def resume_rows(outcomes: list[Outcome]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows to resume with: (never accepted by GWS — safe to send again; accepted but
    unconfirmed — check before sending again)."""
    safe: list[dict[str, Any]] = []
    unsure: list[dict[str, Any]] = []
    for outcome in outcomes:
        if outcome.state in ("acknowledged", "invalid"):
            continue
        job = outcome.job
        row = {TEMPLATE_COLUMN: str(job.template.path or job.template.name), **job.values}
        if outcome.state == "not_sent" or not outcome.accepted:
            safe.append(row)
        else:
            unsure.append({**row, "_referenceId": job.record.reference_id if job.record else "",
                           "_state": outcome.state})
    return safe, unsure


def write_resume(outcomes: list[Outcome], stem: Path) -> list[Path]:
    from console.rows import write_rows

    safe, unsure = resume_rows(outcomes)
    written: list[Path] = []
    if safe:
        path = stem.with_name(stem.name + ".resume.csv")
        write_rows(path, safe)
        written.append(path)
    if unsure:
        path = stem.with_name(stem.name + ".unconfirmed.csv")
        write_rows(path, unsure)
        written.append(path)
    return written
