"""A replay as an object a skin drives: load the inputs, plan (everything checked before the
first send), confirm (production), send with a rate and a concurrency, stop, partial verdict,
resume and unconfirmed files — and the same files rebuilt from the journal alone after the
process was killed.

    inputs = load_inputs(["callback-mobile"], rows=Path("rows.csv"))
    run = ReplayRun(opened, inputs, ReplaySettings(rate=20), resume_dir=Path("."),
                    on_progress=show)
    if (question := run.confirmation()) is not None and not ask(question.question()):
        return
    result = await run.run(confirmed=True)      # run.stop() from a key or a signal handler
    print(result.progress.line(), result.files)

The journal holds, besides every request and verdict, a `replay` line at the start (run id,
settings, templates), one `planned` line per record (template, values, referenceId) and a
`replay` line at the end: `rebuild_from_journal` turns these into the resume file (records GWS
surely never had) and the unconfirmed file (records it may have) when no end was written.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.app.heap import bulk_collection
from console.app.replay_engine import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE,
    MAX_CONCURRENCY,
    MAX_RATE,
    MISSING_COLUMN,
    TARGET_COLUMN,
    TEMPLATE_COLUMN,
    Outcome,
    Plan,
    Replay,
    Summary,
    job_row,
    make_plan,
    resume_rows,
    summarise,
    write_resume,
)
from console.app.send import STAND_IN_DEVICE
from console.domain.journal import REDACTED
from console.domain.rows import Row, RowsError, read_rows
from console.domain.templates import (
    Template,
    TemplateError,
    load_template,
    resolve_template,
    template_dirs,
)
from console.errors import ConsoleError, EngineClosed
from console.profiles import search_path

if TYPE_CHECKING:
    from console.app.target import OpenTarget, Target

__all__ = ["ReplayInputError", "NotConfirmed", "ReplayInputs", "ReplaySettings",
           "Confirmation", "ReplayProgress", "ReplayResult", "ReplayRun", "RebuiltRun",
           "load_inputs", "plan_replay", "needs_confirmation", "rebuild_from_journal",
           "new_run_id", "STAND_IN_DEVICE", "target_cell", "resume_command", "resume_mismatch"]

UNCONFIRMED_COLUMNS = ("_referenceId", "_state")

log = logging.getLogger(__name__)


class ReplayInputError(ConsoleError):
    """Templates, rows or settings that cannot make a replay (nothing was sent)."""


class NotConfirmed(ConsoleError):
    """A replay that needed confirmation (production) and did not get it: nothing was sent."""


@dataclass
class ReplayInputs:
    """What to send: templates, and rows or a count, and values for every record."""

    templates: list[Template]
    """The templates, in order."""
    rows: list[Row] | None = None
    """One record per row (None: `count` per template)."""
    rows_path: Path | None = None
    """The rows (or resume) file."""
    count: int = 1
    """Records per template when there are no rows."""
    sets: dict[str, Any] = field(default_factory=dict)
    """Placeholder values (or fields) for every record; win over the rows."""
    resumed: bool = False
    """The rows come from a resume file (`--resume`)."""
    resume_target: str = ""
    """The rows' `_target` (`target_cell`), in a file an earlier replay wrote: where its
    records were going ("" for other rows, or a file from before that column)."""


@dataclass(frozen=True)
class ReplaySettings:
    """How fast: checked against the limits before anything is sent."""

    rate: float = DEFAULT_RATE
    """At most this many records per second."""
    concurrency: int = DEFAULT_CONCURRENCY
    """At most this many POSTs in flight."""
    timeout_s: float = 10.0
    """How long each record waits for its acknowledgement."""
    grace_s: float = 5.0
    """After a stop: how long acknowledgements in flight are still awaited (at most
    `timeout_s`)."""

    def check(self) -> None:
        if not 0 < self.rate <= MAX_RATE:
            raise ReplayInputError(f"--rate must be above 0 and at most {MAX_RATE:g}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ReplayInputError(f"--concurrency must be 1..{MAX_CONCURRENCY}")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):  # nan too
            raise ReplayInputError("--timeout must be a finite number of seconds above 0")


def load_inputs(template_refs: Sequence[str] = (), *, rows: Path | None = None,
                resume: Path | None = None, count: int = 1, sets: dict[str, Any] | None = None,
                profiles_dir: Path | None = None) -> ReplayInputs:
    """Templates (by file, campaign/list/name or name) and rows or a count; with `resume`, the
    rows of a resume file and, when no template is named, the templates its `_template` column
    names (absolute paths, or relative to the resume file). ReplayInputError says what is
    wrong and nothing is sent."""
    if rows is not None and resume is not None:
        raise ReplayInputError("give --rows or --resume, not both")
    dirs = template_dirs(search_path(profiles_dir))
    try:
        loaded = [load_template(resolve_template(ref, dirs)) for ref in template_refs]
        source = resume or rows
        table = read_rows(source) if source is not None else None
    except (TemplateError, RowsError) as exc:
        raise ReplayInputError(str(exc)) from None
    resume_target = ""
    if source is not None:
        assert table is not None
        _refuse_missing(source, table)
        resume_target = _target_of(source, table)  # also a resume file given as --rows
    if resume is not None:
        assert table is not None
        _refuse_unconfirmed(resume, table)
        if not loaded:
            loaded = _templates_of(resume, table, dirs)
    if not loaded:
        raise ReplayInputError("name at least one template (or --resume a resume file)")
    return ReplayInputs(loaded, table, source, count, dict(sets or {}), resumed=resume is not None,
                        resume_target=resume_target)


def target_cell(target: dict[str, Any]) -> str:
    """A resume file's `_target`, from a target's JSON (`Target.as_json()`, or as journaled):
    `profile | user | url`, the url `SIMULATOR` for the embedded simulator (its port changes
    with every start)."""
    where = "SIMULATOR" if target.get("simulator") else str(target.get("url") or "").rstrip("/")
    return f"{target.get('profile')} | {target.get('user')} | {where}"


def resume_command(path: Path, target: dict[str, Any]) -> str:
    """The command that resumes `path` on the target it was written for: the profile by name
    (`-p`), or `--url`/`--user` when the run was given those instead of a profile."""
    if target.get("profile") == "(flags)":
        chosen = f"--url {target.get('url')} --user {target.get('user')}"
    else:
        chosen = f"-p {target.get('profile')}"
    return f"replay --resume {path} {chosen}"


def resume_mismatch(inputs: ReplayInputs, target: Target) -> str | None:
    """Why `inputs` (a resume file) must not go to `target`, or None: a resume file is sent
    only where its records were going (a Ctrl-C'd production replay resumed on the default
    target would go to the simulator and be reported as done)."""
    wanted = inputs.resume_target
    if not wanted or wanted == target_cell(target.as_json()):
        return None
    profile, _, rest = wanted.partition(" | ")
    user, _, url = rest.partition(" | ")
    where = "the embedded simulator" if url == "SIMULATOR" else url
    command = resume_command(inputs.rows_path or Path("FILE"),
                             {"profile": profile, "user": user, "url": url})
    return (f"{inputs.rows_path}: its records were going to profile {profile}, user {user}, "
            f"{where}; this replay goes to {target.describe().removeprefix('target: ')}. "
            f"Resume it on its own target: {command}")


def _set_aside(inputs: ReplayInputs) -> Path | None:
    """A resume file that was replayed, renamed `<name>.used`: resumed again by mistake (the
    console's dialog offers it, a command line is recalled), it would send its records a
    second time — to production, with one typed number."""
    path = inputs.rows_path
    if not inputs.resumed or path is None:
        return None
    used = path.with_name(path.name + ".used")
    try:
        path.replace(used)
    except OSError as exc:  # read-only folder: say so instead of failing the verdict
        log.warning("could not set %s aside after resuming it: %s", path, exc)
        return None
    return used


def _target_of(path: Path, table: list[Row]) -> str:
    """The one `_target` of a resume file's rows ("" when it has none)."""
    targets = {str(row.get(TARGET_COLUMN) or "") for row in table}
    if len(targets) > 1:
        raise ReplayInputError(f"{path}: rows for {len(targets)} different targets in "
                               f"{TARGET_COLUMN} ({', '.join(sorted(targets))}); a resume file "
                               "is for one target: split it")
    return targets.pop() if targets else ""


def _refuse_missing(path: Path, table: list[Row]) -> None:
    """A row rebuilt from the journal whose values the journal could not keep is refused
    until they are filled in (sent as it is, GWS would get the text "[redacted]")."""
    for row in table:
        missing = str(row.get(MISSING_COLUMN) or "").strip()
        if missing:
            raise ReplayInputError(
                f"{path}:{row.line}: {missing} not known: the journal did not keep "
                f"{'that value' if ',' not in missing else 'those values'} (a column whose name "
                "looks like a credential, or a value holding the password, is written "
                f"{REDACTED}). Fill in the real value from your rows file and empty "
                f"{MISSING_COLUMN} on that row, then resume; nothing sent")


def _refuse_unconfirmed(path: Path, table: list[Row]) -> None:
    if table and all(c in table[0] for c in UNCONFIRMED_COLUMNS):
        raise ReplayInputError(
            f"{path}: this is an unconfirmed file: GWS may already have these records. Check "
            "each (by its _referenceId) first, then replay the ones to send again with --rows")


def _templates_of(path: Path, table: list[Row], dirs: list[Path]) -> list[Template]:
    """The templates a resume file's rows name, in first-seen order."""
    found: dict[str, Template] = {}
    for row in table:
        ref = str(row.get(TEMPLATE_COLUMN) or "").strip()
        if not ref:
            raise ReplayInputError(f"{path}:{row.line}: no {TEMPLATE_COLUMN}: name the template "
                                   "on the command line (replay TEMPLATE --resume FILE)")
        if ref in found:
            continue
        candidate = Path(ref).expanduser()
        if candidate.suffix in (".yaml", ".yml") and not candidate.is_absolute():
            candidate = path.parent / candidate  # relative to the resume file, not the cwd
        try:
            found[ref] = load_template(candidate if candidate.suffix in (".yaml", ".yml")
                                       else resolve_template(ref, dirs))
        except TemplateError as exc:
            raise ReplayInputError(f"{path}:{row.line}: {exc}") from None
    return list(found.values())


def plan_replay(inputs: ReplayInputs, device_path: str | None) -> Plan:
    """Every record, built and checked; a plan with no record at all is a problem too."""
    planned = make_plan(inputs.templates, inputs.rows, inputs.count, inputs.sets, device_path)
    if not planned.jobs:
        where = f"{inputs.rows_path}" if inputs.rows_path else "the replay"
        planned.problems.append(f"{where}: nothing to send (no rows for "
                                f"{', '.join(t.name for t in inputs.templates)})")
    return planned


def needs_confirmation(target: Target, records: int) -> bool:
    """The threshold, in one place: a replay to a production profile always asks (any number
    of records); a single `send` and anything to a non-production target do not."""
    return target.production and records > 0


@dataclass(frozen=True)
class Confirmation:
    """What a skin shows before sending to production; the answer goes to `run(confirmed=)`."""

    target: Target
    """Where the records would go."""
    records: int
    """How many."""
    templates: tuple[str, ...]
    """Which templates."""
    rate: float
    """Records per second at most."""
    concurrency: int
    """POSTs in flight at most."""

    def question(self) -> str:
        t = self.target
        which = ", ".join(self.templates)
        return (f"Send {self.records} record{'s' if self.records != 1 else ''} ({which}) to "
                f"{t.marker or 'the'} server {t.url} as user {t.user} (profile {t.profile}), "
                f"at most {self.rate:g}/s, {self.concurrency} in flight?")


@dataclass
class ReplayProgress:
    """Where a run is: what a progress bar shows. `sent` counts POSTs that left (each may
    have reached GWS); records never sent are not counted as done."""

    planned: int
    """Records in the plan."""
    sent: int = 0
    """POSTs started."""
    counts: Counter[str] = field(default_factory=Counter)
    """Verdicts so far by state (acknowledged, failed, no_answer, unknown...)."""
    stopped: bool = False
    """A stop was asked for."""

    @property
    def finished(self) -> int:
        """Records sent that have their verdict."""
        return sum(n for state, n in self.counts.items() if state not in ("not_sent", "invalid"))

    @property
    def not_sent(self) -> int:
        return self.planned - self.sent

    def line(self) -> str:
        """`26/100 sent, 20 acknowledged, 6 other` — or after a stop `stopped: 26/100 sent, 74
        not sent`."""
        ack = self.counts["acknowledged"]
        if self.stopped:
            return (f"stopped: {self.sent}/{self.planned} sent, {self.not_sent} not sent, "
                    f"{ack} acknowledged")
        return f"{self.sent}/{self.planned} sent, {ack} acknowledged, {self.finished - ack} other"


@dataclass
class ReplayResult:
    """The partial or full verdict of a run, and the files written."""

    run_id: str
    """Names the run in the journal and its files."""
    target: Target
    """Where it went."""
    outcomes: list[Outcome]
    """One per planned record, in order."""
    summary: Summary
    """The verdict table."""
    progress: ReplayProgress
    """Final counts (sent / not sent)."""
    stopped: bool
    """It was stopped before the end."""
    resume_file: Path | None = None
    """Records GWS surely never had: safe to send again (`replay --resume`)."""
    unconfirmed_file: Path | None = None
    """Records GWS may have (accepted or unknown, no acknowledgement): check first."""
    used_file: Path | None = None
    """The resume file this run was given, renamed once the run had its verdict (`.used`
    added), so that the same records are not sent twice by resuming it again; what is left
    is in `resume_file`."""
    halted: str = ""
    """Why the run stopped by itself ("" when it did not): the notification stream stopped for
    good, or GWS refused the password on records in a row."""

    @property
    def files(self) -> list[Path]:
        return [p for p in (self.resume_file, self.unconfirmed_file) if p is not None]

    def worst(self) -> str:
        """The outcome that needs the most care, which decides an exit code: halted (the run
        stopped by itself: the stream stopped for good, or the password refused), stopped,
        unknown (may be at GWS: check), not_delivered, failed (refused), notification (an
        Error notification), no_answer, or acknowledged."""
        states = Counter(o.state for o in self.outcomes)
        if self.halted:
            return "halted"
        if self.stopped:
            return "stopped"
        if states["unknown"] or states["unconfirmed"]:
            return "unknown"
        if states["not_delivered"]:
            return "not_delivered"
        if states["not_sent"] or any(o.state == "failed" and not o.by_notification
                                     for o in self.outcomes):
            return "failed"
        if any(o.by_notification for o in self.outcomes):
            return "notification"
        if states["no_answer"]:
            return "no_answer"
        return "acknowledged"


def new_run_id() -> str:
    """`20261127-031500-a1b2`: sortable, and unique among runs started the same second."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


class ReplayRun:
    """One replay through an opened (started) target: the plan is built at once (check
    `plan.problems`, `confirmation()`), then `run()` once; `stop()` any time from the event
    loop's thread (a key handler, or a signal handler installed with
    `loop.add_signal_handler`)."""

    def __init__(self, opened: OpenTarget, inputs: ReplayInputs,
                 settings: ReplaySettings | None = None, *, resume_dir: Path = Path("."),
                 on_outcome: Callable[[Outcome], None] | None = None,
                 on_progress: Callable[[ReplayProgress], None] | None = None,
                 run_id: str | None = None) -> None:
        self.opened = opened
        self.inputs = inputs
        self.settings = settings or ReplaySettings()
        self.settings.check()
        self.resume_dir = resume_dir
        self.on_outcome = on_outcome
        self.on_progress = on_progress
        self.run_id = run_id or new_run_id()
        with bulk_collection():  # thousands of new objects, none of them garbage
            plan = plan_replay(inputs, opened.engine.session.device_path)
        mismatch = resume_mismatch(inputs, opened.target)
        if mismatch is not None:
            plan.problems.insert(0, mismatch)
        self.plan = plan
        """Every record, checked: `plan.problems` non-empty means `run()` refuses."""
        self.progress = ReplayProgress(len(self.plan.jobs))
        self._replay: Replay | None = None
        self._stop_asked = False

    @property
    def target(self) -> Target:
        return self.opened.target

    def confirmation(self) -> Confirmation | None:
        """What to ask before sending, or None when this run needs no confirmation."""
        if not needs_confirmation(self.target, len(self.plan.jobs)):
            return None
        s = self.settings
        return Confirmation(self.target, len(self.plan.jobs),
                            tuple(t.name for t in self.inputs.templates), s.rate, s.concurrency)

    def stop(self) -> None:
        """Stop sending; acknowledgements in flight are awaited briefly, then the partial
        verdict and the files are produced by `run()`."""
        self._stop_asked = True
        self.progress.stopped = True
        if self._replay is not None:
            self._replay.stop()

    async def run(self, *, confirmed: bool = False) -> ReplayResult:
        """Send the plan. ReplayInputError when the plan has problems, NotConfirmed when it
        needs a confirmation that `confirmed` does not give; nothing is sent then."""
        if self.opened.engine.closed:
            raise EngineClosed(f"replay: nothing sent: the connection to {self.target.url} is "
                               "closed; open it again to replay")
        if not self.plan.ok:
            raise ReplayInputError("nothing sent:\n  " + "\n  ".join(self.plan.problems))
        if self.confirmation() is not None and not confirmed:
            raise NotConfirmed(f"not confirmed: nothing sent to {self.target.marker} "
                               f"{self.target.url}")
        s = self.settings
        engine = self.opened.engine
        self._replay = replay = Replay(engine, self.plan.jobs, rate=s.rate,
                                       concurrency=s.concurrency, timeout_s=s.timeout_s,
                                       on_outcome=self._outcome, on_sent=self._sent)
        self._journal_plan()
        if self._stop_asked:
            replay.stop()
        started = time.monotonic()
        with bulk_collection():  # the plan lives to the end: the collector need not walk it
            outcomes = await replay.run(grace_s=s.grace_s)
        self.progress.sent = replay.sent
        stopped = replay.stopped
        self.progress.stopped = stopped
        summary = summarise(outcomes, time.monotonic() - started)
        result = ReplayResult(self.run_id, self.target, outcomes, summary, self.progress,
                              stopped, halted=replay.halted)
        result.resume_file, result.unconfirmed_file = write_resume(
            *resume_rows(outcomes, target_cell(self.target.as_json())),
            self.resume_dir / f"replay-{self.run_id}")
        result.used_file = _set_aside(self.inputs)
        self._journal("end", stopped=stopped, sent=replay.sent,
                      counts=dict(summary.counts), halted=replay.halted or None,
                      resumeFile=str(result.resume_file) if result.resume_file else None,
                      unconfirmedFile=str(result.unconfirmed_file)
                      if result.unconfirmed_file else None,
                      usedFile=str(result.used_file) if result.used_file else None)
        return result

    def _sent(self, sent: int) -> None:
        self.progress.sent = sent
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def _outcome(self, outcome: Outcome) -> None:
        assert self._replay is not None
        record = outcome.job.record
        if outcome.state == "unconfirmed" and record is not None:
            # Stopped before its verdict: the journal still gets one for every request.
            self.opened.journal.write("verdict", referenceId=record.reference_id,
                                      state="unconfirmed", reason=outcome.reason,
                                      httpStatus=outcome.http_status, post=None)
        self.progress.sent = self._replay.sent
        self.progress.stopped = self._replay.stopped  # also when it stopped by itself
        self.progress.counts[outcome.state] += 1
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def _journal_plan(self) -> None:
        s = self.settings
        self._journal("start", planned=len(self.plan.jobs), rate=s.rate,
                      concurrency=s.concurrency, timeoutS=s.timeout_s,
                      resumeDir=str(self.resume_dir.resolve()),
                      templates=[str(t.path.resolve()) if t.path else t.name
                                 for t in self.inputs.templates],
                      rows=str(self.inputs.rows_path) if self.inputs.rows_path else None)
        self.opened.journal.write_many("planned", (
            {"run": self.run_id, "seq": job.seq, "referenceId": job.record.reference_id,
             "row": job_row(job)} for job in self.plan.jobs if job.record is not None))

    def _journal(self, event: str, **fields: Any) -> None:
        self.opened.journal.write("replay", run=self.run_id, event=event, **fields)


# -- after a kill -9: the journal alone -----------------------------------------------------
@dataclass
class RebuiltRun:
    """What `rebuild_from_journal` found and wrote."""

    run_id: str
    """The run."""
    target: dict[str, Any] | None
    """Where it went (as journaled)."""
    planned: int
    """Records in its plan."""
    sent: int
    """Records whose POST was journaled."""
    counts: Counter[str]
    """acknowledged / resume (never had by GWS) / unconfirmed (may be at GWS)."""
    ended: bool
    """The run wrote its end line (its own files exist too)."""
    resume_file: Path | None = None
    """Records GWS surely never had."""
    unconfirmed_file: Path | None = None
    """Records GWS may have: check first."""
    missing: int = 0
    """Rows of those files with values the journal did not keep (named in their `_missing`
    column; refused until filled in)."""


def rebuild_from_journal(journal: Path, resume_dir: Path | None = None,
                         run_id: str | None = None) -> RebuiltRun:
    """The resume and unconfirmed files of a run (the last in `journal`, or `run_id`), from
    its journal lines alone — for a run that was killed before it could write them. They go
    to `resume_dir`, else to the folder the run itself would have used.

    A planned record with no request line was never sent (resume); a request with a verdict
    of acknowledged is done; one refused by GWS or not delivered goes to resume; anything
    else that was sent — no answer, unknown, an Error notification, or no verdict at all
    because the process died — goes to unconfirmed, with its referenceId and why."""
    runs: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    refs: dict[str, dict[str, Any]] = {}  # referenceId -> what the journal says of it
    try:
        handle = journal.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ReplayInputError(f"{journal}: cannot read: {exc.strerror}") from None
    with handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by the kill: everything before it counts
            if not isinstance(entry, dict):
                continue
            kind = entry.get("kind")
            if kind == "replay" and isinstance(entry.get("run"), str):
                run = runs.setdefault(entry["run"], {"planned": [], "ended": False,
                                                     "target": entry.get("target")})
                if entry["run"] not in order:
                    order.append(entry["run"])
                if entry.get("event") == "end":
                    run["ended"] = True
                elif entry.get("event") == "start":
                    run["dir"] = entry.get("resumeDir")
                    run["rows"] = entry.get("rows")
            elif kind == "planned" and entry.get("run") in runs:
                runs[entry["run"]]["planned"].append(entry)
            elif kind in ("request", "response", "verdict"):
                ref = _reference_of(entry)
                if ref:
                    refs.setdefault(ref, {})[kind] = entry
    if not order:
        raise ReplayInputError(f"{journal}: no replay in this journal")
    chosen = run_id or order[-1]
    if chosen not in runs:
        raise ReplayInputError(f"{journal}: no replay {chosen!r} (replays there: "
                               f"{', '.join(order)})")
    run = runs[chosen]
    own = f"replay-{chosen}.resume.csv"
    later = [r for r in order if r != chosen
             and Path(str(runs[r].get("rows") or "")).name.startswith(own)]
    if later:
        # Its records left unsent were given to that run: rebuilt here, they would be offered
        # as "never had by GWS" although that run sent them.
        raise ReplayInputError(
            f"{journal}: replay {chosen} was resumed by replay {later[-1]} (from {own}): what it "
            f"left was that run's to send. Rebuild that one instead: --run {later[-1]}")
    safe: list[dict[str, Any]] = []
    unsure: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    sent = 0
    cell = target_cell(run["target"]) if isinstance(run["target"], dict) else ""
    for planned in run["planned"]:
        ref = str(planned.get("referenceId", ""))
        row = dict(planned.get("row") or {})
        lost = [k for k, v in row.items() if REDACTED in str(v)]
        row = {**({TARGET_COLUMN: cell} if cell else {}), **row,
               **({MISSING_COLUMN: ", ".join(lost)} if lost else {})}
        seen = refs.get(ref, {})
        if "request" not in seen:
            safe.append(row)
            counts["resume"] += 1
            continue
        sent += 1
        state, reason = _fate(seen)
        if state == "acknowledged":
            counts["acknowledged"] += 1
            continue
        if state in ("refused", "not_delivered"):
            safe.append(row)
            counts["resume"] += 1
        else:
            unsure.append({**row, "_referenceId": ref, "_state": state, "_reason": reason})
            counts["unconfirmed"] += 1
    missing = sum(1 for row in (*safe, *unsure) if MISSING_COLUMN in row)
    rebuilt = RebuiltRun(chosen, run["target"], len(run["planned"]), sent, counts,
                         run["ended"], missing=missing)
    folder = resume_dir or Path(run.get("dir") or ".")
    stem = folder / f"replay-{chosen}"
    rebuilt.resume_file, rebuilt.unconfirmed_file = write_resume(safe, unsure, stem)
    return rebuilt


def _reference_of(entry: dict[str, Any]) -> str | None:
    if entry.get("kind") == "request":
        body = entry.get("body")
        ref = body.get("referenceId") if isinstance(body, dict) else None
    else:
        ref = entry.get("referenceId")
    return ref if isinstance(ref, str) else None


def _fate(seen: dict[str, Any]) -> tuple[str, str]:
    """(state, reason) of a sent record from its journal lines."""
    verdict = seen.get("verdict")
    response = seen.get("response") or {}
    if verdict is not None:
        state = str(verdict.get("state"))
        post = verdict.get("post") or response.get("outcome")
        if state == "failed" and post in ("refused", "not_delivered"):
            return str(post), str(verdict.get("reason", ""))
        return state, str(verdict.get("reason", ""))
    outcome = response.get("outcome")
    if outcome in ("refused", "not_delivered"):
        return str(outcome), str(response.get("error", ""))
    if outcome == "accepted":
        return "unconfirmed", ("accepted by GWS; the run ended before its acknowledgement "
                               "(check before re-sending)")
    return "unknown", ("sent; the run ended before GWS answered: GWS may have accepted it "
                       "(check before re-sending)")

