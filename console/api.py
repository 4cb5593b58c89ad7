"""The console for scripts and notebooks (top-level `await` in Jupyter/IPython):

    from console.api import connect
    engine = await connect()                       # the embedded simulator; or connect("prod")
    tracked = await engine.send({"applicationId": 134, "campaignName": "Campaign1", ...})
    await engine.wait(tracked)
    result = await engine.replay("callback-mobile", rows=frame, rate=5)
    await engine.close()

It opens its target exactly as the command line does (console.app.target): the same profile
search, the same refusals (a URL holding credentials), the target on every journal line; a
production profile's password is asked with getpass when none is given or configured, and
kept only in memory. A replay is a `console.app.replay.ReplayRun`, as for the CLI and the TUI.

Nothing here displays anything: `console.notebook` adds the rich display, the tables, the form
and the live event table (the `[notebook]` extra).
"""

from __future__ import annotations

import getpass
import math
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from console.app.replay import (
    ReplayInputError,
    ReplayInputs,
    ReplayProgress,
    ReplayResult,
    ReplayRun,
    ReplaySettings,
    load_inputs,
)
from console.app.replay_engine import DEFAULT_CONCURRENCY, DEFAULT_RATE, Outcome
from console.app.target import (
    OpenTarget,
    Target,
    TargetOptions,
    open_target,
    resolve_target,
)
from console.domain.correlation import Tracked
from console.domain.events import StreamItem, StreamStatus
from console.domain.rows import Row, RowsError, read_rows
from console.domain.templates import (
    Template,
    load_template,
    resolve_template,
    template_dirs,
    unused_names,
)
from console.errors import ProfileError
from console.gws.engine import check_seconds
from console.profile import PASSWORD_ENV
from console.profiles import search_path

if TYPE_CHECKING:
    from console.domain.model import AddRecord
    from console.gws.engine import Engine
    from console.gws.session import Me

__all__ = ["connect", "Console", "consoles", "RowsSource", "ask_password", "rows_from_records"]


class _Records(Protocol):
    """A pandas DataFrame, as far as a replay needs it (pandas is not imported here)."""

    def to_dict(self, orient: str) -> list[dict[Any, Any]]: ...


#: Rows for a replay: a CSV/YAML file, a pandas DataFrame, or a list of mappings.
RowsSource = Path | str | _Records | Sequence[Mapping[str, Any]]


def ask_password(label: str) -> str:
    """The password, asked without echo (a notebook shows a password box); it lives only in
    the connection's memory: never in a cell's output, the journal or a file. ProfileError
    when nobody can be asked (a notebook run headless: its kernel has no stdin)."""
    try:
        return getpass.getpass(f"{label}: ")
    except (EOFError, NotImplementedError):  # ipykernel's StdinNotImplementedError
        raise ProfileError(f"{label}: nobody to ask (no input here): give password=..., or "
                           f"set {PASSWORD_ENV} or the profile's password_from") from None


