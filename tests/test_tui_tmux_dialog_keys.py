"""End to end at 80x24 (the installed binary in tmux, keys only): ctrl+s typed in the
production replay confirmation sends nothing; the typed count still confirms the replay."""

from __future__ import annotations

import time
from pathlib import Path

from tests.test_tui_tmux import screen, sockets, start, tmux, wait_for
from tests.test_tui_tmux_replay import (
    PASSWORD,
    records,
    start_sim,
    stop_sim,
    wait_records,
    write_profile,
)

__all__ = ["sockets"]  # the fixture, used below


def test_ctrl_s_in_the_production_confirmation_sends_nothing(
        tmp_path: Path, sockets: list[str]) -> None:
    sim, url = start_sim(0)
    try:
        profiles = write_profile(tmp_path / "profiles", url)
        socket = start(tmp_path / "run", f"--profiles {profiles} --profile eu-prod "
                       "--template doc-sample", env={"OUTBOUND_CONSOLE_PASSWORD": PASSWORD},
                       profiles=False)
        sockets.append(socket)
        assert "PRODUCTION" in wait_for(socket, "connected").splitlines()[0]
        tmux(socket, "send-keys", "-t", "oc", "F4")
        wait_for(socket, "doc-sample")
        tmux(socket, "send-keys", "-t", "oc", "doc")
        wait_for(socket, "documentation sample")
        tmux(socket, "send-keys", "-t", "oc", "C-r")
        wait_for(socket, "Replay doc-sample")
        tmux(socket, "send-keys", "-t", "oc", "3", "Enter")
        wait_for(socket, "type 3 and enter")
        tmux(socket, "send-keys", "-t", "oc", "C-s")
        time.sleep(1.5)  # ample for a send to reach the simulator on loopback
        assert records(url) == [], screen(socket)
        shown = wait_for(socket, "not while a")  # said in a note (wrapped in the toast)
        assert "type 3 and enter" in shown  # still asking
        # The dialog still takes its keys: the typed count confirms the replay.
        tmux(socket, "send-keys", "-t", "oc", "3", "Enter")
        wait_records(url, 3)
        wait_for(socket, "3 acknowledged")
        time.sleep(0.5)
        assert len(records(url)) == 3, screen(socket)  # the replay's 3, no form send
    finally:
        stop_sim(sim)
