"""The example templates shipped with outbound-console, for the simulator's campaigns.

They are package data, found from any folder, and never mixed with the user's own templates:
the console lists them under their own "examples" root and the `templates` command under
their own heading. They are read-only: load one and save it (Ctrl+O) to make it your own.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DIR"]

DIR = Path(__file__).resolve().parent
"""`<campaign>/<callingList>/<name>.yaml` below this folder."""
