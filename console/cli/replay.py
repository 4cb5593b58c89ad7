"""`outbound-console replay`: the application layer's replay (console.app.replay) with a
progress bar, a production prompt, Ctrl-C, and a verdict table that names the target."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from console.app.replay import (
    STAND_IN_DEVICE,
    Confirmation,
    NotConfirmed,
    ReplayInputError,
    ReplayInputs,
    ReplayProgress,
    ReplayResult,
    ReplayRun,
    ReplaySettings,
    load_inputs,
    plan_replay,
    rebuild_from_journal,
    resume_command,
    resume_mismatch,
)
from console.app.replay_engine import DEFAULT_CONCURRENCY, DEFAULT_RATE, Outcome
from console.app.target import ResolvedTarget, Target
from console.cli.commands import Printer, ended_by_ctrl_c, parse_sets, resolve_or_exit
from console.cli.exit_codes import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_NOT_CONFIRMED,
    EXIT_UNKNOWN,
    EXIT_UNREACHABLE,
    for_replay,
)
from console.cli.numbers import Above
from console.cli.options import given_on_command_line, target_options, with_target
from console.cli.terminal_text import terminal_safe
from console.domain.journal import JournalError
from console.errors import ConsoleError

__all__ = ["replay"]


class _Progress:
    """A bar on a terminal, plain lines when piped (stderr either way); it counts what was
    sent, so after a stop it says how many were not."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0

    def update(self, progress: ReplayProgress, last: bool = False) -> None:
        now = time.monotonic()
        rate = progress.sent / max(now - self.started, 1e-6)
        if self.tty:
            # Called at every send and every verdict: redrawn at most 20 times a second (a
            # thin link), and once more at the end.
            if now - self.last_line < 0.05 and not last:
                return
            self.last_line = now
            width = 30
            filled = int(width * progress.sent / max(progress.planned, 1))
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {progress.line()}  "
                             f"{rate:.1f}/s ")
            sys.stderr.flush()
        elif now - self.last_line >= 1.0 or progress.finished == progress.planned:
            self.last_line = now
            sys.stderr.write(f"progress {progress.line()} rate {rate:.1f}/s\n")

    def close(self, progress: ReplayProgress) -> None:
        if self.tty:
            self.update(progress, last=True)
            sys.stderr.write("\n")
        if progress.stopped:
            sys.stderr.write(f"progress {progress.line()}\n")


@click.command()
@click.argument("template_refs", nargs=-1, metavar="TEMPLATE...")
@with_target
@click.option("--rows", "rows_path", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV or YAML rows: one record per row, columns fill the placeholders.")
@click.option("--resume", "resume_path", type=click.Path(path_type=Path, dir_okay=False),
              help="A .resume.csv written by an earlier replay: send exactly its records "
              "(templates from its _template column unless named).")
@click.option("--resume-from-journal", "journal_to_rebuild",
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Rebuild the resume/unconfirmed files of the last replay in this journal "
              "(after a kill -9); sends nothing.")
@click.option("--run", "run_id", help="With --resume-from-journal: which replay (its id).")
@click.option("--count", type=click.IntRange(1, 1_000_000),
              help="Records per template (without --rows)  [default: 1]")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="A placeholder value (or field) for every record; wins over rows. A name no "
              "template uses is refused.")
@click.option("--rate", default=DEFAULT_RATE, show_default=True, type=Above(0),
              help="At most this many records per second (max 5000).")
@click.option("--concurrency", default=DEFAULT_CONCURRENCY, show_default=True, type=int,
              help="At most this many POSTs in flight (max 64).")
@click.option("--timeout", default=10.0, show_default=True, type=Above(0),
              help="Seconds to wait for each acknowledgement.")
@click.option("--dry-run", is_flag=True, help="Check everything and print the bodies; send nothing.")
@click.option("--yes", "-y", "assume_yes", is_flag=True,
              help="Confirm a replay to a production profile without asking (scripts).")
