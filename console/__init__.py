"""outbound-console: a keyboard-first console for Genesys outbound AddRecord over GWS."""

from __future__ import annotations

import sys

# httpx imports its own command-line client (rich, pygments: ~60 ms of a `send`) when it is
# imported, unless that module cannot be found; we never run it, so it is marked as absent
# (a None in sys.modules makes `import` raise ImportError, which httpx expects).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

__all__ = ["__version__"]

__version__ = "0.1.0"
