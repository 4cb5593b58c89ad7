"""The global options (--profile/-p, --profiles, --url, --user, --journal): declared once,
honoured before or after the command, refused where they do not apply, never ignored.

`outbound-console --url U send ...` and `outbound-console send --url U ...` are the same; the
same option on both sides with different values is refused (exit 2), as is an option given
before a command that has no use for it (`--url` before `sim` or `templates`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from console.app.target import OptionConflict, TargetOptions
from console.cli.exit_codes import EXIT_UNREACHABLE

__all__ = ["with_target", "TargetProblem", "check_before", "target_options", "profiles_dir_of",
           "APPLIES", "given_on_command_line"]

F = TypeVar("F", bound=Callable[..., Any])

#: Which global options each command uses (the fields of TargetOptions).
ALL = frozenset({"profile", "profiles_dir", "url", "user", "journal"})
APPLIES: dict[str, frozenset[str]] = {
    "send": ALL, "watch": ALL, "replay": ALL,
    "profiles": frozenset({"profiles_dir"}), "templates": frozenset({"profiles_dir"}),
    "sim": frozenset(),
}
_WHY = {
    "sim": "the simulator serves GWS, it does not connect to one (its own options come after "
           "it: sim --user NAME --port N)",
    "templates": "templates are files; this command does not connect to GWS",
    "profiles": "profiles list/show read profile files; use `profiles show NAME`",
}


class TargetProblem(click.ClickException):
    """A profile, URL or password problem: printed as click prints errors, exit code 6 (the
    same for every command and the console)."""

    exit_code = EXIT_UNREACHABLE


_OPTIONS = [
    click.option("--profile", "-p", "profile_name", help="Profile name (default: demo, the "
                 "embedded simulator)."),
    click.option("--profiles", "profiles_dir", type=click.Path(path_type=Path, file_okay=False),
                 help="Directory searched first for profiles (and templates)."),
    click.option("--url", help="GWS base URL (overrides the profile; no user:password@)."),
    click.option("--user", help="GWS user (overrides the profile)."),
    click.option("--journal", "journal_path", type=click.Path(path_type=Path, dir_okay=False),
                 help="Journal file (default: one per day in the user state dir)."),
]


def with_target(func: F) -> F:
    """The global options, also accepted after a command that uses them."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def check_before(ctx: click.Context, options: TargetOptions) -> None:
    """Refuse options given before a command that does not use them (UsageError, exit 2)."""
    command = ctx.invoked_subcommand
    if command is None or command not in APPLIES:
        return
    unused = [name for name in ("profile", "profiles_dir", "url", "user", "journal")
              if getattr(options, name) is not None and name not in APPLIES[command]]
    if unused:
        flags = ", ".join(TargetOptions(**{n: getattr(options, n) for n in unused}).given())
        raise click.UsageError(f"{flags} given before `{command}`, which does not use "
                               f"{'it' if len(unused) == 1 else 'them'}: {_WHY[command]}")


def _before(ctx: click.Context) -> TargetOptions:
    root = ctx.find_root().obj
    return root if isinstance(root, TargetOptions) else TargetOptions()


def target_options(ctx: click.Context, profile_name: str | None, profiles_dir: Path | None,
                   url: str | None, user: str | None,
                   journal_path: Path | None) -> TargetOptions:
    """The options given before the command merged with those given after it."""
    after = TargetOptions(profile_name, profiles_dir, url, user, journal_path)
    try:
        return _before(ctx).merged(after)
    except OptionConflict as exc:
        raise click.UsageError(str(exc)) from None


def profiles_dir_of(ctx: click.Context, profiles_dir: Path | None) -> Path | None:
    """--profiles given before or after the command (refused if both, differently)."""
    return target_options(ctx, None, profiles_dir, None, None, None).profiles_dir


def given_on_command_line(ctx: click.Context, name: str) -> bool:
    """Whether the option `name` (its parameter name) was typed, not left at its default."""
    return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
