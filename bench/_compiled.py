"""Bytecode for the project before a whole-process benchmark: a pip-installed console has its
.pyc files, but an editable install under PYTHONDONTWRITEBYTECODE (as on our shared machine)
compiles every module from source at each start (~0.2 s), which no user pays."""

from __future__ import annotations

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ensure_bytecode() -> None:
    """Write the project's .pyc files (a no-op when they are current)."""
    compileall.compile_dir(ROOT / "console", quiet=1)
