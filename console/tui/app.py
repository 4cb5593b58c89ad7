"""The operator console: form, live events, templates, history — keyboard first, 80x24 ready."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input, Static

from console.app.heap import resume_collection
from console.app.history import History
from console.domain.events import Event, StreamItem, StreamStatus
from console.domain.fields import new_reference_id
from console.domain.history import HistoryEntry, ReplayEntry
from console.errors import ConsoleError, RecordInvalid
from console.tui.event_list import EventList, EventStatus, GapRow
from console.tui.footer import KeyFooter
from console.tui.form import RecordForm
from console.tui.header import StatusHeader
from console.tui.keymap import keymap_path, load_keymap
from console.tui.plain import Plain
from console.tui.repaint import RepaintLimiter
from console.tui.times import human_time
from console.tui.typeahead import TypeAhead

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.widget import AwaitMount

    from console.app.early_sim import EarlySimulator
    from console.app.replay import ReplayInputs, ReplayResult, ReplayRun
    from console.app.target import OpenTarget, ResolvedTarget
    from console.domain.correlation import Tracked
    from console.domain.model import AddRecord
    from console.domain.templates import Template
    from console.gws.connection import Connection
    from console.gws.engine import Engine
    from console.profile import Profile
    from console.tui.history_pane import HistoryPane
    from console.tui.palette import PaletteAction
    from console.tui.replay_dialog import ReplayRequest
    from console.tui.templates_pane import TemplatesPane

__all__ = ["OutboundApp"]

# Only Textual and these light modules are imported before the first frame; the engine,
# the model, aiohttp and YAML come in the worker that starts after it, the dialogs and the
# templates and history panes when first used (measured in bench/tui.py).

NARROW = 110  # below this many columns the panes switch instead of sitting side by side
#: Waits between tries when GWS cannot be reached at start (then the last one, repeated).
RETRY_DELAYS_S = (1, 2, 4, 8, 15, 30)
PROBLEMS_SHOWN = 1000  # a replay plan's problems listed in its dialog (then: how many more)
PANES_WAIT_S = 2.0
"""Longest the templates and history panes wait for the stream to connect before they are
built anyway (on first use they are built at once)."""


def profile_label(profile: Profile) -> str:
    """The profile's name as the header shows it (`--url` for one made from the flags)."""
    return "--url" if profile.name == "(flags)" else profile.name


class MainScreen(Screen[None]):
    """The console's screen: starts with the first form field focused (set as it is built;
    moving the focus afterwards would restyle the form once more before the first frame)."""

    AUTO_FOCUS = "#f-applicationId"


