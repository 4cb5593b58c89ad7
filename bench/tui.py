"""Benchmark of the console in tmux at 80x24, in one run, each figure beside its baseline:

1. start-up, runs alternating with a minimal Textual app (Header, Static, a focused Input,
   Footer: bench/_minimal_app.py). For both, a key is typed as soon as the first frame shows;
   *first screen* is that frame (the minimal app's text, the console's form), *usable* is the
   footer shown and the typed key echoed (in the console, a 7 in the focused application
   field), *connected* (console only) is the header saying "connected" on the embedded
   simulator. The minimal app does no I/O and has no engine: the difference is what the
   console's form, header, journal, engine and embedded simulator cost before it is usable.
   Targets (issue 15): usable <= 1.3x and connected <= 2x the minimal app's first screen.
2. key presses during a flood offered at 20,000 events/s (the simulator's /sim/flood, posted
   in slices of 1,000 every 50 ms; it waits for a slow subscriber rather than drop, so the
   achieved rate is the console's ingest): F4 (templates) then F3 (events) each timed until the
   screen shows the pane, >= 30 presses. Printed beside them: the method's own floor (the
   same presses on bench/_echo_keys.py, which shows each key at once: tmux, the pty and the
   capture), and the same presses on the idle console. Targets: p50 < 100 ms, p95 < 150 ms.

The screen is read through one tmux control-mode client, again each time the pane writes
(see Tmux): no process is started per look and no polling interval is added to a figure.
3. memory (RSS) of the console from idle (connected, no event yet) to after 1,000,000 events,
   sampled every 200,000. Targets: growth within 40 MB, flat (within 10 MB) from 200k to 1M.

    python bench/tui.py [--runs N] [--events N] [--presses N] [--skip-startup] [--skip-flood]

Only loopback is used; every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._compiled import ensure_bytecode  # noqa: E402
from bench._process import installed_binary  # noqa: E402

PASSWORD = "bench-tui"


class Tmux:
    """A program in a detached tmux session at 80x24, watched through one tmux control-mode
    client (`tmux -C`): keys go in with send-keys and the screen comes back with capture-pane
    over that client's pipe, no process started per look. The screen is looked at again each
    time the pane writes output (tmux's `%output` notifications), so a change is seen within
    one capture of being on tmux's screen, and looking costs nothing while nothing changes."""

    def __init__(self, command: str, env: dict[str, str] | None = None) -> None:
        self.socket = f"bench-tui-{uuid.uuid4().hex[:8]}"
        self.started = time.perf_counter()
        subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", "b", "-x", "80",
                        "-y", "24", f"exec {command}"], check=True, env=env)
        self._client = subprocess.Popen(["tmux", "-L", self.socket, "-C", "attach", "-t", "b"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._changed = threading.Condition()
        self._outputs = 0  # %output notifications seen (the pane wrote something)
        self._replies: queue.Queue[list[str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._client.stdout is not None
        block: list[str] | None = None
        ours = False
        for raw in self._client.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if block is not None:
                if line.startswith(("%end ", "%error ")):
                    if ours:
                        self._replies.put(block)
                    block = None
                else:
                    block.append(line)
            elif line.startswith("%begin "):
                block = []
                ours = line.endswith(" 1")  # flags 1: a command of this client (not attach)
            elif line.startswith("%output "):
                with self._changed:
                    self._outputs += 1
                    self._changed.notify_all()
        with self._changed:  # the session ended: nothing more will change
            self._outputs += 1
            self._changed.notify_all()

    def command(self, *args: str) -> list[str]:
        """Run a tmux command through the control client; its output lines."""
        assert self._client.stdin is not None
        self._client.stdin.write((" ".join(args) + "\n").encode())
        self._client.stdin.flush()
        return self._replies.get(timeout=30)

    def screen(self) -> str:
        return "\n".join(self.command("capture-pane", "-p", "-t", "b")) + "\n"

    def wait(self, test: Callable[[str], bool], timeout: float = 30.0) -> float:
        """Seconds until test(screen) is true."""
        start = time.perf_counter()
        while True:
            with self._changed:
                seen = self._outputs
            if test(self.screen()):
                return time.perf_counter() - start
            left = start + timeout - time.perf_counter()
            if left <= 0:
                raise SystemExit(f"timed out; screen:\n{self.screen()}")
            with self._changed:  # until the pane writes again
                self._changed.wait_for(lambda: self._outputs > seen, timeout=left)

    def since_start(self, test: Callable[[str], bool], timeout: float = 30.0) -> float:
        """Seconds from the session's start until test(screen) is true."""
        self.wait(test, timeout)
        return time.perf_counter() - self.started

    def keys(self, *keys: str) -> None:
        self.command("send-keys", "-t", "b", *keys)

    def pid(self) -> int:
        return int(self.command("display", "-p", "-t", "b", "'#{pane_pid}'")[0].strip())

    def close(self) -> None:
        if self._client.stdin is not None:
            self._client.stdin.close()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        self._client.wait(timeout=10)


def footer_shown(screen: str) -> bool:
    lines = screen.rstrip("\n").splitlines()
    return bool(lines) and "palette" in lines[-1]


def start_minimal(env: dict[str, str]) -> tuple[float, float]:
    """(first screen, usable) of the minimal app, in seconds from the session's start."""
    session = Tmux(f"{sys.executable} {ROOT / 'bench' / '_minimal_app.py'}", env)
    try:
        first = session.since_start(lambda s: "minimal app ready" in s)
        session.keys("Z")
        usable = session.since_start(lambda s: footer_shown(s) and "\u258a  Z" in s)
        return first, usable
    finally:
        session.close()


def start_console(command: str, env: dict[str, str]) -> tuple[float, float, float]:
    """(first screen, usable, connected) of the console, in seconds from the session's start."""
    session = Tmux(command, env)
    try:
        first = session.since_start(lambda s: "application" in s)
        session.keys("7")
        usable = session.since_start(
            lambda s: footer_shown(s) and re.search(r"application\s+7\b", s) is not None)
        connected = session.since_start(lambda s: "connected" in s.splitlines()[0]
                                        if s.strip() else False)
        return first, usable, connected
    finally:
        session.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def events_seen(screen: str) -> int:
    match = re.search(r"([\d,]+) events", screen)
    return int(match.group(1).replace(",", "")) if match else 0


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def quantile_ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def startup(binary: str, runs: int, tmp: Path, env: dict[str, str]) -> None:
    minimal: list[tuple[float, float]] = []
    console: list[tuple[float, float, float]] = []
    for n in range(runs):  # alternating: a busy moment on a shared machine hits both alike
        minimal.append(start_minimal(env))
        console.append(start_console(f"{binary} --journal {tmp / f'start-{n}.jsonl'}", env))
    m_first = median_ms([m[0] for m in minimal])
    m_usable = median_ms([m[1] for m in minimal])
    c_first, c_usable, c_connected = (median_ms([c[i] for c in console]) for i in range(3))
    print(f"start-up, medians of {runs} alternating runs (ms from the tmux session's start):")
    print(f"  minimal Textual app: first screen {m_first:.0f}, usable {m_usable:.0f}")
    print(f"  outbound-console:    first screen {c_first:.0f}, usable {c_usable:.0f}, "
          f"connected {c_connected:.0f}")
    print(f"  usable    x{c_usable / m_first:.2f} of the minimal app's first screen (target "
          f"<= 1.3); x{c_usable / m_usable:.2f} of the minimal app usable")
    print(f"  connected x{c_connected / m_first:.2f} of the minimal app's first screen "
          "(target <= 2)", flush=True)


def timed_key(session: Tmux, key: str, test: Callable[[str], bool]) -> float:
    """Seconds from sending `key` to the terminal until test(screen) is true on tmux's screen."""
    start = time.perf_counter()
    session.keys(key)
    session.wait(test, timeout=10)
    return time.perf_counter() - start


def press(session: Tmux) -> tuple[float, float]:
    """F4 (templates pane: its help line says "enter load"), then F3 (events): seconds each
    until the screen shows it."""
    return (timed_key(session, "F4", lambda s: "enter load" in s),
            timed_key(session, "F3", lambda s: " events" in s and "enter load" not in s))


def method_floor(presses: int, env: dict[str, str]) -> list[float]:
    """The same method on a program that shows each key at once (bench/_echo_keys.py): what
    tmux and the measuring cost by themselves."""
    session = Tmux(f"{sys.executable} {ROOT / 'bench' / '_echo_keys.py'}", env)
    try:
        session.wait(lambda s: "ready" in s)
        times = []
        for n in range(1, 2 * presses + 1):
            times.append(timed_key(session, "F4" if n % 2 else "F3",
                                   lambda s, n=n: f"keys read {n}\n" in s))  # type: ignore[misc]
        return times
    finally:
        session.close()


def flood_run(binary: str, events: int, presses: int, rate: int, tmp: Path,
              env: dict[str, str]) -> None:
    sim_env = {**os.environ, "OUTBOUND_CONSOLE_SIM_PASSWORD": PASSWORD}
    sim = subprocess.Popen([sys.executable, "-m", "console.cli", "sim", "--port", "0"], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True, env=sim_env)
    assert sim.stdout is not None
    url = sim.stdout.readline().split()[-1]
    assert url.startswith("http://127.0.0.1:")

    def flood(count: int) -> None:
        request = urllib.request.Request(url + "/sim/flood", method="POST",
                                         data=json.dumps({"count": count}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()

    def pace(stop: threading.Event) -> None:
        """`events` offered at `rate` per second, in slices every 50 ms."""
        piece = max(1, rate // 20)
        offered = 0
        started = time.perf_counter()
        while offered < events and not stop.is_set():
            count = min(piece, events - offered)
            flood(count)
            offered += count
            delay = started + offered / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

    floor = method_floor(presses, env)
    session = Tmux(f"{binary} --url {url} --user demo --journal {tmp / 'flood.jsonl'}",
                   {**env, "OUTBOUND_CONSOLE_PASSWORD": PASSWORD})
    stop = threading.Event()
    try:
        session.wait(lambda s: "connected" in s)
        session.keys("F3")
        session.wait(lambda s: " events" in s)
        idle = [t for _ in range(presses) for t in press(session)]
        time.sleep(1.0)
        pid = session.pid()
        idle_rss = rss_mb(pid)
        samples: list[tuple[int, float]] = []
        latencies: list[float] = []
        pacer = threading.Thread(target=pace, args=(stop,), daemon=True)
        started = time.perf_counter()
        pacer.start()
        next_sample = 200_000
        while True:
            seen = events_seen(session.screen())
            if seen >= next_sample:
                samples.append((seen, rss_mb(pid)))
                next_sample += 200_000
            if seen >= events:
                break
            if time.perf_counter() - started > 900:
                raise SystemExit("the flood did not finish in 15 minutes")
            if len(latencies) < 2 * presses:
                latencies.extend(press(session))
                time.sleep(0.05)
            else:
                time.sleep(0.1)
        elapsed = time.perf_counter() - started
        time.sleep(1.0)
        end_rss = rss_mb(pid)
    finally:
        stop.set()
        session.close()
        sim.terminate()
        sim.wait(timeout=10)
    print(f"flood: {events:,} events offered at {rate:,}/s, shown in {elapsed:.1f} s -> "
          f"{events / elapsed:,.0f} events/s ingested (target >= 5,000)")
    print(f"key press (F4 then F3, each until its pane shows), {len(latencies)} presses during "
          f"the flood: p50 {median_ms(latencies):.0f} ms, p95 {quantile_ms(latencies, 0.95):.0f} "
          f"ms, max {max(latencies) * 1000:.0f} ms (targets p50 < 100, p95 < 150)")
    for label, times in ((f"the method's floor, {len(floor)} presses on a program that shows "
                          "each key at once", floor),
                         (f"the same presses on the idle console ({len(idle)})", idle)):
        print(f"  {label}: p50 {median_ms(times):.1f} ms, p95 {quantile_ms(times, 0.95):.1f} "
              f"ms, max {max(times) * 1000:.1f} ms")
    print(f"memory (RSS): idle {idle_rss:.1f} MB; " + ", ".join(
        f"{n // 1000}k {mb:.1f}" for n, mb in samples) + f"; end {end_rss:.1f} MB")
    if samples:
        at_200k = samples[0][1]
        print(f"  growth from idle {end_rss - idle_rss:+.1f} MB (target within 40), from 200k "
              f"to the end {end_rss - at_200k:+.1f} MB (target within +-10)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="start-up runs of each app")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--presses", type=int, default=15,
                        help="F4+F3 pairs (two timed presses each) idle and in the flood")
    parser.add_argument("--rate", type=int, default=20_000, help="events/s offered")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-flood", action="store_true")
    args = parser.parse_args()
    binary = installed_binary()
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "TERM": "xterm-256color", "OUTBOUND_CONSOLE_HOME": str(tmp),
           "HOME": str(tmp), "XDG_STATE_HOME": str(tmp / "state"),
           "XDG_CONFIG_HOME": str(tmp / "config")}
    ensure_bytecode()
    if not args.skip_startup:
        startup(binary, args.runs, tmp, env)
    if not args.skip_flood:
        flood_run(binary, args.events, args.presses, args.rate, tmp, env)


if __name__ == "__main__":
    main()
