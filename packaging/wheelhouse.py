"""Build a wheelhouse: every wheel `outbound-console` needs, for `pip install --no-index`.

    python packaging/wheelhouse.py [--out DIR] [--python-version 3.12] [--platform TAG] [--unpinned]

The second way onto a jump host without a package index, for a host that has Python >= 3.11
(the one-file build in packaging/build.py needs no Python at all). Run it where the package
index is reachable. Compiled dependencies (aiohttp, PyYAML...) are wheels for
one Python version and platform: by default this interpreter's; give the jump host's with
--python-version / --platform. The versions are those installed here (what the tests ran
on), unless --unpinned. pip's own wheel is included, for hosts whose venv has no pip.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def installed_versions() -> str:
    """`name==version` of every distribution installed here, as a pip constraints file."""
    frozen = subprocess.run([*PIP, "freeze", "--exclude-editable"], check=True,
                            capture_output=True, text=True).stdout
    return "".join(f"{line}\n" for line in frozen.splitlines() if "==" in line)


def wheelhouse(out: Path, python_version: str | None = None,
               platforms: list[str] | None = None, pinned: bool = True,
               quiet: bool = False) -> list[Path]:
    """Fill `out` with the project's wheel and its dependencies' (and pip's); returns them."""
    out.mkdir(parents=True, exist_ok=True)
    verbosity = ["--quiet"] if quiet else []
    subprocess.run([*PIP, "wheel", *verbosity, "--no-deps", "--wheel-dir", str(out), str(ROOT)],
                   check=True)
    project = sorted(out.glob("outbound_console-*.whl"))[-1]
    target: list[str] = []
    if python_version:
        target += ["--python-version", python_version, "--implementation", "cp"]
    for platform in platforms or []:
        target += ["--platform", platform]
    with tempfile.TemporaryDirectory() as scratch:
        if pinned:
            constraints = Path(scratch) / "constraints.txt"
            constraints.write_text(installed_versions())
            target += ["--constraint", str(constraints)]
        # Binary wheels only: the jump host has no compiler, and pip needs --only-binary to
        # fetch for another Python or platform.
        subprocess.run([*PIP, "download", *verbosity, "--only-binary=:all:", "--dest", str(out),
                        *target, str(project), "pip"], check=True)
    return sorted(out.glob("*.whl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "wheelhouse",
                        help="directory for the wheels (default: build/wheelhouse)")
    parser.add_argument("--python-version", help="the jump host's Python, e.g. 3.12 "
                        "(default: this interpreter's)")
    parser.add_argument("--platform", action="append", dest="platforms", metavar="TAG",
                        help="wheel platform tag(s) of the jump host, e.g. manylinux2014_x86_64 "
                        "(repeatable; default: this machine's)")
    parser.add_argument("--unpinned", action="store_true", help="the newest versions the "
                        "project allows instead of those installed here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    wheels = wheelhouse(args.out.resolve(), args.python_version, args.platforms,
                        pinned=not args.unpinned, quiet=args.quiet)
    size = sum(w.stat().st_size for w in wheels)
    print(f"{len(wheels)} wheels ({size / 1e6:.1f} MB) in {args.out.resolve()}; on the jump "
          "host: python3 -m venv ~/outbound-console && ~/outbound-console/bin/pip install "
          f"--no-index --find-links {args.out.name} outbound-console")


if __name__ == "__main__":
    main()
