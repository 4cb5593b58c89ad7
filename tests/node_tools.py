"""Run the official CometD JavaScript pieces (tests/interop) as child processes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import pytest

INTEROP = Path(__file__).parent / "interop"


def require_node() -> str:
    """The node binary and installed packages, or a clear failure saying how to install them."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the interop tests need Node.js (see .ci/run)")
    if not (INTEROP / "node_modules" / "cometd").is_dir():
        pytest.fail("tests/interop/node_modules is missing: run `npm ci --prefix tests/interop`")
    return node


class NodeProcess:
    """A node child process that prints one JSON object per line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, script: str, *args: str, env: dict[str, str] | None = None) -> NodeProcess:
        node = require_node()
        proc = await asyncio.create_subprocess_exec(
            node, str(INTEROP / script), *args, cwd=INTEROP,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})})
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode().strip()
            self.raw.append(line)
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    async def wait_for(self, match: Callable[[dict[str, Any]], bool], count: int = 1,
                       timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.lines if match(line)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"node never printed {count} matching lines; got {self.lines}")
            if self.proc.returncode is not None:
                raise AssertionError(f"node exited {self.proc.returncode}; printed {self.lines}")
            await asyncio.sleep(0.02)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
