"""What the whole-process benchmarks share: the installed console and a simulator process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def installed_binary() -> str:
    """The `outbound-console` of this interpreter's environment (else the one on PATH)."""
    found = shutil.which("outbound-console", path=str(Path(sys.executable).parent)) or \
        shutil.which("outbound-console")
    if found is None:
        sys.exit("outbound-console is not installed in this environment (pip install -e .)")
    return found


def start_simulator(program: list[str], env: dict[str, str],
                    cwd: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """`<program> sim --port 0` running; (the process, the URL it printed)."""
    proc = subprocess.Popen([*program, "sim", "--port", "0"], cwd=cwd, stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    url = proc.stdout.readline().split()[-1]
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url
