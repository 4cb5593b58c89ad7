"""Build the one-file `outbound-console` for Linux x86_64 jump hosts.

    python packaging/build.py [--out DIR]

Needs the project installed with its build extra (`pip install -e '.[build]'`). Writes
DIR/outbound-console (default build/onefile/): one executable file that carries its own Python
and every dependency, so the host needs neither Python nor packages nor network; it runs on
x86_64 Linux with a glibc at least as new as the one it was built against (printed at the end:
build on the oldest distribution you target). See the README, "On a jump host (no package
index)".

How: PyInstaller builds the console as a folder (its "onedir" mode, from
packaging/outbound-console.spec); that folder, as a tar.gz, follows a short sh script
(packaging/launcher.sh) which unpacks it once into the user's cache folder and then `exec`s
it. PyInstaller's own one-file mode is not used: it runs the program as the child of a
launcher process that stays, so the terminal's Ctrl-C reaches the program twice (once from
the terminal, once forwarded by the launcher), or, with forwarding off, a hang-up never
reaches it; it also unpacks ~37 MB into /tmp at every start (and /tmp may be noexec).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "outbound-console.spec"
LAUNCHER = ROOT / "packaging" / "launcher.sh"
NAME = "outbound-console"


def pyinstaller(dist: Path, work: Path, quiet: bool) -> Path:
    """The console as a PyInstaller folder under `dist`; returns the folder."""
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                    "--distpath", str(dist), "--workpath", str(work),
                    "--log-level", "WARN" if quiet else "INFO", str(SPEC)],
                   check=True, cwd=ROOT)
    return dist / NAME


def required_glibc(folder: Path) -> str:
    """The newest glibc symbol version any bundled binary asks for (e.g. "2.34")."""
    versions = {(0, 0)}
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as stream:
                if stream.read(4) != b"\x7fELF":
                    continue
                data = stream.read()
            versions |= {(int(major), int(minor)) for major, minor
                         in re.findall(rb"GLIBC_(\d+)\.(\d+)", data)}
    major, minor = max(versions)
    return f"{major}.{minor}"


def archive(folder: Path) -> bytes:
    """The folder's contents as a tar.gz (paths relative to it)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    return buffer.getvalue()


def launcher(version: str, build: str, glibc: str) -> bytes:
    """packaging/launcher.sh filled in; its length is the payload's offset, written in it."""
    template = LAUNCHER.read_text()
    offset = 0
    while True:
        header = (template.replace("@VERSION@", version).replace("@BUILD@", build)
                  .replace("@GLIBC@", glibc).replace("@OFFSET@", str(offset))).encode()
        if len(header) == offset:
            return header
        offset = len(header)


def build(out: Path, quiet: bool = False) -> tuple[Path, str]:
    """Build DIR/outbound-console; returns its path and the glibc it needs."""
    if sys.platform != "linux":
        raise SystemExit("the one-file build targets Linux (x86_64): build it on Linux")
    from console import __version__

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oc-pyinstaller-") as scratch:
        folder = pyinstaller(Path(scratch) / "dist", Path(scratch) / "work", quiet)
        glibc = required_glibc(folder)
        payload = archive(folder)
    digest = hashlib.sha256(payload).hexdigest()[:16]
    target = out / NAME
    partial = target.with_suffix(".partial")
    partial.write_bytes(launcher(__version__, digest, glibc) + payload)
    partial.chmod(0o755)
    partial.replace(target)
    return target, glibc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "onefile",
                        help="directory for the executable (default: build/onefile)")
    parser.add_argument("--quiet", action="store_true", help="PyInstaller warnings only")
    args = parser.parse_args()
    started = time.monotonic()
    target, glibc = build(args.out.resolve(), quiet=args.quiet)
    print(f"built {target} ({target.stat().st_size / 1e6:.1f} MB) in "
          f"{time.monotonic() - started:.0f} s: runs on Linux x86_64 with glibc >= {glibc}; "
          "copy this one file to the jump host and run it")


if __name__ == "__main__":
    main()