class Console:
    """One opened target: send, wait, follow the stream, replay. Close it (or `async with`)
    to stop everything it started (the embedded simulator too)."""

    def __init__(self, opened: OpenTarget) -> None:
        self.opened = opened
        """Target, connection, journal and engine (console.app.target)."""
        self.last_replay: ReplayRun | None = None
        """The replay started last (stop it with `stop_replay()`)."""
        _OPEN.add(self)

    # -- what it is ----------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """Session, stream, tracker and journal."""
        return self.opened.engine

    @property
    def target(self) -> Target:
        """Which server: on every journal line and every display."""
        return self.opened.target

    @property
    def me(self) -> Me | None:
        """The GWS user and the devices of the session."""
        return self.engine.me

    @property
    def status(self) -> StreamStatus | None:
        """The stream's last status (connected, reconnecting, gap, failed...)."""
        return self.engine.status

    @property
    def connected(self) -> bool:
        return self.engine.connected

    @property
    def devices(self) -> list[str]:
        """Device paths of the session (`/devices/<id>`), the default one first."""
        default = self.engine.session.device_path
        found = list(self.me.devices) if self.me else []
        return ([default] if default else []) + [d for d in found if d != default]

    def template(self, ref: str, profiles_dir: Path | str | None = None) -> Template:
        """A template by file, campaign/list/name or name, found as the CLI finds it (the
        profiles folders, then the shipped examples); TemplateError says what is wrong."""
        dirs = template_dirs(search_path(_path(profiles_dir)))
        return load_template(resolve_template(ref, dirs))

    # -- sending ---------------------------------------------------------------------------
    def record(self, fields: dict[str, Any]) -> AddRecord:
        """An AddRecord from GWS field names (RecordInvalid names every bad field)."""
        return self.engine.record(fields)

    async def send(self, record: AddRecord | dict[str, Any]) -> Tracked:
        """POST one record; its verdict arrives later (`wait`)."""
        return await self.engine.send(record)

    async def wait(self, tracked: Tracked, timeout_s: float | None = None) -> Tracked:
        """Until its verdict (acknowledged, failed, no_answer, unknown)."""
        return await self.engine.wait(tracked, timeout_s)

    async def send_and_wait(self, record: AddRecord | dict[str, Any],
                            timeout_s: float | None = None) -> Tracked:
        if timeout_s is not None:
            check_seconds(timeout_s, "timeout_s")  # before the POST, not after it
        return await self.wait(await self.send(record), timeout_s)

    def on_item(self, callback: Callable[[StreamItem], None]) -> None:
        """`callback` for every event and status change (must not block)."""
        self.engine.on_item(callback)

    def items(self) -> AsyncIterator[StreamItem]:
        return self.engine.items()

    # -- replay ------------------------------------------------------------------------------
    def prepare_replay(self, templates: str | Template | Sequence[str | Template], *,
                       rows: RowsSource | None = None, count: int = 1,
                       sets: dict[str, Any] | None = None, rate: float = DEFAULT_RATE,
                       concurrency: int = DEFAULT_CONCURRENCY, timeout_s: float = 10.0,
                       resume_dir: Path | str = ".", profiles_dir: Path | str | None = None,
                       on_outcome: Callable[[Outcome], None] | None = None,
                       on_progress: Callable[[ReplayProgress], None] | None = None,
                       ) -> ReplayRun:
        """A planned replay (nothing sent yet): check `run.plan.problems` and
        `run.confirmation()`, then `await run.run(confirmed=...)`. ReplayInputError when the
        templates, rows or settings cannot make one."""
        refs = [templates] if isinstance(templates, (str, Template)) else list(templates)
        rows_path = Path(rows) if isinstance(rows, (str, Path)) else None
        # Names (and files) are found as the CLI finds them; Template objects are taken as is.
        named = [r for r in refs if isinstance(r, str)]
        inputs = load_inputs(named, rows=rows_path, count=count, sets=sets,
                             profiles_dir=_path(profiles_dir)) if named else \
            ReplayInputs([], None, None, count, dict(sets or {}))
        loaded = iter(inputs.templates)
        inputs.templates = [r if isinstance(r, Template) else next(loaded) for r in refs]
        if not inputs.templates:
            raise ReplayInputError("name at least one template")
        if isinstance(rows, (str, Path)):
            if not named:  # load_inputs read them otherwise
                inputs.rows, inputs.rows_path = _read(Path(rows)), Path(rows)
        elif rows is not None:
            inputs.rows = rows_from_records(rows, inputs.templates)
        settings = ReplaySettings(rate=rate, concurrency=concurrency, timeout_s=timeout_s)
        run = ReplayRun(self.opened, inputs, settings, resume_dir=Path(resume_dir),
                        on_outcome=on_outcome, on_progress=on_progress)
        self.last_replay = run
        return run

    async def replay(self, templates: str | Template | Sequence[str | Template], *,
                     rows: RowsSource | None = None, count: int = 1,
                     sets: dict[str, Any] | None = None, rate: float = DEFAULT_RATE,
                     concurrency: int = DEFAULT_CONCURRENCY, timeout_s: float = 10.0,
                     resume_dir: Path | str = ".", confirm: bool | None = None,
                     progress: bool | None = None, profiles_dir: Path | str | None = None,
                     on_outcome: Callable[[Outcome], None] | None = None) -> ReplayResult:
        """Send records from templates (one per row of `rows`, or `count` per template) with
        the CLI's rate and concurrency limits, and return the verdict (`to_frame(result)` in
        console.notebook makes it a table).

        Everything is checked before the first send: ReplayInputError lists every problem
        and nothing is sent. A production target asks first: `confirm=None` asks with
        `input()` (y/N), `confirm=True` is the caller's yes, `confirm=False` refuses
        (NotConfirmed, nothing sent). `progress`: a progress bar (console.notebook; None:
        when the notebook extra is installed). `stop_replay()` stops it (from another task or
        a widget): the partial verdict and the resume/unconfirmed files are returned."""
        bar: Any = None
        if progress is None or progress:
            try:
                from console.notebook.progress import ReplayProgressBar
            except ImportError:
                if progress:
                    raise
            else:
                bar = ReplayProgressBar()
        run = self.prepare_replay(templates, rows=rows, count=count, sets=sets, rate=rate,
                                  concurrency=concurrency, timeout_s=timeout_s,
                                  resume_dir=resume_dir, profiles_dir=profiles_dir,
                                  on_outcome=on_outcome,
                                  on_progress=bar.update if bar is not None else None)
        if not run.plan.ok:
            raise ReplayInputError("nothing sent:\n  " + "\n  ".join(run.plan.problems))
        question = run.confirmation()
        confirmed = False
        if question is not None:
            confirmed = confirm if confirm is not None else \
                input(question.question() + " [y/N] ").strip().lower() in ("y", "yes")
        if bar is not None:
            bar.start(run)
        try:
            result = await run.run(confirmed=confirmed)
        finally:
            if bar is not None:
                bar.close(run.progress)
        return result

    def stop_replay(self) -> None:
        """Stop the running replay (its `await` returns the partial verdict)."""
        if self.last_replay is not None:
            self.last_replay.stop()

    # -- closing -----------------------------------------------------------------------------
    async def close(self) -> None:
        _OPEN.discard(self)
        await self.opened.close()

    async def __aenter__(self) -> Console:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        status = self.status.kind if self.status else "not started"
        return f"<Console {self.target.tag()} stream {status}>"


