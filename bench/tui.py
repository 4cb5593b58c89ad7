"""Benchmark of the console in tmux at 80x24, in one run:

1. time to first screen: `outbound-console` (embedded simulator) against a minimal Textual app
   (Header, Static, Footer) — target <= 1.3x;
2. event-pane ingest while the simulator floods (its /sim/flood endpoint, which waits for slow
   subscribers rather than dropping), with key presses meanwhile — targets >= 5,000 events/s
   and a key press answered (screen changed) in < 100 ms;
3. memory (RSS) of the console after 1,000,000 events against its level after warm-up —
   target: within 20 MB.

    python bench/tui.py [--events N] [--warmup N]

Only loopback is used; every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-tui"


class Tmux:
    def __init__(self, command: str, env: dict[str, str] | None = None) -> None:
        self.socket = f"bench-tui-{uuid.uuid4().hex[:8]}"
        self.started = time.perf_counter()
        subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", "b", "-x", "80",
                        "-y", "24", f"exec {command}"], check=True, env=env)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-t", "b"],
                              capture_output=True, text=True).stdout

    def wait(self, test: object, timeout: float = 30.0, poll: float = 0.005) -> float:
        """Seconds until test(screen) is true."""
        start = time.perf_counter()
        while True:
            if test(self.screen()):  # type: ignore[operator]
                return time.perf_counter() - start
            if time.perf_counter() - start > timeout:
                raise SystemExit(f"timed out; screen:\n{self.screen()}")
            time.sleep(poll)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", "b", *keys], check=True)

    def pid(self) -> int:
        out = subprocess.run(["tmux", "-L", self.socket, "display", "-p", "-t", "b",
                              "#{pane_pid}"], capture_output=True, text=True).stdout
        return int(out.strip())

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def first_screen(command: str, marker: str, env: dict[str, str]) -> float:
    session = Tmux(command, env)
    try:
        session.wait(lambda s: marker in s)
        return time.perf_counter() - session.started
    finally:
        session.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def events_seen(screen: str) -> int:
    match = re.search(r"(\d+) events", screen)
    return int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    binary = shutil.which("outbound-console")
    assert binary, "install the project first (pip install -e .)"
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "TERM": "xterm-256color", "OUTBOUND_CONSOLE_HOME": str(tmp)}

    # 1. Startup.
    minimal = [first_screen(f"{sys.executable} {ROOT / 'bench' / '_minimal_app.py'}",
                            "minimal app ready", env) for _ in range(args.runs)]
    console = [first_screen(f"{binary} --journal {tmp / 'j0.jsonl'}", "application", env)
               for _ in range(args.runs)]
    m, c = statistics.median(minimal), statistics.median(console)
    print(f"first screen: minimal Textual app {m * 1000:.0f} ms, outbound-console "
          f"{c * 1000:.0f} ms -> x{c / m:.2f} (target <= 1.3)", flush=True)

    # 2 and 3. A simulator in its own process; the console on it in tmux.
    sim_env = {**os.environ, "OUTBOUND_CONSOLE_SIM_PASSWORD": PASSWORD}
    sim = subprocess.Popen([sys.executable, "-m", "console.cli", "sim", "--port", "0"], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True, env=sim_env)
    assert sim.stdout is not None
    url = sim.stdout.readline().split()[-1]
    assert url.startswith("http://127.0.0.1:")
    session = Tmux(f"{binary} --url {url} --user demo --journal {tmp / 'j1.jsonl'}",
                   {**env, "OUTBOUND_CONSOLE_PASSWORD": PASSWORD})
    try:
        session.wait(lambda s: "connected" in s)
        session.keys("F3")
        session.wait(lambda s: " events" in s)

        def flood(count: int) -> None:
            request = urllib.request.Request(url + "/sim/flood", method="POST",
                                             data=json.dumps({"count": count}).encode(),
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()

        flood(args.warmup)
        session.wait(lambda s: events_seen(s) >= args.warmup, timeout=300, poll=0.05)
        time.sleep(1.0)
        warm_rss = rss_mb(session.pid())
        seen_before = events_seen(session.screen())
        started = time.perf_counter()
        flood(args.events)
        latencies: list[float] = []
        target = seen_before + args.events
        while events_seen(session.screen()) < target:
            if time.perf_counter() - started > 900:
                raise SystemExit("flood did not finish in 15 minutes")
            if len(latencies) < 10:
                # A key press during the flood: F4 shows the templates (their help line says
                # "enter load"), F3 the events again.
                session.keys("F4")
                latencies.append(session.wait(lambda s: "enter load" in s, timeout=10,
                                              poll=0.002))
                session.keys("F3")
                session.wait(lambda s: " events" in s and "enter load" not in s, timeout=10,
                             poll=0.002)
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        time.sleep(1.0)
        end_rss = rss_mb(session.pid())
    finally:
        session.close()
        sim.terminate()
        sim.wait(timeout=10)
    rate = args.events / elapsed
    print(f"ingest: {args.events} events in {elapsed:.1f} s -> {rate:.0f} events/s "
          f"(target >= 5000)")
    print(f"key press during the flood (screen changed): median "
          f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
          f"over {len(latencies)} presses (target < 100 ms); all: "
          f"{[round(x * 1000) for x in latencies]}")
    print(f"memory: {warm_rss:.1f} MB after {args.warmup} warm-up events, {end_rss:.1f} MB after "
          f"{args.events} more -> {end_rss - warm_rss:+.1f} MB (target within 20 MB)")


if __name__ == "__main__":
    main()
