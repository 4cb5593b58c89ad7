"""`outbound-console replay`: templates × rows/count, paced, with a verdict table."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from console.commands import (
    EXIT_ERROR_NOTIFICATION, EXIT_INVALID, EXIT_NO_ANSWER, EXIT_REFUSED, EXIT_UNREACHABLE,
    _prompt, with_target,
)
from console.engine import Engine
from console.errors import ConsoleError, ProfileError
from console.journal import Journal
from console.profiles import search_path
from console.replay import (
    DEFAULT_CONCURRENCY, DEFAULT_RATE, Job, Outcome, Replay, plan, summarise, write_resume,
)
from console.rows import RowsError, read_rows
from console.target import choose_profile, open_connection
from console.templates import TemplateError, load_template, resolve_template, template_dirs

__all__ = ["replay", "EXIT_INTERRUPTED"]

EXIT_INTERRUPTED = 130


class _Progress:
    """A bar on a terminal, plain lines when piped (stderr either way)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.counts: dict[str, int] = {}
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.counts[outcome.state] = self.counts.get(outcome.state, 0) + 1
        now = time.monotonic()
        rate = self.done / max(now - self.started, 1e-6)
        ack = self.counts.get("acknowledged", 0)
        bad = self.done - ack
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                             f"  ack {ack}  other {bad}  {rate:.1f}/s ")
            sys.stderr.flush()
        elif now - self.last_line >= 1.0 or self.done == self.total:
            self.last_line = now
            sys.stderr.write(f"progress {self.done}/{self.total} acknowledged {ack} other {bad} "
                             f"rate {rate:.1f}/s\n")

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


@click.command()
@click.argument("template_refs", nargs=-1, required=True, metavar="TEMPLATE...")
@with_target
@click.option("--rows", "rows_path", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV or YAML rows: one record per row, columns fill the placeholders.")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Records per template (without --rows).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="A placeholder value (or field) for every record; wins over rows.")
@click.option("--rate", default=DEFAULT_RATE, show_default=True, type=float,
              help="At most this many records per second (max 5000).")
@click.option("--concurrency", default=DEFAULT_CONCURRENCY, show_default=True, type=int,
              help="At most this many POSTs in flight (max 64).")
@click.option("--timeout", default=10.0, show_default=True, type=float,
              help="Seconds to wait for each acknowledgement.")
@click.option("--dry-run", is_flag=True, help="Check everything and print the bodies; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON result per record.")
@click.option("--resume-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Where to write the rows of what was not acknowledged.")
def replay(template_refs: tuple[str, ...], profile_name: str | None, profiles_dir: Path | None,
           url: str | None, user: str | None, journal_path: Path | None, rows_path: Path | None,
           count: int, sets: tuple[str, ...], rate: float, concurrency: int, timeout: float,
           dry_run: bool, as_json: bool, resume_dir: Path) -> None:
    """Send records from templates and give a verdict per record.

    \b
    Exit codes: 0 every record acknowledged, 2 invalid templates/rows/flags,
    3 some refused by GWS, 4 some got an error notification, 5 some got no answer,
    6 GWS unreachable or profile problem, 130 interrupted (Ctrl-C).
    """
    from console.replay import MAX_CONCURRENCY, MAX_RATE

    if not 0 < rate <= MAX_RATE:
        raise click.UsageError(f"--rate must be above 0 and at most {MAX_RATE:g}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise click.UsageError(f"--concurrency must be 1..{MAX_CONCURRENCY}")
    values: dict[str, Any] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--set takes name=value, got {item!r}")
        values[key.strip()] = value
    try:
        dirs = template_dirs(search_path(profiles_dir))
        loaded = [load_template(resolve_template(ref, dirs)) for ref in template_refs]
        rows = read_rows(rows_path) if rows_path else None
    except (TemplateError, RowsError) as exc:
        click.echo(f"invalid: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    if dry_run:
        jobs = plan(loaded, rows, count, values, "/devices/session-default")
        bad = [j for j in jobs if j.record is None]
        for job in jobs:
            if job.record is not None:
                click.echo(json.dumps(job.record.body(), ensure_ascii=False))
            else:
                click.echo(f"invalid: record {job.seq}: {job.error}", err=True)
        click.echo(f"dry run: {len(jobs) - len(bad)} valid, {len(bad)} invalid, nothing sent "
                   "(devicePath 'session-default' stands for the session's device)", err=True)
        sys.exit(EXIT_INVALID if bad else 0)
    try:
        profile = choose_profile(profile_name, profiles_dir, url, user)
    except ProfileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNREACHABLE)
    sys.exit(asyncio.run(_run(profile, loaded, rows, count, values, rate, concurrency, timeout,
                              as_json, journal_path, resume_dir)))


async def _run(profile: Any, loaded: list[Any], rows: Any, count: int, values: dict[str, Any],
               rate: float, concurrency: int, timeout: float, as_json: bool,
               journal_path: Path | None, resume_dir: Path) -> int:
    try:
        async with open_connection(profile, _prompt) as connection:
            journal = Journal(path=journal_path, secrets=(connection.password.reveal(),))
            engine = Engine(connection, journal=journal, ack_timeout_s=timeout)
            try:
                await engine.open()
                jobs = plan(loaded, rows, count, values, engine.session.device_path)
                return await _replay(engine, jobs, rate, concurrency, timeout, as_json,
                                     resume_dir, connection.simulator)
            finally:
                await engine.close()
    except ConsoleError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_UNREACHABLE


async def _replay(engine: Engine, jobs: list[Job], rate: float, concurrency: int,
                  timeout: float, as_json: bool, resume_dir: Path, simulator: bool) -> int:
    progress = _Progress(len(jobs))

    def on_outcome(outcome: Outcome) -> None:
        if as_json:
            sys.stdout.write(json.dumps(outcome.as_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        progress.update(outcome)

    run = Replay(engine, jobs, rate=rate, concurrency=concurrency, timeout_s=timeout,
                 on_outcome=on_outcome)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, run.stop)
    loop.add_signal_handler(signal.SIGTERM, run.stop)
    if simulator:
        click.echo("replaying against the embedded SIMULATOR", err=True)
    started = time.monotonic()
    try:
        outcomes = await run.run()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
        progress.close()
    summary = summarise(outcomes, time.monotonic() - started)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    written = write_resume(outcomes, resume_dir / f"replay-{stamp}")
    out = sys.stderr if as_json else sys.stdout
    if run.stopped:
        out.write("interrupted: sending stopped; verdict so far\n")
    width = max(len(k) for k, _ in summary.rows())
    for key, value in summary.rows():
        out.write(f"{key:<{width}}  {value}\n")
    for reason, n in summary.reasons.most_common(10):
        out.write(f"  {n} x {reason}\n")
    for path in written:
        kind = "never accepted by GWS, safe to send again" if path.name.endswith(
            ".resume.csv") else "accepted by GWS but not confirmed: check before resending"
        out.write(f"rows written to {path} ({kind}): replay ... --rows {path}\n")
    out.flush()
    if run.stopped:
        return EXIT_INTERRUPTED
    counts = summary.counts
    if counts["invalid"]:
        return EXIT_INVALID
    if any(o.state == "failed" and not o.by_notification for o in outcomes):
        return EXIT_REFUSED
    if any(o.by_notification for o in outcomes):
        return EXIT_ERROR_NOTIFICATION
    if counts["no_answer"] or counts["unconfirmed"]:
        return EXIT_NO_ANSWER
    return 0