_OPEN: weakref.WeakSet[Console] = weakref.WeakSet()


def consoles() -> list[Console]:
    """The consoles open in this process (a display finds a request's target here)."""
    return list(_OPEN)


def rows_from_records(records: _Records | Iterable[Mapping[str, Any]],
                      templates: list[Template]) -> list[Row]:
    """Rows for a replay from a DataFrame (or mappings): one per row, numbered from 1 as
    `DataFrame:N` in messages. A column that no template uses is refused (ReplayInputError
    with a "did you mean"), never dropped; an empty cell (NaN, None) is an empty value, as in
    a CSV file; numpy numbers become Python numbers."""
    names = [str(c) for c in getattr(records, "columns", ())]
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:  # to_dict keeps one of them, silently
        raise ReplayInputError(f"DataFrame: column {', '.join(repr(c) for c in twice)} appears "
                               "more than once; keep one")
    table = records.to_dict("records") if hasattr(records, "to_dict") else list(records)
    columns: list[str] = []
    for record in table:
        for key in record:
            if str(key) not in columns:
                columns.append(str(key))
    unused = unused_names([c for c in columns if not c.startswith("_")], templates)
    if unused:
        raise ReplayInputError(f"DataFrame: column {', '.join(unused)} is used by no "
                               f"placeholder of template {', '.join(t.name for t in templates)} "
                               "and is no AddRecord field; rename or drop it")
    rows: list[Row] = []
    for number, record in enumerate(table, start=1):
        row = Row({str(k): _plain(v) for k, v in record.items()})
        row.line = number
        row.path = Path("DataFrame")
        rows.append(row)
    return rows


def _plain(value: Any) -> Any:
    """A cell as the template expansion takes it."""
    if value is None:
        return ""
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            value = item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return int(value)  # a phone column read as float because of an empty cell
    return value


async def connect(profile: str | None = None, *, url: str | None = None, user: str | None = None,
                  password: str | None = None, profiles_dir: Path | str | None = None,
                  journal: Path | str | None = None, ack_timeout_s: float = 10.0,
                  ask: Callable[[str], str] | None = ask_password) -> Console:
    """An open Console on a profile (default: demo, the embedded simulator) or on url/user.
    The password: `password`, else the environment or keyring, else asked with `ask`
    (getpass; None: never ask, ProfileError instead). It is never stored but in memory."""
    options = TargetOptions(profile, _path(profiles_dir), url, user, _path(journal))
    resolved = resolve_target(options, password=password, prompt=ask)
    opened = await open_target(resolved, ack_timeout_s=ack_timeout_s)
    return Console(opened)


def _path(value: Path | str | None) -> Path | None:
    """Paths may be given as text (a notebook user types strings)."""
    return None if value is None else Path(value).expanduser()


def _read(path: Path) -> list[Row]:
    try:
        return read_rows(path)
    except RowsError as exc:
        raise ReplayInputError(str(exc)) from None