@click.option("--json", "as_json", is_flag=True, help="One JSON result per record.")
@click.option("--resume-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where to write the resume/unconfirmed files  [default: .]")
@click.pass_context
def replay(ctx: click.Context, template_refs: tuple[str, ...], profile_name: str | None,
           profiles_dir: Path | None, url: str | None, user: str | None,
           journal_path: Path | None, rows_path: Path | None, resume_path: Path | None,
           journal_to_rebuild: Path | None, run_id: str | None, count: int | None,
           sets: tuple[str, ...], rate: float, concurrency: int, timeout: float, dry_run: bool,
           assume_yes: bool, as_json: bool, resume_dir: Path | None) -> None:
    """Send records from templates and give a verdict per record.

    \b
    replay TEMPLATE... [--rows FILE | --count N] [--set NAME=VALUE]...
    replay [TEMPLATE...] --resume replay-ID.resume.csv
    replay --resume-from-journal JOURNAL [--run ID] [--resume-dir DIR]

    \b
    Exit codes: 0 every record acknowledged, 2 invalid templates/rows/flags (nothing sent),
    3 some refused by GWS, 4 some got an error notification, 5 some got no answer,
    6 GWS unreachable or profile problem, 7 some unknown (may have been accepted: see the
    unconfirmed file), 8 production replay not confirmed, 130 interrupted (Ctrl-C).
    """
    options = target_options(ctx, profile_name, profiles_dir, url, user, journal_path)
    out = Printer(as_json)
    if journal_to_rebuild is not None:
        given = [flag for flag, value in (("TEMPLATE", template_refs), ("--rows", rows_path),
                                          ("--resume", resume_path), ("--count", count),
                                          ("--set", sets), ("--dry-run", dry_run),
                                          ("--yes", assume_yes))
                 if value]
        given += [f"--{name}" for name in ("rate", "concurrency", "timeout")
                  if given_on_command_line(ctx, name)]
        given += options.given()
        if given:
            raise click.UsageError(f"--resume-from-journal sends nothing and rebuilds files "
                                   f"only: {', '.join(given)} would be ignored; leave "
                                   f"{'it' if len(given) == 1 else 'them'} out")
        sys.exit(_rebuild(journal_to_rebuild, run_id, resume_dir, out))
    if run_id is not None:
        raise click.UsageError("--run goes with --resume-from-journal")
    values = parse_sets(sets)  # malformed or contradictory: before the target is resolved
    if count is not None and (rows_path or resume_path):
        raise click.UsageError("--count is for replays without --rows/--resume (one record "
                               "per row otherwise)")
    resolved = resolve_or_exit(options, out, need_password=False)  # the target first
    target = resolved.target
    out.set_target(target, announce=False)
    settings = ReplaySettings(rate=rate, concurrency=concurrency, timeout_s=timeout)
    try:
        settings.check()
        inputs = load_inputs(template_refs, rows=rows_path, resume=resume_path,
                             count=count or 1, sets=values, profiles_dir=options.profiles_dir)
    except ReplayInputError as exc:
        out.fail(str(exc), EXIT_INVALID)
    _refuse_twice_named(template_refs, inputs, out)
    mismatch = resume_mismatch(inputs, target)  # before any password prompt
    if mismatch is not None:
        out.fail(f"nothing sent: {mismatch}", EXIT_INVALID)
    # Checked before connecting (and before any password prompt): the session's device only
    # changes devicePath, which every plan gets the same way.
    device = resolved.profile.device_path or STAND_IN_DEVICE
    checked = plan_replay(inputs, device)
    if not checked.ok:
        for problem in checked.problems:
            out.note("invalid", problem)
        out.fail(f"nothing sent: {len(checked.problems)} problem"
                 f"{'s' if len(checked.problems) != 1 else ''} in the plan", EXIT_INVALID)
    if dry_run:
        _dry_run(checked.jobs, target, out, device)
    out.set_target(target)
    confirmed = _confirm(target, inputs, settings, len(checked.jobs), assume_yes, out)
    resolved = resolve_or_exit(resolved, out)  # the password once the plan is known good
    try:
        code = asyncio.run(_run(resolved, inputs, settings, confirmed, resume_dir or Path("."),
                                out))
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) before or after the run itself
        out.note("interrupted", "stopped before the first record or after the verdict: "
                 f"the journal has what was done{out.tag}")
        code = EXIT_INTERRUPTED
    sys.exit(code)