class OutboundApp(App[None]):
    """`outbound-console` with no command: this app."""

    TITLE = "outbound-console"
    ENABLE_COMMAND_PALETTE = True
    CSS = """
    Screen { layout: vertical; }
    #body { height: 1fr; }
    #left { width: 1fr; min-width: 40; }
    #right { width: 1fr; border-left: solid $panel; }
    #body.narrow #right { border-left: none; }
    #event-status { height: 1; background: $panel; color: $text; }
    #event-headings { height: 1; text-style: bold underline; color: $text-muted; }
    #filter { height: 1; border: none; display: none; }
    #filter.shown { display: block; }
    #state.pending { color: $warning; }
    #state.acknowledged { color: $success; text-style: bold; }
    #state.failed, #state.no_answer { color: $error; text-style: bold; }
    /* Without colour, what colour showed is shown by attributes: the cursor and the
       highlighted line in reverse video, placeholders in italics (dim is a colour in
       Textual: it would vanish), the focused field underlined. */
    App.-no-color Input > .input--cursor { text-style: reverse; }
    App.-no-color Input > .input--placeholder { text-style: italic; }
    App.-no-color Input:focus { text-style: underline; }
    App.-no-color Select:focus > SelectCurrent { text-style: bold underline; }
    App.-no-color Tree > .tree--cursor { text-style: bold reverse; }
    /* An option list's styles carry no reverse: its highlight is underlined. */
    App.-no-color OptionList > .option-list--option-highlighted { text-style: bold underline; }
    App.-no-color KeyButton:focus { text-style: bold reverse; }
    App.-no-color RecordForm .error { text-style: bold; }
    App.-no-color #event-status { text-style: reverse; }
    """

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="request.send", priority=True),
        Binding("f2", "show('form')", "Form", id="view.form"),
        Binding("f3", "show('events')", "Events", id="view.events"),
        Binding("f4", "show('templates')", "Tpl", id="view.templates"),
        Binding("f5", "show('history')", "Hist", id="view.history"),
        Binding("ctrl+f", "filter", "Filter", id="events.filter"),
        Binding("ctrl+o", "save_template", "Save", id="request.save"),
        Binding("ctrl+y", "copy_curl", "curl", id="request.curl"),
        # Shown (and working) only while a replay runs / while not connected: check_action.
        Binding("ctrl+c", "stop_replay", "Stop replay", id="replay.stop", priority=True),
        Binding("ctrl+t", "reconnect", "Reconnect", id="target.reconnect", priority=True),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        # Shown while notifications are on screen (they can cover the panes at 80x24); works
        # in a field and in a dialog too (no text box uses it).
        Binding("ctrl+g", "clear_notes", "Clear notes", id="notes.clear", priority=True),
    ]

    view = reactive("form", init=False)

    def __init__(self, profile: Profile, *, journal_path: Path | None = None,
                 profiles_dir: Path | None = None, clock: Callable[[], float] | None = None,
                 reference_ids: Callable[[], str] | None = None, sim_port: int = 0,
                 monotonic: Callable[[], float] | None = None,
                 max_rows: int = 5000, prompt: Callable[[str], str] | None = None,
                 template: Template | None = None, password: str | None = None,
                 resume_dir: Path | None = None,
                 run_ids: Callable[[], str] | None = None,
                 max_repaint_rate: float = 0.0,
                 early_sim: EarlySimulator | None = None) -> None:
        super().__init__()
        self.repaint = RepaintLimiter(max_repaint_rate)
        """Stream-driven repaints per second (0: unlimited; console.tui.repaint)."""
        if self.no_color:
            # NO_COLOR means no colour: Textual's default for it is greyscale; use its
            # colour-stripping filter instead (attributes such as bold and reverse stay).
            from textual.filter import Monochrome, NoColor

            self._filters = [NoColor() if isinstance(f, Monochrome) else f
                             for f in self._filters]
            self.add_class("-no-color")  # the attribute marks in CSS below
        self.profile = profile
        self.journal_path = journal_path
        self.profiles_dir = profiles_dir
        self.clock = clock
        self.reference_ids = reference_ids or new_reference_id
        self.sim_port = sim_port
        self.early_sim = early_sim
        """The embedded simulator's process, started before Textual was imported (launch)."""
        self.monotonic = monotonic
        self.max_rows = max_rows
        self.prompt = prompt
        """Asks for the password before the first try (the terminal's, or a test's); when it
        gives none, or GWS says 401, a dialog naming the server asks."""
        self.password = password
        """The password resolved before the console started (None: ask)."""
        self.resume_dir = resume_dir
        """Where a replay writes its resume/unconfirmed files (None: the working folder, as
        the CLI's replay)."""
        self.run_ids = run_ids
        """Makes a replay's run id (None: the application layer's; fixed in screenshots)."""
        self.opened: OpenTarget | None = None
        """The target, once its session is open (console.app.target)."""
        self.replay_run: ReplayRun | None = None
        """The replay running now (one at a time)."""
        self._replay_entry: ReplayEntry | None = None
        self._quit_after_replay = False
        self._retry_now = asyncio.Event()
        """Set by the reconnect key: the next try at start goes now."""
        self._stream_connected = asyncio.Event()
        """Set once the stream has said `connected` (the panes are built after it)."""
        self.history = History(on_change=self._history_changed, clock=self.now)
        """Sends and replays of this session, after the journal's (console.app.history)."""
        self.start_template = template
        """The template to open with (`--template`), already loaded and checked."""
        self.engine: Engine | None = None
        self.connection: Connection | None = None
        self.current: Tracked | None = None
        self.loaded_template: Template | None = None
        self._pending: list[StreamItem] = []
        self._history_bodies: dict[str, dict[str, Any]] = {}
        self.ready = False
        """Connected to GWS, the devices known: a send can go."""
        self._send_waiting: dict[str, Any] | None = None
        """The form as it was when ctrl+s was typed ahead of the connection (a send waiting
        for it), else None."""
        self._untied: list[Tracked] = []
        """Requests sent from the form whose user event is not tied in the pane yet."""
        self.events_seen = 0
        """Every event received (the journal has them all; the pane keeps `max_rows`)."""
        self.user_keymap: dict[str, str] = {}
        """Binding id -> keys from keymap.yaml (the palette shows these keys)."""
        self._notes_shown = False
        """Notifications were on screen when the bindings were last refreshed."""
        self.typeahead = TypeAhead(self)
        """Keys typed ahead wait until the previous key has had its effects."""

    async def on_event(self, event: events.Event) -> None:
        # Keys and pastes from the terminal go through the type-ahead gate first.
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded and \
                self.typeahead.hold(event):
            return
        await super().on_event(event)

    # -- layout ----------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[None]:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        # The layout is right from the start: changing it later restyles every widget.
        narrow, show_left, show_right = self._panes_shown(self.size.width)
        with Horizontal(id="body", classes="narrow" if narrow else ""):
            # The templates and history panes are mounted when first shown (a faster start).
            with ContentSwitcher(initial="form", id="left") as left:
                left.display = show_left
                yield RecordForm(id="form", checks_held=True)  # until the engine is imported
            # Filled just after the first frame (hidden at 80 columns; no events before then).
            right = Vertical(id="right")
            right.display = show_right
            yield right
        yield KeyFooter(id="footer")

    @property
    def main_screen(self) -> Screen[Any]:
        return self.screen_stack[0] if self.screen_stack else self.screen

    def main(self, selector: Any, expect_type: Any = None) -> Any:
        """A widget of the main screen, even while a dialog is on top (App.query_one would
        search the dialog)."""
        screen = self.main_screen
        return screen.query_one(selector, expect_type) if expect_type else \
            screen.query_one(selector)

    def _events(self) -> EventList:
        """The event pane's list, its status line and filter mounted on first use."""
        found = self.main_screen.query(EventList)
        if found:
            return found.first(EventList)
        events = EventList(max_rows=self.max_rows, now=self.now, id="events",
                           limiter=self.repaint,
                           shown_time=(lambda at: self.now()) if self.clock else None)
        box = Input(placeholder="filter: text, channel or referenceId (esc clears)",
                    id="filter")
        box.cursor_blink = not self.is_headless
        self.main("#right").mount_all([EventStatus(self.repaint, id="event-status"), box,
                                       Plain("", id="event-headings"), events])
        return events

    def now(self) -> float:
        """Wall-clock time (fixed in tests and screenshots)."""
        return self.clock() if self.clock else time.time()

    @staticmethod
    def binding_ids() -> dict[str, str]:
        """Every binding id the console declares -> its default keys."""
        from console.tui.palette import default_keys
        from console.tui.templates_pane import TemplatesPane, TemplateTree

        return default_keys(OutboundApp.BINDINGS, RecordForm.BINDINGS, EventList.BINDINGS,
                            TemplatesPane.BINDINGS, TemplateTree.BINDINGS)

    def _apply_keymap(self) -> None:
        if not keymap_path().is_file():
            return  # nothing to read: the panes' bindings are not imported for nothing
        keymap, problem = load_keymap(known=self.binding_ids())
        if keymap:
            self.set_keymap(keymap)
            self.user_keymap = keymap
        if problem:
            self.notify(problem, title="keymap.yaml", severity="warning", timeout=20)

    def on_mount(self) -> None:
        # Textual writes frames from a thread; under an event flood the asyncio thread holds the
        # GIL for the default 5 ms slices and key presses show late. Shorter slices fix that.
        sys.setswitchinterval(0.0005)
        header = self.main(StatusHeader)
        header.profile = profile_label(self.profile)
        header.simulator = self.profile.simulator
        header.production = self.profile.production
        header.environment = self.profile.environment
        header.server = "(embedded simulator)" if self.profile.simulator else (
            self.profile.url or "")
        header.user = self.profile.username or ""
        form = self.main(RecordForm)
        form.set_reference(self.reference_ids())
        if self.is_headless:
            # Tests and screenshots: no animation, no blinking cursor: reproducible frames.
            self.animation_level = "none"
            for box in self.query(Input):
                box.cursor_blink = False
        else:
            self._quit_on_signals()
        if self.start_template is not None:
            self._fill_form(self.start_template.request, self.start_template)
        self.repaint.attach(self)
        self.repaint.on_quiet(self._event_status)  # the rate-limit indicator goes
        self.set_interval(0.05, self._drain_stream)
        self.set_interval(0.1, self._show_replay_progress)
        self.set_interval(0.5, self._notes_changed)
        # After the first frame is on screen: importing the engine takes ~0.3 s. The events
        # pane is built while it imports (a key typed at the first frame echoes first).
        self.call_after_refresh(self._start)

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: this runs before App's own handler records the new size.
        self._layout(event.size.width)

    def _panes_shown(self, width: int) -> tuple[bool, bool, bool]:
        """(narrow, left pane shown, right pane shown) at this width and view."""
        narrow = width < NARROW
        events = self.view == "events"
        return narrow, not (narrow and events), not narrow or events

    def _layout(self, width: int) -> None:
        # The panes are shown and hidden through their own `display`, not a class on #body:
        # a class restyles every widget below it (~100 ms of a key press under a flood).
        narrow, show_left, show_right = self._panes_shown(width)
        body = self.main("#body")
        if body.has_class("narrow") != narrow:
            body.set_class(narrow, "narrow")
        left, right = self.main("#left"), self.main("#right")
        if (left.display, right.display) == (show_left, show_right):
            return
        left.display, right.display = show_left, show_right
        # Textual repaints only the widgets whose place changed; a pane shown again in the
        # place it had before another one covered it could keep the other's lines (seen under
        # a flood): the whole screen is repainted once the new layout is in.
        self.call_after_refresh(self.main_screen.refresh)

    def watch_view(self, view: str) -> None:
        if view != "events":
            self.main("#left", ContentSwitcher).current = view
        self._layout(self.size.width)
        self.main(KeyFooter).refresh()  # the shown pane's own key leaves the footer

    def _pane(self, view: str) -> Any:
        """The templates or history pane, mounted on first use."""
        return self._pane_mounting(view)[0]

    def _pane_mounting(self, view: str) -> tuple[Any, AwaitMount | None]:
        """The pane, and what to await for it to be mounted when it was not yet."""
        found = self.main_screen.query(f"#{view}")
        if found:
            return found.first(), None
        from console.tui.history_pane import HistoryPane
        from console.tui.templates_pane import TemplatesPane

        pane = TemplatesPane(self.profiles_dir, id="templates") if view == "templates" \
            else HistoryPane(self.history.entries, id="history", now=self.now)
        switcher = self.main("#left", ContentSwitcher)
        pane.display = switcher.current == view  # a ContentSwitcher shows what is mounted
        return pane, switcher.mount(pane)

    async def action_show(self, view: str) -> None:
        if self._refused_in_dialog(f"view.{view}", f"show the {view}"):
            return
        target = {"form": "#f-applicationId", "events": "#events",
                  "templates": "#template-tree", "history": "#history-list"}[view]
        if view in ("templates", "history"):
            self._pane(view)
            if not self.main_screen.query(target):
                # Just mounted: let it compose before it is shown and focused (only then: a
                # turn of the loop is a burst of the stream's work during a flood).
                await asyncio.sleep(0)
        elif view == "events":
            self._events()
        self.view = view
        self.main(target).focus()

    # -- command palette -------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from functools import partial

        from console.tui.palette import PALETTE, key_for
        from console.tui.templates_pane import TemplatesPane, is_example

        yield from super().get_system_commands(screen)
        defaults = self.binding_ids()
        for entry in PALETTE:
            key = key_for(entry.binding_id, defaults, self.user_keymap)
            yield SystemCommand(entry.title, f"{entry.help}  ({key})",
                                partial(self._run_palette_action, entry))
        # Every template by name: the palette loads it into the form (Ctrl+S then sends it).
        found = self.main_screen.query("#templates")
        for template in found.first(TemplatesPane).all_templates() if found else []:
            where = f"{template.campaign} / {template.calling_list}"
            yield SystemCommand(f"Template {template.name}",
                                f"load into the form: {where}"
                                + ("  (example)" if is_example(template) else ""),
                                partial(self._load_into_form, template.request, template))

    @property
    def history_entries(self) -> list[HistoryEntry | ReplayEntry]:
        """The history, oldest first (sends and replays)."""
        return self.history.entries

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The stop key exists while a replay runs; the reconnect key while not connected.
        if action == "stop_replay":
            return self.replay_run is not None
        if action == "clear_notes":
            return bool(self._notifications)
        if action == "reconnect":
            return self.opened is None and \
                self.main(StatusHeader).status in ("unreachable", "failed")
        return True

    def action_clear_notes(self) -> None:
        """Close every notification on screen at once."""
        self.clear_notifications()
        self._notes_changed()

    def _notes_changed(self) -> None:
        """The clear key shows in the footer exactly while notifications are on screen
        (checked on the replay-progress timer too: they also go by themselves)."""
        shown = bool(self._notifications)
        if shown != self._notes_shown:
            self._notes_shown = shown
            self.refresh_bindings()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        # Never markup, whoever asks (a widget's notify passes markup=True): messages quote
        # GWS, files and rows, and a `[/x]` in them raised MarkupError (console/tui/plain.py).
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)
        self._notes_changed()

    def _refused_in_dialog(self, binding_id: str | None, what: str) -> bool:
        """True (and a short note) when a dialog is open: the main screen's keys (send, save,
        curl, the panes...) wait until it is answered, so a ctrl+s typed in a confirmation
        cannot send the form behind it. The dialog keeps its own keys."""
        if self.screen is self.main_screen:
            return False
        key = f"{self._key(binding_id)} ({what})" if binding_id else what
        self.notify(f"{key}: not while a dialog is open; answer it or esc first",
                    severity="warning", timeout=4)
        return True

    async def _run_palette_action(self, entry: PaletteAction) -> None:
        if entry.action not in ("stop_replay", "reconnect") and \
                self._refused_in_dialog(entry.binding_id, entry.title.lower()):
            return
        if not entry.view and self.check_action(entry.action, ()) is not True:
            self.notify(f"{entry.title}: nothing to do now", severity="warning")
            return
        if entry.view is not None:
            await self.action_show(entry.view)
        pane, _, action = entry.action.rpartition(".")
        if not pane:
            await self.run_action(action)
            return
        target = self._events() if pane == "events" else self.main(RecordForm) \
            if pane == "form" else self._pane(pane)
        await self.run_action(action, target)

    # -- the engine ------------------------------------------------------------------------
    @work(exclusive=True, group="engine")
    async def _start(self) -> None:
        # The first frame is out. Collection (paused during start-up, see console.app.heap)
        # resumes once the engine is imported; what start-up built lives as long as the app,
        # so it goes out of the collector's reach (frozen) without a full collection first:
        # that pass (0.1-0.4 s on the loop) was on the way to "connected", for a few hundred
        # objects of start-up garbage in cycles, which stay.
        # The engine's (and the embedded simulator's) imports, ~0.5 s, in a thread: the loop
        # keeps painting and echoing keys meanwhile (bench/tui.py, "usable").
        # (The simulator's only when it runs in-process: not when it was started early.)
        in_process_sim = self.profile.simulator and self.early_sim is None
        imported = asyncio.ensure_future(asyncio.to_thread(_import_engine, in_process_sim))
        self._apply_keymap()
        self._events()
        await imported
        self.main(RecordForm).release_checks()
        resume_collection()
        opened = await self._open()
        if opened is None:
            return
        engine = opened.engine
        self.opened, self.engine, self.connection = opened, engine, opened.connection
        self.refresh_bindings()
        header = self.main(StatusHeader)
        me = engine.me
        assert me is not None
        # Everything loaded so far lives as long as the app: keep it out of the garbage
        # collector's full passes, which otherwise pause the UI during event floods.
        gc.freeze()
        header.user = me.user_name
        header.device = engine.session.device_path or ""
        self.main(RecordForm).set_devices(list(me.devices), engine.session.device_path)
        # Now that the first frame is long out, build the other panes so F4/F5 are instant
        # and read the journal's history, before the console says it is ready; once the
        # stream is connected (or has had its time): done first, they would hold up its
        # handshake on this loop (bench/tui.py, "connected").
        try:
            await asyncio.wait_for(self._stream_connected.wait(), PANES_WAIT_S)
        except asyncio.TimeoutError:
            pass
        for view in ("templates", "history"):
            mounting = self._pane_mounting(view)[1]
            if mounting is not None:
                await mounting  # the templates read: the palette lists them once ready
        if opened.journal.path.is_file():
            self.history.load_journal(opened.journal.path)
        self.ready = True
        for warning in me.warnings:
            self.notify(warning, severity="warning", timeout=20)

    async def _open(self) -> OpenTarget | None:
        """Open the target through the application layer, until it works: an unreachable
        GWS is tried again with growing waits (the reconnect key tries at once), a 401 asks
        for the password again. None when the user gave up (or a profile problem that
        trying again cannot fix)."""
        from dataclasses import replace

        from console.app.target import ResolvedTarget, open_target
        from console.domain.journal import JournalError
        from console.errors import GwsError, ProfileError

        header = self.main(StatusHeader)
        resolved = ResolvedTarget(self.profile, None, self.journal_path)
        tries = 0
        why = ""
        while True:
            if not self.profile.simulator and resolved.password is None:
                password = await self._password(resolved, why)
                if password is None:
                    await self._stopped_trying("no password given")
                    continue
                resolved = resolved.with_password(password)
            header.status, header.detail = "connecting", ""
            self.refresh_bindings()
            try:
                opened = await open_target(resolved, clock=self.monotonic,
                                           sim_port=self.sim_port, wait_connected_s=0,
                                           on_item=self._collect, early=self.early_sim)
            except GwsError as exc:
                if not_authenticated(exc):
                    # Wrong user or password: ask again, naming the server (never `failed` for
                    # good: a typo in a password is not the end of the incident).
                    resolved = replace(resolved, password=None)
                    why = f"GWS said 401 / statusCode 20 (wrong user or password) for user " \
                          f"{resolved.profile.username}"
                    self.password = None
                    header.status, header.detail = "failed", "wrong user or password"
                    continue
                tries = await self._try_again_later(exc, tries)
                continue
            except (ProfileError, JournalError) as exc:  # trying again cannot fix them
                header.status, header.detail = "failed", str(exc)[:200]
                self.notify(str(exc), title="cannot start", severity="error", timeout=30)
                return None
            header.server = opened.connection.base_url
            header.detail = ""
            if tries:
                self.notify(f"connected to {opened.connection.base_url}")
            return opened

    async def _password(self, resolved: ResolvedTarget, why: str) -> str | None:
        """The password: the one given at start (first try), else a dialog naming the
        server."""
        from console.tui.dialogs import Ask

        if not why:
            if self.password:
                return self.password
            if self.prompt is not None:
                given = self.prompt(f"password for {resolved.profile.username}")
                if given:
                    return given
        server = resolved.profile.url or "(embedded simulator)"
        question = (f"{why}.\n" if why else "") + \
            f"Password for {resolved.profile.username} at {server} (profile " \
            f"{resolved.profile.name}):"
        answer = await self.push_screen_wait(Ask(question, password=True, purpose="password"))
        return answer or None

    async def _stopped_trying(self, why: str) -> None:
        """Wait for the reconnect key (nothing is tried until then)."""
        header = self.main(StatusHeader)
        header.status, header.detail = "failed", f"{why}; {self._key('target.reconnect')} " \
            "tries again"
        self._retry_now.clear()
        self.refresh_bindings()
        await self._retry_now.wait()

    async def _try_again_later(self, exc: Exception, tries: int) -> int:
        """Count down to the next try on the header (the reconnect key cuts it short)."""
        header = self.main(StatusHeader)
        wait = RETRY_DELAYS_S[min(tries, len(RETRY_DELAYS_S) - 1)]
        if tries == 0:
            self.notify(f"{exc}\ntrying again (with growing waits); "
                        f"{self._key('target.reconnect')} tries now", title="GWS unreachable",
                        severity="warning", timeout=15)
        self._retry_now.clear()
        header.status = "unreachable"
        self.refresh_bindings()
        for left in range(wait, 0, -1):
            header.detail = f"next try in {left} s"
            try:
                await asyncio.wait_for(self._retry_now.wait(), 1.0)
                break
            except asyncio.TimeoutError:
                pass
        return tries + 1

    def action_reconnect(self) -> None:
        """Try to reach GWS now instead of at the end of the countdown."""
        self._retry_now.set()

    def _key(self, binding_id: str) -> str:
        """The key that runs a binding now (the user's keymap honoured), as the footer says."""
        from console.tui.palette import key_for

        key = key_for(binding_id, self.binding_ids(), self.user_keymap)
        return key.replace("ctrl+", "^")

    async def action_quit(self) -> None:
        from console.tui.dialogs import Confirm

        if isinstance(self.screen, Confirm) and self.screen.purpose == "quit":
            return  # already asking
        if self._quit_after_replay:
            self.notify("stopping the replay: the console quits once its verdict and files "
                        "are written")
            return
        run = self.replay_run
        if run is not None:
            dirty = " The form's unsaved changes are lost." if self.main(RecordForm).dirty \
                else ""
            self.push_screen(Confirm(
                f"A replay is running ({run.progress.line()}) to {run.target.tag()}. Stop it "
                f"and quit? Records not sent go to a resume file, those without a verdict to "
                f"an unconfirmed file.{dirty}", purpose="quit",
                keys="y stop the replay and quit   n/esc cancel (the replay goes on)"),
                self._stop_and_quit)
            return
        if self.main(RecordForm).dirty:
            # A callback, not push_screen_wait: bindings do not run in a worker.
            self.push_screen(Confirm("The form has unsaved changes. Quit anyway?",
                                     purpose="quit"), self._quit_if)
            return
        await self._quit_if(True)

    def _quit_on_signals(self) -> None:
        """SIGTERM (kill, a supervisor) quits as `y` to the quit question does, since nobody
        is there to answer it: a replay stops, writes its files, then the console quits, its
        terminal restored, the embedded simulator stopped, the journal closed. If that has not
        ended the process within `SIGNAL_GRACE_S`, it ends anyway, the journal flushed.

        SIGHUP (the SSH session dropped) leaves no terminal: Textual can neither draw nor
        restore it, and its output thread dies on the first write, after which the next
        frames block the event loop for good (seen: consoles left sleeping after their tmux
        server was killed). So the journal's waiting lines are written at once and the process
        ends (status 129): a replay's files then come from the journal (`replay
        --resume-from-journal`), the embedded simulator stops as its stdin closes, a
        contact-centre session the console started is not ended. The default action of either
        signal killed the process where it stood, the journal's waiting lines lost."""
        import signal

        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGTERM, self._signalled)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            return
        # A plain handler, not the loop's: it must run even if the loop is stuck on a frame.
        signal.signal(signal.SIGHUP, _hung_up)

    def _signalled(self) -> None:
        import threading

        if not self._quit_after_replay:
            self.call_later(self._stop_and_quit, True)
        watchdog = threading.Timer(SIGNAL_GRACE_S, _end_now, (143,))
        watchdog.daemon = True
        watchdog.start()

    async def _stop_and_quit(self, yes: bool | None) -> None:
        if not yes:
            return
        if self.replay_run is None:  # it ended while the question was on screen
            await self._quit_if(True)
            return
        self._quit_after_replay = True
        self.action_stop_replay()

    async def _quit_if(self, yes: bool | None) -> None:
        if not yes:
            return
        await self._close()
        self.exit()

    async def _close(self) -> None:
        opened, self.opened = self.opened, None
        if opened is not None:
            await opened.close()

    async def on_unmount(self) -> None:
        await self._close()

    def _collect(self, item: StreamItem) -> None:
        self._pending.append(item)  # drained by a timer: one UI update per tick, not per event
        if not isinstance(item, Event):
            # The stream's state (connected, reconnecting, a gap) is shown at once.
            self.call_later(self._drain_stream)

    def _drain_stream(self) -> None:
        """Move what the stream delivered into the UI, once per tick (floods stay cheap)."""
        if not self._pending or not self.is_running or not self.screen_stack:
            return
        items = self._pending
        self._pending = []
        event_list = self._events()
        rows: list[Event | GapRow] = []
        for item in items:
            if isinstance(item, Event):
                rows.append(item)
                continue
            if item.kind == "gap":  # a row where events may be missing, in arrival order
                rows.append(GapRow(item.gap_from or item.at, item.gap_to or item.at,
                                   item.detail))
            self._show_status(item)
        self.events_seen += sum(isinstance(row, Event) for row in rows)
        event_list.add_events(rows)
        self._tie_user_events()
        self._refresh_current()
        self.repaint.request("event-status", self._event_status)

    def _tie_later(self, record: AddRecord | None) -> None:
        """Tie this request's user event in the pane once it has arrived."""
        tracked = self.engine.tracker.get(record.reference_id) if self.engine and record \
            else None
        if tracked is not None:
            self._untied.append(tracked)
            self._tie_user_events()  # it may be in the pane already

    def _tie_user_events(self) -> None:
        """Tell the pane which request each of our requests' user events belongs to."""
        if not self._untied:
            return
        event_list = self._events()
        for tracked in [t for t in self._untied if t.user_event is not None]:
            assert tracked.user_event is not None
            event_list.tie(tracked.user_event.seq, tracked.reference_id)
            self._untied.remove(tracked)
        del self._untied[:-200]  # requests that never got one are not kept forever

    def _show_status(self, status: StreamStatus) -> None:
        header = self.main(StatusHeader)
        if status.kind == "gap":
            now = self.now()
            gap_from = human_time(status.gap_from or status.at, now)
            gap_to = human_time(status.gap_to or status.at, now)
            header.gap = f"gap {gap_from}-{gap_to}"
            self.notify(f"stream gap {gap_from}-{gap_to}: {status.detail}", severity="warning")
        else:
            if status.kind == "reconnecting" and header.status != "reconnecting":
                header.since = human_time(status.at or self.now(), self.now())
            header.status = status.kind
            if status.kind == "connected":
                self._stream_connected.set()
            header.detail = "" if status.kind == "connected" else status.detail[:80]

    def _event_status(self) -> None:
        event_list = self._events()
        shown, gaps = event_list.shown_counts()
        parts = [f"{self.events_seen} events", f"{shown} shown"]
        if gaps:
            parts.append(f"{gaps} gap" + ("s" if gaps > 1 else ""))
        if not event_list.following:
            parts.append(f"PAUSED {event_list.unseen} new (end: follow)")
        if event_list.left_view:
            parts.append(f"{event_list.left_view} left the view (journal has all)")
        if event_list.filter_text:
            parts.append(f"filter '{event_list.filter_text}'")
        self.main("#event-status", EventStatus).show(parts)

    @on(EventList.FollowChanged)
    def _follow_changed(self) -> None:
        self._event_status()

    @on(EventList.ColumnsChanged)
    def _columns_changed(self, message: EventList.ColumnsChanged) -> None:
        self.main("#event-headings", Static).update(message.headings)

    # -- sending ---------------------------------------------------------------------------
    async def action_send(self) -> None:
        if self._refused_in_dialog("request.send", "send"):
            return
        if self.view != "form":
            await self.action_show("form")
        if self.can_send:
            self._send_form()
            return
        form = self.main(RecordForm)
        status = self.main(StatusHeader).status
        if self._send_waiting is not None:
            self.notify("already waiting: the form goes as soon as the stream is connected "
                        "(editing it cancels that)")
        elif status in ("failed", "unreachable"):
            form.set_state(f"not sent: GWS {status}; {self._key('request.send')} again once "
                           "connected", "failed")
            self.notify(f"not sent: GWS {status}", severity="error")
        else:
            # Typed ahead of the connection (e.g. Ctrl+S right after the command): sent once
            # connected, as it would have been by someone who waited, if the form is still
            # what it was at the key; said under the form until it goes or is cancelled.
            self._send_waiting = self._waiting_content(form)
            form.set_state("waiting to send: as soon as the stream is connected (editing "
                           "the form cancels it)", "pending")
            self._send_when_ready()

    @property
    def can_send(self) -> bool:
        """Connected and subscribed: an acknowledgement sent now will be seen."""
        return self.ready and self.engine is not None and self.engine.connected

    @staticmethod
    def _waiting_content(form: RecordForm, *, device: bool = True) -> dict[str, Any]:
        """What a waiting send compares: the form's fields (the device left out when it was
        not known yet at the key: the session's device filled in on connecting is no edit)."""
        content = {k: v for k, v in form.values().items() if k != "referenceId"}
        if not device:
            content.pop("devicePath", None)
        return content

    def _waiting_still_same(self, form: RecordForm) -> bool:
        waiting = self._send_waiting
        assert waiting is not None
        return self._waiting_content(form, device="devicePath" in waiting) == waiting

    @work(group="send-wait", exclusive=True)
    async def _send_when_ready(self) -> None:
        """Send the form typed ahead of the connection once connected; cancel it, saying so
        under the form, when GWS turns out unreachable (or failed) or the form changes: it
        never goes later with something else than what the key saw."""
        header, form = self.main(StatusHeader), self.main(RecordForm)
        why = ""
        while not self.can_send:
            if header.status in ("failed", "unreachable"):
                why = f"GWS {header.status}"
            elif not self._waiting_still_same(form):
                why = "the form changed after the key"
            if why:
                break
            await asyncio.sleep(0.05)
        if not why and not self._waiting_still_same(form):
            why = "the form changed after the key"
        self._send_waiting = None
        if why:
            form.set_state(f"not sent (waiting cancelled): {why}; "
                           f"{self._key('request.send')} sends it", "failed")
            self.notify(f"not sent: {why}", severity="warning")
            return
        self._send_form()

    def _send_form(self) -> None:
        """Check the form; send it, or show what is wrong and focus the first bad field."""
        form = self.main(RecordForm)
        form.show_all_errors = True
        problems = form.check()
        if problems:
            first = form.first_problem(problems)
            bad = form.widget_for(first.field) if first.field != "(request)" else None
            if bad is not None:
                bad.focus()
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.notify(f"not sent: {first}{more}", severity="error")
            return
        from console.domain.model import AddRecord

        assert self.engine is not None and self.opened is not None
        try:
            record = AddRecord.parse(form.values())
        except RecordInvalid as exc:
            self.notify(f"not sent: {exc}", severity="error", timeout=15)
            return
        form.set_reference(self.reference_ids())  # the next send gets a new one
        form.set_state(f"pending  {record.reference_id}", "pending")
        form.mark_clean()  # what was sent is in the history: nothing to lose any more
        self._events().set_highlight({record.reference_id}, set())
        entry = self.history.sending(record, self.opened.target)
        entry.profile = profile_label(self.profile)
        self._send(record, entry)

    @work(group="send")
    async def _send(self, record: AddRecord, entry: HistoryEntry) -> None:
        assert self.engine is not None
        try:
            tracked = await self.engine.send(record)
        except ConsoleError as exc:
            # Refused before it left (e.g. its referenceId is still waiting for an answer):
            # said on screen and in the history, never a traceback.
            entry.state, entry.reason = "not_sent", str(exc)
            self._history_changed()
            self.main(RecordForm).set_state(f"not sent: {exc}"[:200], "failed")
            self.notify(str(exc), title="not sent", severity="error", timeout=15)
            return
        self.current = tracked
        self._untied.append(tracked)
        self._refresh_current()
        if tracked.state == "pending":
            await self.engine.wait(tracked)
        self._tie_user_events()
        self._refresh_current()
        self.history.sent_done(entry, tracked)

    def _history_changed(self) -> None:
        found = self.main_screen.query("#history")
        if found:  # the pane (and so its module) exists once it has been shown
            from console.tui.history_pane import HistoryPane

            found.first(HistoryPane).show_entries()

    def _refresh_current(self) -> None:
        tracked = self.current
        if tracked is None or self._send_waiting is not None:
            return  # (a waiting send's line stays until it goes or is cancelled)
        form = self.main(RecordForm)
        seqs = {tracked.user_event.seq} if tracked.user_event is not None else set()
        self._events().set_highlight({tracked.reference_id}, seqs)
        text = f"{tracked.describe()}  {tracked.reference_id}"
        form.set_state(text, tracked.state)

    # -- events ----------------------------------------------------------------------------
    @on(EventList.Opened)
    def _open_event(self, message: EventList.Opened) -> None:
        from console.tui.dialogs import EventDetail

        self.push_screen(EventDetail(message.event))

    async def action_filter(self) -> None:
        if self._refused_in_dialog("events.filter", "filter the events"):
            return
        if self.view != "events" and self.main("#body").has_class("narrow"):
            await self.action_show("events")
        self._events()
        box = self.main("#filter", Input)
        box.add_class("shown")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._events().set_filter(event.value)
        self._event_status()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self._events().focus()

    def key_escape(self) -> None:
        """Esc clears the filter, from its box or from the list."""
        if self.screen is not self.main_screen:
            return
        events = self._events()
        box = self.main("#filter", Input)
        if box.has_focus or events.has_focus and (events.filter_text or box.value):
            box.value = ""
            events.set_filter("")
            box.remove_class("shown")
            events.focus()
            self._event_status()

    # -- templates -------------------------------------------------------------------------
    # Handlers named for the panes' messages: the panes are imported only when first shown.
    def on_templates_pane_load(self, message: TemplatesPane.Load) -> None:
        self._load_into_form(message.template.request, message.template)

    def _load_into_form(self, fields: dict[str, Any], template: Template | None) -> None:
        from console.tui.dialogs import Confirm

        if self._refused_in_dialog(None, "loading into the form"):
            return
        if self.main(RecordForm).dirty:
            self.push_screen(Confirm("The form has unsaved changes. Replace them?"),
                             lambda yes: self._fill_form(fields, template) if yes else None)
            return
        self._fill_form(fields, template)

    def _fill_form(self, fields: dict[str, Any], template: Template | None) -> None:
        form = self.main(RecordForm)
        from console.domain.templates import TemplateError

        fields = {k: v for k, v in fields.items() if k != "referenceId"}
        if template is not None:
            try:
                # Placeholders nobody gave stay visible, for the user to fill in.
                fields = template.render({n: "${" + n + "}" for n in template.placeholders()})
            except TemplateError as exc:
                self.notify(str(exc), severity="error")
        form.load(fields)
        self.loaded_template = template
        self.view = "form"
        form.widget_for("applicationId").focus()
        if template is not None:
            self.notify(f"loaded template {template.name}")

    def action_save_template(self) -> None:
        from console.tui.dialogs import Ask

        if self._refused_in_dialog("request.save", "save the form"):
            return
        default = self.loaded_template.name if self.loaded_template else "new-template"
        self.push_screen(Ask("Save the form as template:", default), self._save_form_as)

    def _save_form_as(self, name: str | None) -> None:
        from console.domain.templates import (
            Template,
            TemplateError,
            save_template,
            template_dirs,
            template_path,
        )
        from console.profiles import search_path

        if not name:
            return
        form = self.main(RecordForm)
        values = {k: v for k, v in form.values().items() if k != "referenceId"}
        if self.engine is not None and values.get("devicePath") == \
                self.engine.session.device_path:
            values.pop("devicePath")  # the session's device: not worth fixing in the file
        campaign = str(values.get("campaignName") or "no-campaign")
        calling_list = str(values.get("callingList") or "no-list")
        dirs = template_dirs(search_path(self.profiles_dir))
        base = next((d for d in dirs if d.is_dir()), dirs[-1])
        description = self.loaded_template.description if self.loaded_template else ""
        try:
            path = template_path(base, campaign, calling_list, name)  # never outside base
            saved = save_template(Template(name=name, request=values, description=description),
                                  path)
        except TemplateError as exc:
            self.notify(str(exc), title="not saved", severity="error", timeout=15)
            return
        form.mark_clean()
        self.loaded_template = saved
        found = self.main_screen.query("#templates")
        if found:
            from console.tui.templates_pane import TemplatesPane

            found.first(TemplatesPane).action_reload()
        self.notify(f"saved {path}")

    # The replay's dialogs are pushed from the key's own message chain (callbacks, not a
    # worker awaiting them): keys typed ahead then land in the dialog, as typed slowly.
    def on_templates_pane_replay(self, message: TemplatesPane.Replay) -> None:
        """The CLI's replay (console.app.replay.ReplayRun) behind a dialog: target, count
        or rows, rate, concurrency and placeholders; production asks for the count typed."""
        from functools import partial

        from console.tui.replay_dialog import ReplayDialog

        if self.replay_run is not None:
            self.notify(f"a replay is running: {self._key('replay.stop')} stops it",
                        severity="warning")
            return
        if self.opened is None or not self.ready:
            self.notify("not connected to GWS yet", severity="error")
            return
        self.push_screen(ReplayDialog(message.templates, self.opened.target),
                         partial(self._replay_asked, message.templates))

    def _replay_asked(self, templates: list[Template], request: ReplayRequest | None) -> None:
        from functools import partial

        from console.app.replay import ReplayRun, ReplaySettings
        from console.app.replay_engine import Outcome
        from console.tui.dialogs import ShowText, TypeToConfirm

        opened = self.opened
        if request is None or opened is None:
            return

        def outcome_seen(outcome: Outcome) -> None:
            self._tie_later(outcome.job.record)

        try:
            inputs = self._replay_inputs(templates, request)
            run = ReplayRun(opened, inputs, ReplaySettings(request.rate, request.concurrency),
                            resume_dir=self.resume_dir or Path.cwd(), on_outcome=outcome_seen,
                            run_id=self.run_ids() if self.run_ids else None)
        except ConsoleError as exc:
            self.notify(str(exc), title="replay: nothing sent", severity="error", timeout=20)
            return
        if not run.plan.ok:
            problems = run.plan.problems
            shown = problems[:PROBLEMS_SHOWN]
            if len(problems) > len(shown):
                shown.append(f"... and {len(problems) - len(shown)} more problems")
            self.push_screen(ShowText(f"Replay: nothing sent, the plan has {len(problems)} "
                                      "problems:", "\n".join(shown)))
            return
        question = run.confirmation()
        if question is None:
            self._start_replay(run, False)
            return
        self.push_screen(TypeToConfirm(question.question(), str(question.records),
                                       purpose="replay"),
                         partial(self._replay_confirmed, run))

    def _replay_confirmed(self, run: ReplayRun, confirmed: bool | None) -> None:
        if not confirmed:
            self.notify(f"not confirmed: nothing sent to {run.target.tag()}",
                        severity="warning")
            return
        self._start_replay(run, True)

    def _start_replay(self, run: ReplayRun, confirmed: bool) -> None:
        """Running from now on (the stop key works at once); the sending is a worker."""
        if self.replay_run is not None or self.opened is not run.opened:
            self.notify("not started: another replay runs, or the connection changed",
                        severity="error")
            return
        pane: TemplatesPane = self._pane("templates")
        self.replay_run = run
        self._replay_entry = self.history.replay_started(run)
        pane.start_progress(run.progress.planned, f"replaying to {run.target.tag()}  "
                            f"{self._key('replay.stop')} stops")
        self.refresh_bindings()
        self._replay(run, confirmed)

    @work(group="replay")
    async def _replay(self, run: ReplayRun, confirmed: bool) -> None:
        from console.app.replay import NotConfirmed

        entry = self._replay_entry
        assert entry is not None
        pane: TemplatesPane = self._pane("templates")
        result: ReplayResult | None = None
        try:
            result = await run.run(confirmed=confirmed)
        except (NotConfirmed, ConsoleError) as exc:
            entry.state = "failed"
            self._history_changed()
            self.notify(str(exc), title="replay", severity="error", timeout=20)
        finally:
            self.replay_run = None
            self._replay_entry = None
            self.refresh_bindings()
        if result is not None:
            self.history.replay_done(entry, result)
            pane.show_progress(result.progress.finished, result.progress.line())
            pane.show_verdict("\n".join(verdict_lines(result)))
            if result.files:
                self.notify("\n".join(f"written: {f}" for f in result.files),
                            title=f"replay {result.run_id}", timeout=30)
        if self._quit_after_replay:
            await self._quit_if(True)

    def _replay_inputs(self, templates: list[Template], request: ReplayRequest,
                       ) -> ReplayInputs:
        """What the dialog asked for, loaded as the CLI loads it (a `.resume.csv` resumes)."""
        from console.app.replay import ReplayInputs, load_inputs

        if request.rows is None:
            return ReplayInputs(templates, count=request.count, sets=dict(request.sets))
        resume = request.rows.name.endswith(".resume.csv")
        # A resume file names its own templates (`_template`), as `replay --resume FILE` takes
        # them: the template under the cursor refused every row of another one, and the
        # tree's root listed all five in the production question though one was sent.
        refs = [] if resume else [str(t.path) for t in templates if t.path is not None]
        return load_inputs(refs, rows=None if resume else request.rows,
                           resume=request.rows if resume else None, sets=dict(request.sets),
                           profiles_dir=self.profiles_dir)

    def action_stop_replay(self) -> None:
        """Stop the replay: no new records; those in flight get their verdict (briefly
        awaited), then the partial verdict and the resume/unconfirmed files."""
        run = self.replay_run
        if run is None:
            self.notify("no replay is running")
            return
        if not run.progress.stopped:
            run.stop()
            self.notify(f"stopping the replay: nothing more is sent; waiting up to "
                        f"{run.settings.grace_s:g} s for acknowledgements in flight")

    def _show_replay_progress(self) -> None:
        """The running replay's progress on the templates pane and in the history (a timer:
        one redraw per tick however fast the records go)."""
        run, entry = self.replay_run, self._replay_entry
        if run is None or entry is None:
            return
        found = self.main_screen.query("#templates")
        if found:
            from console.tui.templates_pane import TemplatesPane

            line = run.progress.line()
            if not run.progress.stopped:
                line += f"   {self._key('replay.stop')} stops"
            found.first(TemplatesPane).show_progress(run.progress.finished, line)
        if (entry.sent, entry.counts) != (run.progress.sent, dict(run.progress.counts)):
            self.history.replay_progress(entry, run)

    # -- history ---------------------------------------------------------------------------
    def on_history_pane_load(self, message: HistoryPane.Load) -> None:
        entry = message.entry
        if isinstance(entry, ReplayEntry):
            from console.tui.dialogs import ShowText

            files = "\n".join(f"  {f}" for f in entry.files) or "  none"
            self.push_screen(ShowText(f"Replay {entry.run_id}", f"{entry.label()}\nto "
                                      f"{entry.target()}\nfiles:\n{files}"))
            return
        self._load_into_form(entry.body, None)

    # -- copy as curl ----------------------------------------------------------------------
    def action_copy_curl(self) -> None:
        from console.domain.curl import as_curl
        from console.domain.model import AddRecord
        from console.tui.dialogs import ShowText

        if self._refused_in_dialog("request.curl", "copy as curl"):
            return
        form = self.main(RecordForm)
        # A referenceId of its own: running the curl and then sending the form must not give
        # GWS the same referenceId twice.
        values = {**form.values(), "referenceId": self.reference_ids()}
        try:
            record = AddRecord.parse(values)
        except RecordInvalid as exc:
            self.notify(f"fix the form first: {exc.problems[0]}", severity="error")
            return
        connection = self.connection
        base = connection.base_url if connection else (self.profile.url or "")
        user = connection.username if connection else (self.profile.username or "")
        command = as_curl(base, user, record, verify=connection.verify if connection else True)
        self.copy_to_clipboard(command)
        self.push_screen(ShowText(
            f"Copied as curl (OSC 52), with referenceId {record.reference_id} of its own; "
            "it asks for the password once:", command))


