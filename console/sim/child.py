"""The embedded simulator in a process of its own: `python -m console.sim.child USER`.

The console starts it before it imports Textual (console/app/early_sim.py), so the simulator's
imports (aiohttp.web and the simulator, ~0.3 s) run on another core while the console draws
its first screen, not on the console's event loop thread under the GIL.

The protocol, on the pipes the console holds:
- stdin, first line: the password the simulator accepts (never on the command line, where
  `ps` shows it, nor in the environment);
- stdout, one line once listening: the simulator's URL (loopback, a free port);
- then stdin at EOF (the console closed it, exited or was killed): the simulator stops and
  the process ends. Nothing is written to the terminal.
"""

from __future__ import annotations

import asyncio
import sys


async def serve(user: str) -> None:
    from console.sim import Simulator

    password = sys.stdin.readline().rstrip("\n")
    sim = Simulator(user=user, password=password or None, port=0)
    await sim.start()
    try:
        sys.stdout.write(sim.url + "\n")
        sys.stdout.flush()
        # Blocks in a thread until the console closes the pipe (or is gone).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await sim.stop()


def main() -> None:
    user = sys.argv[1] if len(sys.argv) > 1 else "demo"
    try:
        asyncio.run(serve(user))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
