"""The console in Jupyter (the `[notebook]` extra: ipywidgets, pandas, tqdm):

    from console.notebook import connect, to_frame, RecordForm, EventTable
    console = await connect()                 # the embedded simulator; connect("prod") asks
    tracked = await console.send_and_wait({...})
    tracked                                   # state badge, latency, ack and user event
    RecordForm(console)                       # the AddRecord form with Send and templates
    EventTable(console)                       # the live event table
    result = await console.replay("doc-sample", rows=frame, rate=5)
    to_frame(result)                          # the verdicts, as `replay --json`

- `reprs`: the displays of requests, events, stream statuses, replay results and the
  console, registered with IPython's formatters when this package is imported.
- `frames`: `to_frame` for verdicts, events and requests.
- `form`: `RecordForm`, the ipywidgets form.
- `live`: `EventTable`, the live event table.
- `progress`: the replay progress bar (`Console.replay` uses it when this extra is installed).

The engine and the application layer (`console.api`, `console.app`) hold no display code.
"""

from __future__ import annotations

from console.api import Console, connect
from console.notebook.form import RecordForm
from console.notebook.frames import to_frame
from console.notebook.live import EventTable
from console.notebook.reprs import register, rich

__all__ = ["connect", "Console", "to_frame", "rich", "register", "RecordForm", "EventTable"]

register()