def _import_engine(simulator: bool) -> None:
    """Import what `_start` needs (off the event loop: see there), with what the first
    requests would otherwise import on the loop: the HTTP/1.1 transport (h11) and, when a
    proxy is set in the environment, httpx's own transport's httpcore and anyio's asyncio
    backend (~0.3 s of "connecting" on our machines, bench/tui.py)."""
    import importlib
    import importlib.util
    import urllib.request

    if urllib.request.getproxies_environment():  # requests through a proxy go to httpx's own
        for warm_up in ("httpcore", "anyio._backends._asyncio"):
            try:
                importlib.import_module(warm_up)
            except ImportError:  # another httpx: it imports what it needs itself
                pass
    import console.app.target  # noqa: F401
    import console.domain.journal  # noqa: F401
    import console.gws.engine  # noqa: F401
    import console.gws.http11  # noqa: F401

    if importlib.util.find_spec("sniffio") is None:
        # httpcore tries `import sniffio` on every request; when it is not installed each try
        # searches the whole path again (~1 ms). Remembered as missing: the same ImportError,
        # at once.
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]
    if simulator:
        import console.sim  # noqa: F401


#: How long a SIGTERM's orderly quit may take (a replay's grace for acknowledgements, its
#: files, the engine's close) before the process ends anyway.
SIGNAL_GRACE_S = 15.0


