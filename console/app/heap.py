"""The cyclic garbage collector: paused during start-up, and set for a bulk run (a replay).

Start-up: importing click, asyncio, httpx and the engine (or Textual and the console) allocates
enough objects for dozens of collections (~10 ms of a `send`; a full pass before the console's
first frame), which free nothing: modules live as long as the process. So the program
(`console.launch`) pauses the collector before those imports (`pause_collection`), and
`resume_collection` turns it back on, with what start-up allocated frozen (never walked
again): `send` and `watch` once their target is open (their last imports done), every other
command before it runs (console.cli.main), the console once its engine is imported.

A replay builds its whole plan (a job, a record, its body and values for every row: tens of
thousands of objects) before the first send and keeps it to the end. Each full pass of the
collector walked all of it again while records were being sent: measured with gc.callbacks
on 4,000 records at concurrency 32 (bench/replay.py's setting), one full pass cost from 5 up
to 100 us a record, depending on what the process held. `gc.freeze()` moves what exists
into a generation the collector never walks; objects there are still freed as soon as
nothing refers to them (reference counting), so a plan without cycles is not kept alive.

Sending allocates a few dozen short-lived containers a record (aiohttp's request and reply,
the journal's lines, notifications): with the default threshold of 700 the youngest
generation was collected every ~25 records, ~20 us a record in all; from 5,000 on, ~8 us.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["bulk_collection", "BULK_THRESHOLD", "pause_collection", "resume_collection"]

#: Allocations between two collections of the youngest generation during a bulk run.
BULK_THRESHOLD = 5000

_PAUSED = False  # pause_collection turned the collector off, and nothing has resumed it yet


def pause_collection() -> None:
    """No garbage collection until `resume_collection` (see the module docstring)."""
    global _PAUSED
    if gc.isenabled():
        gc.disable()
        _PAUSED = True


def resume_collection() -> None:
    """Garbage collection back on, if `pause_collection` turned it off; what was allocated
    meanwhile is frozen (module objects: never garbage, and never walked again by the
    collector). A no-op otherwise (the collector is left as it is)."""
    global _PAUSED
    if _PAUSED:
        _PAUSED = False
        gc.freeze()
        gc.enable()


@contextmanager
def bulk_collection() -> Iterator[None]:
    """Inside the block, everything that existed on entry is left alone by the collector and
    the youngest generation is collected less often.

    On exit the threshold is restored and what was frozen is handed back (`gc.unfreeze()`)
    — unless something was frozen already when the block began (the console freezes what
    its start-up built, for good): then the freeze stays, as it was meant to. Only garbage
    cycles that happened to exist on entry wait for that hand-back; the block's own garbage
    is collected as usual."""
    already = gc.get_freeze_count() > 0
    young, middle, old = gc.get_threshold()
    gc.freeze()
    if young:  # 0: automatic collection is off, and stays off
        gc.set_threshold(max(young, BULK_THRESHOLD), middle, old)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)
        if not already:
            gc.unfreeze()
