"""An option that takes one value, given twice on the same side of the command line.

click keeps the last of `-p prod -p demo` without a word: the replay would go to the
simulator, or the guard be skipped. Here a single-value option (or flag) given twice with
different values is refused (exit 2, naming the option and both values); the same value twice
is one. `refuse_repeats` puts every such option of a command (and its subcommands) under this
rule, so no command, present or future, can forget it. The same option before and after the
command is the other half of the rule (console.app.target.TargetOptions.merged).

Repeatable `NAME=VALUE` options (`--set`, `--fault`, `--setting`) follow it per name:
`refuse_repeated_names`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from console.domain.urls import safe_url

__all__ = ["Once", "refuse_repeats", "refuse_repeated_names"]


class Once(click.Option):
    """A single-value option or flag that refuses a second, different value (UsageError)."""

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        if self.multiple or self.count:
            super().add_to_parser(parser, ctx)
            return
        # Parsed as a repeatable option, so that every occurrence reaches `consume_value`
        # (click's parser keeps only the last of a plain one).
        self.multiple = True
        try:
            super().add_to_parser(parser, ctx)
        finally:
            self.multiple = False

    def consume_value(self, ctx: click.Context, opts: Mapping[str, Any]) -> Any:
        given = opts.get(self.name) if self.name is not None else None
        if self.name is not None and isinstance(given, list) \
                and not (self.multiple or self.count):
            opts = {**opts, self.name: self._one(ctx, given)}
        return super().consume_value(ctx, opts)

    def _one(self, ctx: click.Context, given: list[Any]) -> Any:
        if ctx.resilient_parsing:  # shell completion: nothing is refused there
            return given[-1]
        for other in given[1:]:
            if not self._same(ctx, given[0], other):
                raise click.UsageError(
                    f"{self._flag()} is given twice, with different values "
                    f"({self._shown(given[0])} and {self._shown(other)}): give it once", ctx)
        return given[-1]

    def _same(self, ctx: click.Context, a: Any, b: Any) -> bool:
        if a == b:
            return True
        if self.is_flag:
            return False
        # `--timeout 5 --timeout 5.0` is one value (a bad one is refused here, as it would be).
        a, b = self.type_cast_value(ctx, a), self.type_cast_value(ctx, b)
        if isinstance(a, Path) and isinstance(b, Path):
            return a.expanduser().resolve() == b.expanduser().resolve()
        return bool(a == b)

    def _flag(self) -> str:
        return "/".join(max(opts, key=len) for opts in (self.opts, self.secondary_opts) if opts)

    def _shown(self, value: Any) -> str:
        if self.is_flag and self.secondary_opts:  # --sticky / --no-sticky
            return max(self.opts if value else self.secondary_opts, key=len)
        text = str(value)
        return repr(safe_url(text) if self.name == "url" else text)


def refuse_repeats(command: click.Command) -> click.Command:
    """Put every single-value option of `command` and of its subcommands under `Once`."""
    for param in command.params:
        if type(param) is click.Option and not (param.multiple or param.count):
            param.__class__ = Once  # same layout, no state of its own: only the rule changes
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            refuse_repeats(sub)
    return command


def refuse_repeated_names(flag: str, items: Iterable[str],
                          given: Mapping[str, tuple[str, str]] | None = None) -> None:
    """`--set phone=1 --set phone=2`: UsageError naming both values (the same twice is one).
    `given`: name -> (another option, its value) for the same names (`{"seed": ("--seed",
    "2")}` for `--fault seed=1`).
    Malformed items are left to the option's own parser, which says what is wrong."""
    seen: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        name = key.strip()
        if not sep or not name:
            continue
        if name in seen and seen[name] != value:
            raise click.UsageError(f"{flag} {name}= is given twice, with different values "
                                   f"({seen[name]!r} and {value!r}): give it once")
        seen.setdefault(name, value)
    for name, (other, value) in (given or {}).items():
        if name in seen and seen[name].strip() != value:
            raise click.UsageError(f"{flag} {name}={seen[name]} and {other} {value} both set "
                                   f"{name}, differently: give it once")