def _end_now(status: int) -> None:
    """End the process at once, the journals' waiting lines written first."""
    import os

    from console.domain.journal import flush_all

    flush_all()
    os._exit(status)


def _hung_up(signum: int, frame: object) -> None:
    _end_now(128 + signum)


def not_authenticated(exc: Exception) -> bool:
    """GWS said the user or password is wrong: HTTP 401, or its statusCode 20."""
    from console.errors import GwsHttpError, GwsStatusError

    if isinstance(exc, GwsStatusError):
        return exc.http_status == 401 or exc.status_code == 20
    return isinstance(exc, GwsHttpError) and exc.status == 401


def verdict_lines(result: ReplayResult) -> list[str]:
    """The verdict as the CLI's replay prints it: target, run, counts, reasons, files."""
    lines = []
    if result.halted:
        lines.append(f"STOPPED: {result.halted}; verdict so far ({result.progress.line()})")
    elif result.stopped:
        lines.append(f"STOPPED: verdict so far ({result.progress.line()})")
    rows = [("target", result.target.tag()[1:-1]), ("run", result.run_id),
            *result.summary.rows()]
    lines += [f"{key:<24} {value}" for key, value in rows]
    lines += [f"  {n} x {reason}" for reason, n in result.summary.reasons.most_common(5)]
    if result.resume_file is not None:
        lines.append(f"resume (GWS never had them, safe to send again): {result.resume_file}")
    if result.used_file is not None:
        lines.append(f"the resume file given, set aside (resumed once): {result.used_file}")
    if result.unconfirmed_file is not None:
        lines.append(f"unconfirmed (GWS may have them: check each first): "
                     f"{result.unconfirmed_file}")
    return lines
