"""outbound-console: a keyboard-first console for Genesys outbound AddRecord over GWS."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
