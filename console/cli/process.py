"""How a command ends its process: once its last line is written, at once.

The interpreter's own exit frees every module one object at a time: with the engine's imports
(httpx, asyncio) that is 60-100 ms after `send` has printed its verdict, closed the journal and
its sockets, time a person waits for the prompt and nothing else. So, when the command line
runs as the program itself (`outbound-console ...`, `python -m console.cli ...`: `main()`
reading `sys.argv`), `exit_now` runs what was registered with `atexit`, flushes stdout and
stderr and ends the process with `os._exit`. Anywhere else (a test calling
`main.main([...])`, click's CliRunner, an embedding program), under a tracer or a profiler
(coverage, cProfile: they write their data after the program), or when something could still
need the interpreter's exit (another thread, output that cannot be flushed), it raises
SystemExit as usual.

A program also stops on SIGTERM (a supervisor, `timeout`, `kill`) and SIGHUP (the SSH session
that ran it dropped) as it stops on Ctrl-C: each becomes a SIGINT (or, when SIGINT is ignored,
as in a shell script's background job, Ctrl-C's KeyboardInterrupt), which every command handles
(`watch` ends, `send` stops waiting and says so, `replay` stops sending and writes its resume
files). Their default action killed the process where it stood: the journal lines waiting for
the event loop's next turn were lost, events `watch` had printed among them.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import NoReturn

__all__ = ["started_as_program", "exit_now"]

_PROGRAM = False


def started_as_program() -> None:
    """This process is the command line (its arguments are the process's own): SIGTERM and
    SIGHUP stop it as Ctrl-C does (module docstring)."""
    global _PROGRAM
    _PROGRAM = True
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _as_ctrl_c)


def _as_ctrl_c(signum: int, frame: object) -> None:
    # Raised again as SIGINT, so whoever handles Ctrl-C at this moment handles it (asyncio's
    # runner cancelling the command's task, a replay's stop, Python's KeyboardInterrupt).
    # A program whose SIGINT is ignored (a shell script's background job) or left to its
    # default action would ignore the signal, or die of it unflushed: Ctrl-C's exception
    # instead.
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):
        raise KeyboardInterrupt
    signal.raise_signal(signal.SIGINT)


def exit_now(code: int) -> NoReturn:
    """End the command with `code`: see the module docstring. Call it only once everything
    the command opened is closed (the journal, the engine)."""
    stdout, stderr = sys.stdout, sys.stderr
    if _PROGRAM and threading.active_count() == 1 and sys.gettrace() is None \
            and sys.getprofile() is None and stdout is sys.__stdout__ \
            and stderr is sys.__stderr__ and stdout is not None and stderr is not None:
        atexit._run_exitfuncs()  # what the interpreter's exit would run (logging's flush)
        try:
            stdout.flush()
            stderr.flush()
        except (OSError, ValueError):
            pass  # e.g. `send | head` gone: the interpreter's exit reports it as usual
        else:
            os._exit(code)
    sys.exit(code)
