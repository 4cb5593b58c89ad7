"""Number options that make sense: a timeout or a rate is a finite number above 0.

click's `float` takes `nan`, `inf` and `-1`: `send --timeout nan` sent the record, saw it
acknowledged and still said "no acknowledgement within nan s". These are refused as click
refuses a word in a number (exit 2), before anything is sent.
"""

from __future__ import annotations

import math
from typing import Any

import click

__all__ = ["Above"]


class Above(click.ParamType[float]):
    """A finite float above `low` (and at most `high`, when given)."""

    name = "float"

    def __init__(self, low: float = 0.0, high: float | None = None) -> None:
        self.low = low
        self.high = high

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        number = click.FLOAT.convert(value, param, ctx)
        if not (math.isfinite(number) and number > self.low
                and (self.high is None or number <= self.high)):
            most = f" and at most {self.high:g}" if self.high is not None else ""
            self.fail(f"{value!r}: expected a number above {self.low:g}{most}", param, ctx)
        return float(number)
