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


def profiles_copy(tmp_path: Path) -> Path:
    target = tmp_path / "profiles"
    shutil.copytree(REPO_PROFILES, target, dirs_exist_ok=True)
    return target


def make_app(tmp_path: Path, profile: Profile = DEMO, *, deterministic: bool = False,
             sim_port: int = 0, password: str | None = None) -> OutboundApp:
    kwargs: dict[str, object] = {}
    if deterministic:
        counter = itertools.count(1)
        kwargs.update(clock=lambda: FIXED_TIME, monotonic=lambda: 100.0,
                      reference_ids=lambda: f"ref-{next(counter):04d}")
    return OutboundApp(profile, journal_path=tmp_path / "journal.jsonl",
                       profiles_dir=profiles_copy(tmp_path), sim_port=sim_port,
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

    await wait_until(pilot, lambda: app.main(StatusHeader).status == "connected")


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
