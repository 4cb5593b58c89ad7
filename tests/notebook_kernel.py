"""A Jupyter kernel for tests: this interpreter (the worktree's venv), its spec in a temporary
folder, every Jupyter/IPython folder pointed there too (never the real home)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

KERNEL = "outbound-console-test"


def install_kernel(root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The kernel's name, after writing its spec under `root` and pointing JUPYTER_* and
    IPYTHONDIR at `root`."""
    spec = root / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "outbound-console (tests)", "language": "python"}))
    for name, relative in (("JUPYTER_PATH", "jupyter"), ("JUPYTER_DATA_DIR", "jupyter"),
                           ("JUPYTER_CONFIG_DIR", "jupyter-config"),
                           ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython")):
        folder = root / relative
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(folder))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    return KERNEL