def _refuse_twice_named(refs: tuple[str, ...], inputs: ReplayInputs, out: Printer) -> None:
    """`replay T T` would send every record twice: refused (--count N is for N records)."""
    named: dict[Path, str] = {}
    for ref, template in zip(refs, inputs.templates, strict=False):
        path = template.path.resolve() if template.path is not None else None
        if path is None:
            continue
        if path in named:
            same = f"as {named[path]!r} and {ref!r}" if named[path] != ref else f"{ref!r} twice"
            out.fail(f"the template {path} is named {same}: each of its records would be sent "
                     "twice; name it once (--count N sends N records per template)",
                     EXIT_INVALID)
        named[path] = ref


def _dry_run(jobs: list[Any], target: Target, out: Printer, device: str) -> None:
    for job in jobs:
        if out.as_json:
            out.emit({"type": "dry_run", "seq": job.seq, "body": job.record.body()}, "")
        else:
            click.echo(json.dumps(job.record.body(), ensure_ascii=False))
    stand_in = (" (devicePath 'session-default' stands for the session's device)"
                if device == STAND_IN_DEVICE else "")
    click.echo(f"dry run: {len(jobs)} valid, nothing sent to {target.tag()}{stand_in}", err=True)
    sys.exit(0)


def _confirm(target: Target, inputs: ReplayInputs, settings: ReplaySettings, records: int,
             assume_yes: bool, out: Printer) -> bool:
    """The production guard: ask on the terminal, or take --yes; exit 8 otherwise."""
    from console.app.replay import needs_confirmation

    if not needs_confirmation(target, records):
        return False
    question = Confirmation(target, records, tuple(t.name for t in inputs.templates),
                            settings.rate, settings.concurrency).question()
    if assume_yes:
        out.note("confirmed", f"--yes: {question}")
        return True
    if not sys.stdin.isatty():
        out.fail(f"refused: this replay needs a confirmation and stdin is not a terminal. "
                 f"{question} Add --yes to confirm in a script. Nothing sent.",
                 EXIT_NOT_CONFIRMED)
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort as exc:  # click's "Aborted!", exit 1, fits no row of the table
        if ended_by_ctrl_c(exc):
            out.note("interrupted", f"stopped at the confirmation: nothing was sent{out.tag}")
            sys.exit(EXIT_INTERRUPTED)
        confirmed = False  # Ctrl-D: no answer is no
    if not confirmed:
        out.fail("not confirmed: nothing sent", EXIT_NOT_CONFIRMED)
    return True


async def _run(resolved: ResolvedTarget, inputs: ReplayInputs, settings: ReplaySettings,
               confirmed: bool, resume_dir: Path, out: Printer) -> int:
    from console.app.target import open_target

    try:
        opened = await open_target(resolved, ack_timeout_s=settings.timeout_s)
    except ConsoleError as exc:
        out.note("error", str(exc))
        return EXIT_UNREACHABLE
    run: ReplayRun | None = None
    code: int | None = None
    try:
        async with opened:
            progress = _Progress()

            def on_outcome(outcome: Outcome) -> None:
                if out.as_json:
                    out.emit({"type": "result", **outcome.as_json()}, "")
                    sys.stdout.flush()

            run = ReplayRun(opened, inputs, settings, resume_dir=resume_dir,
                            on_outcome=on_outcome, on_progress=progress.update)
            code = await _until_done(run, confirmed, progress, out)
    except JournalError as exc:  # a full disk mid-run: said, not a traceback
        sent = run.progress.sent if run is not None else 0
        out.note("error", f"{exc}. The replay stopped: nothing was sent{out.tag}" if not sent
                 else f"{exc}. The replay stopped: {sent} record(s) sent, whose lines the "
                 f"journal may lack; once it can be written, `replay --resume-from-journal "
                 f"{opened.journal.path}` rebuilds the resume and unconfirmed files{out.tag}")
        if code is None:  # no verdict table: what was sent may be at GWS
            code = EXIT_UNKNOWN if sent else EXIT_UNREACHABLE
    return code


