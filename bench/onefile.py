"""Benchmark of the one-file console for jump hosts against the normal install, in one run:

1. size: the one file, and the folder it unpacks into (once) in the user's cache;
2. `--version`: the first run (which unpacks), later runs, and the installed `outbound-console`;
3. first screen at 80x24 in tmux (the form drawn, then the simulator connected): the one file
   (already unpacked) against the installed console.

    python bench/onefile.py [--binary FILE] [--runs N]

Without --binary it builds the one file first (packaging/build.py) and reports how long that
took. Every run gets an empty HOME; only loopback is used; every wait is bounded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tui import Tmux  # noqa: E402


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def first_screen(command: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds until the form is drawn, and until the stream says connected."""
    session = Tmux(f"env TERM=xterm-256color {command}", env)
    try:
        session.wait(lambda s: "application" in s)
        drawn = time.perf_counter() - session.started
        session.wait(lambda s: "connected" in s)
        return drawn, time.perf_counter() - session.started
    finally:
        session.close()


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f} ms"


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, help="an already built one file")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    installed = shutil.which("outbound-console")
    assert installed, "install the project first (pip install -e '.[build]')"
    work = Path(tempfile.mkdtemp(prefix="bench-onefile-"))
    try:
        binary = args.binary
        if binary is None:
            started = time.perf_counter()
            subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "--out",
                            str(work / "dist"), "--quiet"], check=True,
                           env={**os.environ, "PYINSTALLER_CONFIG_DIR": str(work / "pyi")})
            print(f"build: {time.perf_counter() - started:.0f} s (packaging/build.py)",
                  flush=True)
            binary = work / "dist" / "outbound-console"
        binary = binary.resolve()

        homes = iter(range(1_000_000))

        def fresh_env() -> dict[str, str]:
            home = work / f"home-{next(homes)}"
            home.mkdir()
            return {"PATH": os.environ["PATH"], "HOME": str(home), "TERM": "xterm-256color",
                    "OUTBOUND_CONSOLE_HOME": str(home)}

        # 1 and 2: --version, the first run unpacking into an empty cache each time.
        first = [timed([str(binary), "--version"], fresh_env(), work) for _ in range(args.runs)]
        env = fresh_env()
        timed([str(binary), "--version"], env, work)
        unpacked = next((Path(env["HOME"]) / ".cache" / "outbound-console").iterdir())
        pairs: list[tuple[str, Callable[[], float]]] = [
            ("one file", lambda: timed([str(binary), "--version"], env, work)),
            ("installed", lambda: timed([installed, "--version"], env, work)),
        ]
        samples: dict[str, list[float]] = {name: [] for name, _ in pairs}
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            for name, version in pairs:
                samples[name].append(version())
        print(f"size: one file {binary.stat().st_size / 1e6:.1f} MB, unpacked once into "
              f"{du(unpacked) / 1e6:.1f} MB ({unpacked})")
        one, inst = (statistics.median(samples[n]) for n in ("one file", "installed"))
        print(f"--version: one file {median_ms(samples['one file'])} (first run, unpacking: "
              f"{median_ms(first)}), installed {median_ms(samples['installed'])} "
              f"-> x{one / inst:.2f}", flush=True)

        # 3: first screen in tmux, interleaved likewise.
        screens: dict[str, list[tuple[float, float]]] = {"one file": [], "installed": []}
        for index in range(args.runs):
            for name, program in (("one file", str(binary)), ("installed", installed)):
                screens[name].append(first_screen(
                    f"{program} --journal {work / f'j-{name[0]}{index}.jsonl'}", env))
        drawn = {name: statistics.median(d for d, _ in s) for name, s in screens.items()}
        connected = {name: statistics.median(c for _, c in s) for name, s in screens.items()}
        print(f"first screen (80x24, tmux): one file {drawn['one file'] * 1000:.0f} ms, "
              f"installed {drawn['installed'] * 1000:.0f} ms -> "
              f"x{drawn['one file'] / drawn['installed']:.2f}; connected to the simulator: "
              f"{connected['one file'] * 1000:.0f} ms vs {connected['installed'] * 1000:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
