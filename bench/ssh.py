"""Benchmark: the console over a thin SSH link (issue 11), in one run.

1. Bytes per second the console writes to its terminal (a pseudo-terminal, 80x24, the events
   pane shown, `SSH_CONNECTION` set as sshd sets it) while the simulator publishes 10, 100 and
   1,000 events/s; beside it, in the same run and from the same events, the bytes of
   `outbound-console watch` (the same events as plain lines: the floor).
2. Key-to-screen through a relay that behaves like sshd over a slow link: it reads everything
   the console writes (up to a 2 MB channel window, as OpenSSH's default) at once and delivers
   it to the terminal (tmux, 80x24) at the link's rate. After 20 and 60 s of 20 events/s
   (counted from the first event), F2 (form) and F3 (events) are pressed and the time until the
   screen shows the other pane is measured, at 32,000 B/s (256 kbit/s) and 16,000 B/s. The
   floor printed beside it is one repaint of the whole screen over the link (bytes of an idle
   F2/F3 repaint / rate). Then the stream stops and the screen must come to show as many
   events as the journal holds (nothing lost by coalescing), and how long that took.

The console runs with its defaults for an SSH session (`SSH_CONNECTION` set); pass console
options after `--` to compare, e.g. `-- --max-repaint-rate off` (the console unlimited).

    python bench/ssh.py [--quick] [-- CONSOLE-OPTIONS...]

Targets: <= 8 KB/s at 10 events/s, <= 16 KB/s at any rate; key-to-screen <= 1 s, not growing
with the length of the stream. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._process import installed_binary as binary  # noqa: E402

PASSWORD = "bench-ssh"
SSH_CONNECTION = "127.0.0.1 50022 127.0.0.1 22"
F2, F3 = "\x1bOQ", "\x1bOR"
WINDOW = 2 * 1024 * 1024  # OpenSSH's default channel window


# -- the relay (runs inside tmux: `python bench/ssh.py --relay RATE -- command...`) --------
def relay(rate: float, command: list[str]) -> None:
    """Run `command` in its own pseudo-terminal; read all it writes into a buffer of at most
    WINDOW bytes (then stop reading: the program blocks, as under sshd); write the buffer to
    our terminal at `rate` bytes/s; pass our keyboard through at once."""
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    size = fcntl.ioctl(sys.stdout.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
    fcntl.ioctl(master, termios.TIOCSWINSZ, size)
    tty.setraw(sys.stdin.fileno())
    buffer = bytearray()
    lock = threading.Condition()
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            with lock:
                while len(buffer) >= WINDOW and not done.is_set():
                    lock.wait(0.05)
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            with lock:
                buffer.extend(chunk)
                lock.notify_all()
        done.set()

    def writer() -> None:
        tick = 0.01
        allowance = 0.0
        last = time.monotonic()
        while not (done.is_set() and not buffer):
            time.sleep(tick)
            now = time.monotonic()
            allowance = min(allowance + (now - last) * rate, rate * tick * 4)
            last = now
            with lock:
                take = int(allowance)
                if take <= 0 or not buffer:
                    continue
                chunk = bytes(buffer[:take])
                del buffer[:take]
                allowance -= len(chunk)
                lock.notify_all()
            os.write(sys.stdout.fileno(), chunk)

    threading.Thread(target=reader, daemon=True).start()
    threading.Thread(target=writer, daemon=True).start()
    while not done.is_set():
        ready, _, _ = select.select([sys.stdin.fileno()], [], [], 0.1)
        if ready:
            keys = os.read(sys.stdin.fileno(), 1024)
            if not keys:
                break
            os.write(master, keys)
    os.kill(pid, signal.SIGTERM)


# -- the simulator and the event pacing ------------------------------------------------------
class Sim:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([binary(), "sim", "--port", "0"], stdout=subprocess.PIPE,
                                     text=True, env={**env, "OUTBOUND_CONSOLE_SIM_PASSWORD":
                                                     PASSWORD})
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().split()[-1]
        assert self.url.startswith("http://127.0.0.1:"), self.url

    def flood(self, count: int) -> None:
        request = urllib.request.Request(f"{self.url}/sim/flood", method="POST",
                                         data=json.dumps({"count": count}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Pacer(threading.Thread):
    """Publishes `rate` events per second through /sim/flood, in 50 ms ticks."""

    def __init__(self, sim: Sim, rate: float) -> None:
        super().__init__(daemon=True)
        self.sim, self.rate = sim, rate
        self.halt = threading.Event()
        self.sent = 0

    def run(self) -> None:
        started = time.monotonic()
        while not self.halt.is_set():
            due = int((time.monotonic() - started) * self.rate) - self.sent
            if due > 0:
                self.sim.flood(due)
                self.sent += due
            self.halt.wait(0.05)


def wait_journal(path: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.05)
    sys.exit(f"{text!r} never appeared in {path}")


CONSOLE_OPTIONS: list[str] = []
"""Extra options for every console started (after `--` on the command line)."""


def console_command(sim: Sim, journal: Path) -> list[str]:
    return [binary(), "--url", sim.url, "--user", "demo", "--journal", str(journal),
            *CONSOLE_OPTIONS]


# -- 1. bytes per second -------------------------------------------------------------------
def bytes_per_second(sim: Sim, env: dict[str, str], home: Path, rate: float,
                     seconds: float) -> tuple[float, float, float]:
    """(console B/s, watch B/s, events/s received by watch) over `seconds` of `rate`
    events/s."""
    journal = home / f"bytes-{rate:g}.jsonl"
    pid, master = pty.fork()
    if pid == 0:
        os.execvpe(binary(), console_command(sim, journal), env)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    counted = {"bytes": 0, "on": False}
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    return
                if counted["on"]:
                    counted["bytes"] += len(chunk)

    threading.Thread(target=drain, daemon=True).start()
    watch = subprocess.Popen([binary(), "watch", "--url", sim.url, "--user", "demo",
                              "--journal", str(home / f"watch-{rate:g}.jsonl")],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    watch_bytes = {"n": 0, "lines": 0, "on": False}

    def drain_watch() -> None:
        assert watch.stdout is not None
        for line in watch.stdout:
            if watch_bytes["on"]:
                watch_bytes["n"] += len(line)
                watch_bytes["lines"] += 1

    threading.Thread(target=drain_watch, daemon=True).start()
    try:
        wait_journal(journal, '"connected"')
        wait_journal(home / f"watch-{rate:g}.jsonl", '"connected"')
        os.write(master, F3.encode())
        time.sleep(1.0)  # the pane repaints once for F3; not part of the measurement
        pacer = Pacer(sim, rate)
        pacer.start()
        time.sleep(1.0)  # the stream settles into its rate
        counted["on"] = watch_bytes["on"] = True
        started = time.monotonic()
        time.sleep(seconds)
        counted["on"] = watch_bytes["on"] = False
        elapsed = time.monotonic() - started
        pacer.halt.set()
        pacer.join()
        return (counted["bytes"] / elapsed, watch_bytes["n"] / elapsed,
                watch_bytes["lines"] / elapsed)
    finally:
        stop.set()
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        watch.terminate()
        watch.wait(timeout=10)


# -- 2. key-to-screen through the relay -------------------------------------------------------
class Tmux:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"bench-ssh-{uuid.uuid4().hex[:8]}"
        line = " ".join(f"'{part}'" for part in command)
        subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", "b", "-x", "80",
                        "-y", "24", f"exec {line}"], check=True, env=env)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-t", "b"],
                              capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", "b", *keys], check=True)

    def until(self, test: object, timeout: float) -> float | None:
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if test(self.screen()):  # type: ignore[operator]
                return time.perf_counter() - start
            time.sleep(0.01)
        return None

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def is_form(screen: str) -> bool:
    return "calling list" in screen


def is_events(screen: str) -> bool:
    return " events |" in screen and "calling list" not in screen


def journal_events(path: Path) -> int:
    return sum(1 for line in path.read_text(errors="replace").splitlines()
               if line.startswith('{"ts"') and '"kind": "event"' in line[:60])


def shown_count(screen: str) -> int | None:
    for line in screen.splitlines():
        head, _, _ = line.strip().partition(" events |")
        if head.isdigit():
            return int(head)
    return None


def key_to_screen(sim: Sim, env: dict[str, str], home: Path, link: int,
                  checkpoints: list[float]) -> tuple[dict[float, list[float | None]],
                                                     tuple[int, int | None, float | None]]:
    """For each checkpoint, once that many seconds of streaming have passed with the events
    pane shown: the time F2 takes to show the form, then F3 to show the events again (None:
    never; F3 is not pressed when F2 never showed). Then (events in the journal, events the
    screen says once the stream stopped, seconds until it said so)."""
    journal = home / f"relay-{link}.jsonl"
    command = [sys.executable, str(Path(__file__).resolve()), "--relay", str(link), "--",
               *console_command(sim, journal)]
    tmux = Tmux(command, env)
    results: dict[float, list[float | None]] = {}
    try:
        wait_journal(journal, '"connected"')
        if tmux.until(is_form, 30) is None:
            sys.exit(f"the form never showed through the relay:\n{tmux.screen()}")
        tmux.keys("F3")
        if tmux.until(is_events, 30) is None:
            sys.exit(f"the events pane never showed through the relay:\n{tmux.screen()}")
        pacer = Pacer(sim, 20)
        pacer.start()
        started = time.monotonic()
        try:
            for seconds in checkpoints:
                time.sleep(max(0.0, started + seconds - time.monotonic()))
                times: list[float | None] = []
                for key, test in (("F2", is_form), ("F3", is_events)):
                    if times and times[-1] is None:
                        times.append(None)
                        continue
                    tmux.keys(key)
                    times.append(tmux.until(test, 120))
                results[seconds] = times
        finally:
            pacer.halt.set()
            pacer.join()
        # Nothing lost: once the stream stops, the screen says as many events as were journaled.
        time.sleep(1.0)  # the last events reach the console and its journal
        journaled = journal_events(journal)
        took = tmux.until(lambda screen: shown_count(screen) == journaled, 120)
        tally = (journaled, shown_count(tmux.screen()), took)
    finally:
        tmux.close()
    return results, tally


def repaint_bytes(sim: Sim, env: dict[str, str], home: Path) -> int:
    """Bytes the console writes for one F2/F3 switch with no events flowing."""
    journal = home / "repaint.jsonl"
    pid, master = pty.fork()
    if pid == 0:
        os.execvpe(binary(), console_command(sim, journal), env)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    total = 0
    try:
        wait_journal(journal, '"connected"')
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # let start-up output finish
            if select.select([master], [], [], 0.1)[0]:
                os.read(master, 65536)
        sizes = []
        for key in (F3, F2, F3, F2):
            os.write(master, key.encode())
            got = 0
            quiet_since = time.monotonic()
            while time.monotonic() - quiet_since < 0.5:
                if select.select([master], [], [], 0.05)[0]:
                    got += len(os.read(master, 65536))
                    quiet_since = time.monotonic()
            sizes.append(got)
        total = int(statistics.median(sizes))
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    return total


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--relay":
        relay(float(sys.argv[2]), sys.argv[sys.argv.index("--") + 1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="shorter windows (10 s of bytes, key presses at 10 and 30 s)")
    parser.add_argument("console_options", nargs="*", metavar="-- CONSOLE-OPTIONS",
                        help="options for every console started, e.g. --max-repaint-rate off")
    args = parser.parse_args()
    CONSOLE_OPTIONS.extend(args.console_options)
    if shutil.which("tmux") is None:
        sys.exit("tmux is needed")
    seconds = 10.0 if args.quick else 20.0
    checkpoints = [10.0, 30.0] if args.quick else [20.0, 60.0]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "HOME": tmp, "XDG_STATE_HOME": f"{tmp}/state",
               "XDG_CONFIG_HOME": f"{tmp}/config", "OUTBOUND_CONSOLE_HOME": tmp,
               "OUTBOUND_CONSOLE_PASSWORD": PASSWORD, "TERM": "xterm-256color",
               "SSH_CONNECTION": SSH_CONNECTION, "COLUMNS": "80", "LINES": "24"}
        env.pop("NO_COLOR", None)
        sim = Sim(env)
        try:
            print(f"1. bytes written to the terminal, 80x24, events pane shown, {seconds:g} s "
                  "per rate (same events as `watch` lines: the floor)")
            print(f"console options: {' '.join(CONSOLE_OPTIONS) or '(defaults)'}")
            print(f"{'events/s':>9} {'received/s':>11} {'console B/s':>12} {'watch B/s':>10} "
                  f"{'x watch':>8}")
            for rate in (10.0, 100.0, 1000.0):
                console, plain, received = bytes_per_second(sim, env, home, rate, seconds)
                print(f"{rate:>9g} {received:>11.0f} {console:>12.0f} {plain:>10.0f} "
                      f"{console / plain if plain else float('nan'):>8.1f}", flush=True)
            repaint = repaint_bytes(sim, env, home)
            print(f"one F2/F3 repaint, idle: {repaint} bytes")
            print("2. key-to-screen through a relay like sshd (2 MB window), 20 events/s "
                  "streaming with the events pane shown")
            for link in (32000, 16000):
                results, (journaled, shown, took) = key_to_screen(sim, env, home, link,
                                                                  checkpoints)
                floor = repaint / link
                for at, times in results.items():
                    f2, f3 = ("never" if t is None else f"{t:.2f} s" for t in times)
                    print(f"  {link:>6} B/s after {at:>3g} s: F2 {f2}, then F3 {f3} "
                          f"(floor: one repaint {floor:.2f} s)", flush=True)
                verdict = f"all shown {took:.2f} s after the stream stopped" \
                    if took is not None else f"the screen said {shown}"
                print(f"  {link:>6} B/s: {journaled} events journaled; {verdict}", flush=True)
        finally:
            sim.stop()
    print("targets: <= 8 KB/s at 10 events/s, <= 16 KB/s at any rate; key-to-screen <= 1 s, "
          "not growing with the stream's length")


if __name__ == "__main__":
    main()