async def _until_done(run: ReplayRun, confirmed: bool, progress: _Progress, out: Printer
                      ) -> int:
    """Run the replay with Ctrl-C and SIGTERM stopping it; the verdict table and its code."""
    loop = asyncio.get_running_loop()
    # Put back afterwards (removing a loop's handler leaves SIGTERM to its default action
    # and SIGINT to Python's): asyncio's runner, or SIGTERM taken as Ctrl-C (cli.process).
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT,
                                                                signal.SIGTERM)}
    loop.add_signal_handler(signal.SIGINT, run.stop)
    loop.add_signal_handler(signal.SIGTERM, run.stop)
    try:
        result = await run.run(confirmed=confirmed)
    except ReplayInputError as exc:
        out.note("invalid", str(exc))
        return EXIT_INVALID
    except NotConfirmed as exc:
        out.note("error", str(exc))
        return EXIT_NOT_CONFIRMED
    finally:
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)
            if handler is not None:
                signal.signal(signum, handler)
        progress.close(run.progress)
    _table(result, out)
    return for_replay(result.worst())


def _table(result: ReplayResult, out: Printer) -> None:
    """The verdict table, target first (stderr with --json, whose stdout is the results)."""
    stream = sys.stderr if out.as_json else sys.stdout
    lines = []
    if result.halted:
        lines.append(f"stopped: {result.halted}; verdict so far ({result.progress.line()})")
    elif result.stopped:
        lines.append(f"interrupted: sending stopped; verdict so far ({result.progress.line()})")
    rows = [("target", result.target.tag()[1:-1]), ("run", result.run_id),
            *result.summary.rows()]
    width = max(len(k) for k, _ in rows)
    lines += [f"{key:<{width}}  {value}" for key, value in rows]
    lines += [f"  {n} x {reason}" for reason, n in result.summary.reasons.most_common(10)]
    if result.resume_file is not None:
        lines.append(f"rows written to {result.resume_file} (GWS never had them, safe to send "
                     f"again): {resume_command(result.resume_file, result.target.as_json())}")
    if result.used_file is not None:
        lines.append(f"the resume file given is set aside as {result.used_file} (resumed once: "
                     "not to be sent again)")
    if result.unconfirmed_file is not None:
        lines.append(f"rows written to {result.unconfirmed_file} (GWS may have them: accepted "
                     "or outcome unknown, no acknowledgement; check each by its referenceId "
                     "before sending again)")
    stream.write(terminal_safe("\n".join(lines)) + "\n")
    stream.flush()


def _rebuild(journal: Path, run_id: str | None, resume_dir: Path | None, out: Printer) -> int:
    try:
        rebuilt = rebuild_from_journal(journal, resume_dir, run_id)
    except ReplayInputError as exc:
        out.fail(str(exc), EXIT_INVALID)
    target = rebuilt.target or {}
    try:
        out.set_target(Target(**target), announce=False)
    except TypeError:
        pass  # an older journal without the target on its lines
    where = f"{target.get('profile', '?')} {target.get('url', '?')}"
    counts = ", ".join(f"{n} {k}" for k, n in sorted(rebuilt.counts.items())) or "nothing"
    ended = " (it ended normally: its own files were written then too)" if rebuilt.ended else ""
    obj = {"type": "rebuilt", "run": rebuilt.run_id, "planned": rebuilt.planned,
           "sent": rebuilt.sent, "counts": dict(rebuilt.counts), "journalTarget": target,
           "resumeFile": str(rebuilt.resume_file) if rebuilt.resume_file else None,
           "unconfirmedFile": str(rebuilt.unconfirmed_file) if rebuilt.unconfirmed_file
           else None}
    text = [f"replay {rebuilt.run_id} to {where}{ended}: {rebuilt.planned} planned, "
            f"{rebuilt.sent} sent; {counts}"]
    if rebuilt.resume_file:
        text.append(f"rows written to {rebuilt.resume_file} (GWS never had them, safe to send "
                    f"again): {resume_command(rebuilt.resume_file, target)}")
    if rebuilt.unconfirmed_file:
        text.append(f"rows written to {rebuilt.unconfirmed_file} (GWS may have them; check "
                    "each by its referenceId before sending again)")
    if rebuilt.missing:
        text.append(f"{rebuilt.missing} of those rows lack values the journal did not keep "
                    "(named in their _missing column): fill them in from your rows file "
                    "before resuming")
    obj["missing"] = rebuilt.missing
    out.emit(obj, "\n".join(text))
    return 0
