"""Incident replay: send many records from templates, with a rate and a concurrency limit that
hold, and a verdict per record.

Defaults (also in the README): at most 10 records per second and 4 POSTs in flight. GWS passes
each AddRecord to OCS, which writes it to the calling list's database table; a mistaken
`--count 100000` must not turn into a flood. The limits can be raised, explicitly, to 5000/s
and 64 in flight.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from console.domain.correlation import Tracked
from console.domain.journal import JournalError
from console.domain.model import AddRecord
from console.domain.rows import Row
from console.domain.templates import Template, TemplateError, unused_names
from console.errors import DuplicateReference, RecordInvalid
from console.gws.connection import REFUSED_LOGINS_AT_ONCE, refused_logins
from console.gws.engine import Engine

log = logging.getLogger(__name__)

__all__ = ["Job", "Outcome", "Plan", "Replay", "plan", "make_plan", "summarise", "resume_rows",
           "write_resume", "DEFAULT_RATE", "DEFAULT_CONCURRENCY", "MAX_RATE", "MAX_CONCURRENCY",
           "TEMPLATE_COLUMN", "SEQ_COLUMN", "TARGET_COLUMN", "MISSING_COLUMN", "META_COLUMNS",
           "SAFE_STATES"]

DEFAULT_RATE = 10.0
DEFAULT_CONCURRENCY = 4
MAX_RATE = 5000.0
MAX_CONCURRENCY = 64
TEMPLATE_COLUMN = "_template"
SEQ_COLUMN = "_seq"
#: Where the records were going (`profile | user | url`, see console.app.replay.target_cell):
#: a resume file is refused by a replay to any other target.
TARGET_COLUMN = "_target"
#: Columns whose values a file rebuilt from the journal lacks (the journal redacted them):
#: such a row is refused until they are filled in.
MISSING_COLUMN = "_missing"
#: Columns the console writes into resume/unconfirmed files; not placeholder values.
META_COLUMNS = frozenset({TEMPLATE_COLUMN, SEQ_COLUMN, TARGET_COLUMN, MISSING_COLUMN,
                          "_referenceId", "_state", "_reason"})
State = Literal["acknowledged", "failed", "no_answer", "unknown", "not_delivered", "not_sent",
                "invalid", "unconfirmed"]
#: Outcomes GWS surely never had: sending them again cannot add anything twice.
SAFE_STATES = frozenset({"not_sent", "not_delivered"})


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
    number: int | None = None
    """`${seq}` for it: its number in the run it was first planned in (a resume file's
    `_seq`), else `seq`."""


@dataclass
class Outcome:
    """What happened to one job."""

    job: Job
    """The job."""
    state: State
    """acknowledged; failed (refused by GWS, or an Error notification: `by_notification`);
    no_answer (accepted, no acknowledgement); unknown (POST sent, reply lost, no
    acknowledgement); not_delivered (the POST never left); not_sent; invalid; unconfirmed
    (stopped while waiting for its acknowledgement)."""
    reason: str = ""
    """Why it failed or was not sent."""
    latency_ms: float | None = None
    """POST start to acknowledgement."""
    http_status: int | None = None
    """HTTP status of the POST."""
    accepted: bool = False
    """GWS may have the record (it accepted the POST, or the POST's outcome is unknown):
    sending it again could add it twice."""
    by_notification: bool = False
    """The failure came as an Error notification (not an HTTP/statusCode refusal)."""
    ocs_error: tuple[str, Any] | None = None
    """OCS's refusal as it sent it: (GSW_ERROR, GSW_ERROR_NUMBER), when it came from OCS."""

    def as_json(self) -> dict[str, Any]:
        record = self.job.record
        line = {"seq": self.job.seq, "template": self.job.template.name,
                "referenceId": record.reference_id if record else None, "state": self.state,
                "reason": self.reason, "latencyMs": None if self.latency_ms is None
                else round(self.latency_ms, 1), "httpStatus": self.http_status,
                "source": self.job.source or None}
        if self.ocs_error is not None:
            line["ocsError"] = {"GSW_ERROR": self.ocs_error[0],
                                "GSW_ERROR_NUMBER": self.ocs_error[1]}
        return line

    @property
    def safe_to_resend(self) -> bool:
        """GWS surely never had it: not sent, not delivered, or refused in a reply."""
        return self.state in SAFE_STATES or (self.state == "failed" and not self.accepted)


@dataclass
class Plan:
    """Every record of a run, built and checked before the first is sent."""

    jobs: list[Job]
    """The records, in sending order."""
    problems: list[str] = field(default_factory=list)
    """Why nothing may be sent: unused --set names or columns, a referenceId shared by several
    records, invalid records (each naming its file and line)."""

    @property
    def ok(self) -> bool:
        return not self.problems


def plan(templates: list[Template], rows: list[Row] | None, count: int,
         sets: dict[str, Any], device_path: str | None) -> list[Job]:
    """The jobs of `make_plan` (a job that cannot be built carries its error)."""
    return make_plan(templates, rows, count, sets, device_path).jobs


def make_plan(templates: list[Template], rows: list[Row] | None, count: int,
              sets: dict[str, Any], device_path: str | None) -> Plan:
    """Every record of the run, built and checked before the first is sent: `count` records
    per template, or one per row (a row with a `_template` column goes to that template, one
    without to each template). Nothing typed is dropped: a --set name or a column that no
    template uses is a problem, as is a referenceId that several records would share."""
    problems: list[str] = []
    unused = unused_names(sets, templates)
    if unused:
        problems.append("--set " + ", ".join(unused) + " is used by no placeholder of "
                        f"{_names(templates)} and is no AddRecord field")
    by_template = _rows_by_template(templates, rows, problems) if rows is not None else None
    if rows is not None and by_template is not None:
        _check_columns(templates, rows, by_template, problems)
    jobs: list[Job] = []
    seq = 0
    for index, template in enumerate(templates):
        if by_template is not None:
            sources = [(row, _where(row)) for row in by_template[index]]
        else:
            sources = [(Row(), "") for _ in range(count)]
        for row, source in sources:
            seq += 1
            values = {k: v for k, v in row.items() if k not in META_COLUMNS}
            merged = {**values, **sets}
            number = _seq_of(row, source, problems)
            job = Job(seq, template, merged, source=source, number=number)
            try:
                job.record = template.build(merged, number or seq, device_path)
            except TemplateError as exc:
                job.error = f"{source}: {exc}" if source else str(exc)
            except RecordInvalid as exc:
                detail = "; ".join(str(p) for p in exc.problems)
                origin = source or str(template.path or template.name)
                job.error = f"{origin}: {detail} (template {template.name})"
            jobs.append(job)
    problems.extend(job.error for job in jobs if job.error)
    problems.extend(_shared_references(jobs))
    return Plan(jobs, problems)


def _names(templates: list[Template]) -> str:
    return "template " + ", ".join(t.name for t in templates)


def _where(row: Row) -> str:
    return f"{row.path or 'rows'}:{row.line}"


def _seq_of(row: Row, source: str, problems: list[str]) -> int | None:
    raw = row.get(SEQ_COLUMN)
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1:
        problems.append(f"{source}: {SEQ_COLUMN} must be a record number (1, 2...), got {raw!r}")
        return None
    return int(text)


def _template_key(ref: str, row: Row) -> list[str]:
    """What a row's `_template` may name: the template's name or its file (absolute, or
    relative to the rows file's folder, or to the current folder)."""
    keys = [ref]
    path = Path(ref).expanduser()
    if path.suffix in (".yaml", ".yml"):
        candidates = [path] if path.is_absolute() else (
            [row.path.parent / path, path] if row.path is not None else [path])
        keys += [str(c.resolve()) for c in candidates]
    return keys


def _rows_by_template(templates: list[Template], rows: list[Row],
                      problems: list[str]) -> list[list[Row]]:
    """Each template's rows; a row naming a template that is not in the run is a problem (it
    would otherwise be silently left out)."""
    mine: list[list[Row]] = [[] for _ in templates]
    index: dict[str, int] = {}
    for n, template in enumerate(templates):
        index.setdefault(template.name, n)
        if template.path is not None:
            index.setdefault(str(template.path.resolve()), n)
    for row in rows:
        ref = str(row.get(TEMPLATE_COLUMN) or "").strip()
        if not ref:
            for rows_of_template in mine:
                rows_of_template.append(row)
            continue
        found = next((index[k] for k in _template_key(ref, row) if k in index), None)
        if found is None:
            problems.append(f"{_where(row)}: the row is for template {ref!r}, which is not "
                            f"among those given ({', '.join(t.name for t in templates)})")
        else:
            mine[found].append(row)
    return mine


def _check_columns(templates: list[Template], rows: list[Row], by_template: list[list[Row]],
                   problems: list[str]) -> None:
    """Columns that no template a row goes to uses: once per file header (CSV), or per row
    (YAML)."""
    names = [t.names() | META_COLUMNS for t in templates]
    owners: dict[int, list[int]] = {}
    for index, rows_of_template in enumerate(by_template):
        for row in rows_of_template:
            owners.setdefault(id(row), []).append(index)
    reported: set[tuple[Path | None, int, str]] = set()
    for row in rows:
        mine = owners.get(id(row), [])
        used: set[str] = set().union(*(names[i] for i in mine)) if mine else set(row)
        for name in row:
            line = row.header_line or row.line
            if name in used or (row.path, line, name) in reported:
                continue
            reported.add((row.path, line, name))
            owned = [templates[i] for i in mine]
            [message] = unused_names([name], owned)
            problems.append(f"{row.path or 'rows'}:{line}: column {message} is used by no "
                            f"placeholder of {_names(owned)} and is no AddRecord field")


def _shared_references(jobs: list[Job]) -> list[str]:
    """GWS answers by referenceId: records sharing one would get each other's verdicts."""
    seqs: dict[str, list[Job]] = {}
    for job in jobs:
        if job.record is not None:
            seqs.setdefault(job.record.reference_id, []).append(job)
    problems = []
    for ref, same in seqs.items():
        if len(same) > 1:
            templates = sorted({j.template.name for j in same})
            problems.append(
                f"referenceId {ref!r} would be sent {len(same)} times (template "
                f"{', '.join(templates)}): GWS answers by referenceId, so their verdicts "
                "could not be told apart. Remove referenceId from the template (each record "
                "then gets its own) or make it unique, e.g. referenceId: ${uuid}")
    return problems


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
    """Runs the jobs through an open Engine: `concurrency` workers, each with at most one POST
    in flight, take the jobs in order as the rate allows; acknowledgements are awaited freely
    (a verdict arrives through `Tracked.on_done`, and one sweeper gives the oldest waiting
    request its timeout), so a record costs no task of its own."""

    def __init__(self, engine: Engine, jobs: list[Job], *, rate: float = DEFAULT_RATE,
                 concurrency: int = DEFAULT_CONCURRENCY, timeout_s: float = 10.0,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 on_sent: Callable[[int], None] | None = None) -> None:
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
        self.on_sent = on_sent
        """Called with `sent` whenever it changes: a POST left before its verdict is known
        (a progress that counted verdicts only showed records GWS had as not sent)."""
        self.outcomes: dict[int, Outcome] = {}
        self.sent = 0
        """POSTs started (each may have reached GWS)."""
        self.started_at = 0.0
        self._stopping = asyncio.Event()
        self._next: Iterator[Job] = iter(())
        self._posting: dict[asyncio.Task[None], Job] = {}  # workers with a POST in flight
        self._waiting: deque[tuple[Job, Tracked]] = deque()  # sent, verdict pending, oldest first
        self._more = asyncio.Event()  # something was added to _waiting, or sending ended
        self._sending_done = False
        self.halted = ""
        """Why the run stopped by itself, as Ctrl-C stops it, when it did: the notification
        stream stopped for good (no acknowledgement could come any more), or GWS refused the
        password on records in a row (each more POST a failed login)."""
        self._refused_logins = 0  # records refused with HTTP 401 in a row

    def stop(self) -> None:
        """Stop sending (Ctrl-C); what is in flight may still be acknowledged."""
        self._stopping.set()

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    async def run(self, grace_s: float = 5.0) -> list[Outcome]:
        self.started_at = time.monotonic()
        self._next = iter(self.jobs)
        loop = asyncio.get_running_loop()
        pacer = _Pacer(self.rate)
        workers = {loop.create_task(self._worker(pacer)) for _ in range(self.concurrency)}
        sweeper = loop.create_task(self._sweep())
        stop = loop.create_task(self._stopping.wait())
        deaf = loop.create_task(self._stop_when_the_stream_fails())
        try:
            await asyncio.wait({stop, *workers}, return_when=asyncio.FIRST_COMPLETED)
            while not stop.done() and not all(w.done() for w in workers):
                await asyncio.wait({stop, *workers}, return_when=asyncio.FIRST_COMPLETED)
            deadline = None
            if self.stopped:
                deadline = loop.time() + min(grace_s, self.timeout_s)
                for worker in workers:
                    if worker not in self._posting:
                        worker.cancel()  # between POSTs: stops at once
                # Those with a POST in flight finish it, within the grace period.
                _, late = await asyncio.wait(workers, timeout=deadline - loop.time())
                for task in late:
                    task.cancel()
            for result in await asyncio.gather(*workers, return_exceptions=True):
                if isinstance(result, Exception):  # a bug (e.g. in on_outcome): said, not lost
                    log.error("a replay worker failed; the others went on", exc_info=result)
            self._sending_done = True
            self._more.set()
            if deadline is None:  # every record sent: their verdicts, unless stopped meanwhile
                await asyncio.wait({stop, sweeper}, return_when=asyncio.FIRST_COMPLETED)
                if not sweeper.done():
                    deadline = loop.time() + min(grace_s, self.timeout_s)
            if deadline is not None:
                await asyncio.wait({sweeper}, timeout=max(0.0, deadline - loop.time()))
        finally:
            tasks: list[asyncio.Task[Any]] = [stop, sweeper, deaf, *workers]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for job, tracked in self._waiting:
            if tracked.state == "pending":
                post = "its POST's outcome unknown" if tracked.post == "unknown" else \
                    "accepted by GWS"
                self._finish(Outcome(job, "unconfirmed", f"stopped while waiting for the "
                                     f"acknowledgement ({post})", http_status=tracked.http_status,
                                     accepted=tracked.post in ("accepted", "unknown")))
            else:
                self._finish(_outcome(job, tracked))
        for job in self.jobs:
            if job.seq not in self.outcomes:
                self._finish(Outcome(job, "not_sent", "stopped before it was sent"))
        return [self.outcomes[job.seq] for job in self.jobs]

    async def _stop_when_the_stream_fails(self) -> None:
        # A stream that stopped for good (the server said not to reconnect, no session
        # affinity...) brings no acknowledgement any more, and the workers would wait for it
        # to connect again forever: the run stops, saying why.
        failure = await self.engine.until_stream_failed()
        self._halt(f"the notification stream stopped for good ({failure.detail}); no "
                   "acknowledgement could come any more")

    def _halt(self, why: str) -> None:
        if not self.halted and not self.stopped:  # a stop asked for first is the reason
            self.halted = why
            log.warning("replay stopped: %s", why)
        self.stop()

    def _count_refused_login(self, tracked: Tracked) -> None:
        """Stop after `REFUSED_LOGINS_AT_ONCE` records in a row refused with HTTP 401: every
        further POST would be one more failed login with the same password, and a directory
        locks an account after a few. POSTs already on their way (at most `concurrency`)
        still get their answers."""
        if tracked.http_status != 401:
            self._refused_logins = 0
            return
        self._refused_logins += 1
        if self._refused_logins >= REFUSED_LOGINS_AT_ONCE:
            self._halt(refused_logins(self.engine.connection.username,
                                      f"on {self._refused_logins} records in a row", "resume"))

    async def _until(self, awaitable: Any) -> None:
        wait = asyncio.ensure_future(awaitable)
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({wait, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (wait, stop):
                future.cancel()

    def _take(self) -> Job | None:
        """The next job to send (invalid ones get their verdict on the way); None at the end."""
        for job in self._next:
            if job.record is None:
                self._finish(Outcome(job, "invalid", job.error))
                continue
            return job
        return None

    async def _worker(self, pacer: _Pacer) -> None:
        task = asyncio.current_task()
        assert task is not None
        while not self.stopped:
            if not self.engine.connected:
                # Deaf: an ack published now would be lost. Wait for the stream (or Ctrl-C).
                await self._until(self.engine.until_connected())
                continue
            await pacer.wait()
            if self.stopped:
                return
            # The job is taken when the rate allows a send, so POSTs start in plan order.
            job = self._take()
            if job is None:
                return
            self._posting[task] = job
            try:
                await self._send(job)
            finally:
                del self._posting[task]

    async def _send(self, job: Job) -> None:
        assert job.record is not None
        self._count_sent(1)
        try:
            tracked = await self.engine.send(job.record)
        except DuplicateReference as exc:
            self._count_sent(-1)  # refused before anything was sent
            self._finish(Outcome(job, "not_sent", str(exc)))
            return
        except asyncio.CancelledError:
            # Cancelled with the POST in flight: it may have reached GWS.
            self._finish(Outcome(job, "unconfirmed", "stopped while its POST was in flight: "
                                 "GWS may have accepted it", accepted=True))
            raise
        except JournalError as exc:
            # A full disk (or a lost file): no more records without their journal lines.
            self._halt(f"the journal cannot be written: {exc}")
            known = self.engine.tracker.get(job.record.reference_id)
            if known is None or known.post is None:
                # Its request line is written before its POST: this one never left.
                self._count_sent(-1)
                self._finish(Outcome(job, "not_sent", f"not sent: {exc}"))
                return
            tracked = known  # it left: GWS's answer is known here, journaled or not
        except Exception as exc:  # a bug of ours: the POST may have left, so never "refused"
            log.exception("sending record %s failed", job.seq)
            self._finish(Outcome(job, "unknown", f"{type(exc).__name__}: {exc} (the POST may "
                                 "have reached GWS; check before re-sending)", accepted=True))
            return
        self._count_refused_login(tracked)
        if tracked.state != "pending":
            self._finish(_outcome(job, tracked))
            return
        # Its verdict comes with a notification (on_done) or the sweeper's timeout.
        tracked.on_done = functools.partial(self._settled, job)
        self._waiting.append((job, tracked))
        self._more.set()

    def _count_sent(self, change: int) -> None:
        self.sent += change
        if self.on_sent is not None:
            self.on_sent(self.sent)

    def _settled(self, job: Job, tracked: Tracked) -> None:
        # Called inside the tracker (the stream's task): the outcome's consumers run in a
        # callback of their own, so their failure cannot stop the stream.
        asyncio.get_running_loop().call_soon(self._finish, _outcome(job, tracked))

    async def _sweep(self) -> None:
        """Gives the oldest request still waiting its timeout (they time out in the order they
        were sent), until sending has ended and every request has its verdict."""
        while True:
            while self._waiting:
                job, tracked = self._waiting[0]
                if tracked.state == "pending":
                    await self.engine.wait(tracked, self.timeout_s)
                self._waiting.popleft()
                self._finish(_outcome(job, tracked))
            if self._sending_done:
                return
            self._more.clear()
            await self._more.wait()

    def _finish(self, outcome: Outcome) -> None:
        if outcome.job.seq in self.outcomes:
            return
        self.outcomes[outcome.job.seq] = outcome
        if self.on_outcome is not None:
            self.on_outcome(outcome)


def _outcome(job: Job, tracked: Tracked) -> Outcome:
    status = tracked.http_status
    if tracked.state == "acknowledged":
        return Outcome(job, "acknowledged", tracked.reason, tracked.latency_ms, status, True)
    if tracked.state == "no_answer":
        return Outcome(job, "no_answer", tracked.reason, None, status, True)
    if tracked.state == "unknown":
        return Outcome(job, "unknown", tracked.reason, None, status, True)
    if tracked.post == "not_delivered":
        return Outcome(job, "not_delivered", tracked.reason, None, status, False)
    taken = tracked.post in ("accepted", "unknown")  # then the failure came as a notification
    return Outcome(job, "failed", tracked.reason, None, status, taken, by_notification=taken,
                   ocs_error=tracked.ocs_error)


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
        for state in ("acknowledged", "failed", "no_answer", "unknown", "unconfirmed",
                      "not_delivered", "not_sent", "invalid"):
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
        elif outcome.state not in ("acknowledged", "not_sent"):
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


def resume_rows(outcomes: list[Outcome], target: str
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows to resume with: (GWS surely never had them — safe to send again; GWS may have
    them — check before sending again). `_template` is the template file's absolute path, so
    the file works from any folder; `_seq` keeps `${seq}` as it was; `_target` says where
    they were going."""
    safe: list[dict[str, Any]] = []
    unsure: list[dict[str, Any]] = []
    for outcome in outcomes:
        if outcome.state in ("acknowledged", "invalid"):
            continue
        row = {TARGET_COLUMN: target, **job_row(outcome.job)}
        if outcome.safe_to_resend:
            safe.append(row)
        else:
            job = outcome.job
            unsure.append({**row, "_referenceId": job.record.reference_id if job.record else "",
                           "_state": outcome.state, "_reason": outcome.reason})
    return safe, unsure


def job_row(job: Job) -> dict[str, Any]:
    """The rows-file row that plans `job` again, from any folder."""
    template = job.template
    where = _resolved(template.path, os.getcwd()) if template.path is not None \
        else template.name
    return {TEMPLATE_COLUMN: where, SEQ_COLUMN: job.number or job.seq, **job.values}


@functools.lru_cache(maxsize=64)
def _resolved(path: Path, cwd: str) -> str:
    """`path` resolved, once per template and folder (a replay's plan asks for every record:
    resolving walked the file system, ~50 us a record)."""
    return str(path.resolve())


def write_resume(safe: list[dict[str, Any]], unsure: list[dict[str, Any]], stem: Path
                 ) -> tuple[Path | None, Path | None]:
    """`<stem>.resume.csv` with `safe`, `<stem>.unconfirmed.csv` with `unsure` (a run's
    `resume_rows`, or rows rebuilt from a journal), each only when it has rows: the paths
    written (None: not written)."""
    from console.domain.rows import write_rows

    def one(rows: list[dict[str, Any]], suffix: str) -> Path | None:
        if not rows:
            return None
        path = stem.with_name(stem.name + suffix)
        write_rows(path, rows)
        return path

    return one(safe, ".resume.csv"), one(unsure, ".unconfirmed.csv")
