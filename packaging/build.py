"""Build the one-file `outbound-console` for Linux x86_64 jump hosts (PyInstaller).

    python packaging/build.py [--out DIR]

Needs the project installed with its build extra (`pip install -e '.[build]'`). Writes
DIR/outbound-console (default build/onefile/): one executable that carries its own Python and
every dependency, so the host needs neither Python nor packages nor network. It runs on
x86_64 Linux with a glibc at least as new as the build machine's: build on the oldest
distribution you target. See the README, "On a jump host (no package index)".
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "outbound-console.spec"
NAME = "outbound-console"


def build(out: Path, work: Path | None = None, quiet: bool = False) -> Path:
    """Build the executable into `out`; returns its path. Raises CalledProcessError on failure."""
    if sys.platform != "linux":
        raise SystemExit("the one-file build targets Linux (x86_64): build it on Linux")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oc-pyinstaller-") as scratch:
        command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                   "--distpath", str(out), "--workpath", str(work or Path(scratch)),
                   "--log-level", "WARN" if quiet else "INFO", str(SPEC)]
        subprocess.run(command, check=True, cwd=ROOT)
    return out / NAME


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "onefile",
                        help="directory for the executable (default: build/onefile)")
    parser.add_argument("--quiet", action="store_true", help="PyInstaller warnings only")
    args = parser.parse_args()
    started = time.monotonic()
    binary = build(args.out.resolve(), quiet=args.quiet)
    libc, libc_version = platform.libc_ver()
    print(f"built {binary} ({binary.stat().st_size / 1e6:.1f} MB) in "
          f"{time.monotonic() - started:.0f} s: Python {platform.python_version()}, "
          f"{platform.machine()}, needs {libc or 'libc'} >= {libc_version} on the host")


if __name__ == "__main__":
    main()
