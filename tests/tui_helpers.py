"""Shared set-up for the TUI tests: an app on the embedded simulator, deterministic when asked."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Select

from console.profiles import DEMO, Profile
from console.tui.app import OutboundApp
from console.tui.form import RecordForm

REPO_PROFILES = Path(__file__).parent.parent / "profiles"
FIXED_TIME = 1795718400.0  # a fixed wall clock for reproducible screens


def profiles_copy(tmp_path: Path, with_templates: bool = True) -> Path:
    """The repository's profiles in a folder of the test's own; `with_templates`: the example
    templates copied in as the user's own templates (the tree shows them first)."""
    from console.example_templates import DIR as EXAMPLES

    target = tmp_path / "profiles"
    shutil.copytree(REPO_PROFILES, target, dirs_exist_ok=True)
    if with_templates:
        shutil.copytree(EXAMPLES, target / "templates", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def make_app(tmp_path: Path, profile: Profile = DEMO, *, deterministic: bool = False,
             sim_port: int = 0, password: str | None = None, user_templates: bool = True,
             **options: object) -> OutboundApp:
    kwargs: dict[str, object] = {}
    if deterministic:
        counter = itertools.count(1)
        kwargs.update(clock=lambda: FIXED_TIME, monotonic=lambda: 100.0,
                      reference_ids=lambda: f"ref-{next(counter):04d}",
                      run_ids=lambda: "20261127-031500-0001")
    kwargs.update(options)
    return OutboundApp(profile, journal_path=tmp_path / "journal.jsonl",
                       profiles_dir=profiles_copy(tmp_path, user_templates), sim_port=sim_port,
                       prompt=(lambda label: password or ""), **kwargs)  # type: ignore[arg-type]


async def wait_until(pilot: Pilot[None], check: object, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in the app within the timeout")
        await pilot.pause(0.05)


async def ready(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, OutboundApp)
    await wait_until(pilot, lambda: app.engine is not None and app.engine.connected
                     and app.engine.me is not None)
    await wait_until(pilot, lambda: not app.query_one("#f-devicePath", Select).is_blank())
    from console.tui.header import StatusHeader

    await wait_until(pilot, lambda: app.main(StatusHeader).status == "connected" and app.ready)


def fill(app: OutboundApp, **values: str) -> None:
    form = app.query_one(RecordForm)
    for name, value in values.items():
        widget = form.query_one(f"#f-{name}")
        if isinstance(widget, Select):
            widget.value = value
        else:
            assert isinstance(widget, Input)
            widget.value = value


GOOD = dict(applicationId="134", campaignName="Campaign1", callingList="CallingList1",
            phoneNumber="5551234", phoneType="Mobile", timeZone="GMT", **{"from": "08:00",
                                                                           "until": "20:00"})


def key_event(key: str) -> object:
    """The Key event the terminal driver makes for `key` (named as Pilot.press names keys)."""
    import unicodedata

    from textual import events
    from textual.keys import (
        REPLACED_KEYS,
        _character_to_key,
        _get_unicode_name_from_key,
    )

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    char: str | None
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def keys_of(*parts: str) -> list[str]:
    """Pilot key names from words and key names: 'Campaign1' is typed letter by letter, a
    name like 'tab' or 'ctrl+s' (anything with more than one character that is a key name)
    is one key."""
    named = {"tab", "shift+tab", "enter", "escape", "space", "up", "down", "left", "right",
             "home", "end", "backspace", "delete", "pageup", "pagedown"}
    out: list[str] = []
    for part in parts:
        if part in named or part.startswith("ctrl+") or part[0] == "f" and part[1:].isdigit():
            out.append(part)
        else:
            out.extend(part)
    return out


async def burst(pilot: Pilot[None], *keys: str) -> None:
    """Send keys all at once, as a laggy SSH link delivers them (Pilot.press waits for the
    app to go idle between keys, which is slow typing), then wait until the app settled."""
    app = pilot.app
    assert isinstance(app, OutboundApp)
    for key in keys:
        app.post_message(key_event(key))  # type: ignore[arg-type]
    await settle(pilot)


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every key sent has been routed and had its effects."""
    app = pilot.app
    assert isinstance(app, OutboundApp)
    gate = getattr(app, "typeahead", None)
    for _ in range(3):
        await pilot.pause()
        if gate is not None:
            await gate.settled()
    await pilot.pause()
