"""Starting the console: what `outbound-console` does when given no command.

The entry point looks at the arguments first. When they only start the console (no command,
nothing but the console's own options), it starts it without importing click, which is about
10 ms of a 200 ms start on our machines (bench/tui.py). Anything else — a command, --help,
--version, an unknown option, an odd spelling, a path click would refuse — goes to click
(console.cli), which parses and reports it as always.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.app.target import ResolvedTarget
    from console.domain.templates import Template
    from console.profile import Profile

__all__ = ["OPTIONS", "console_args", "find_start_template", "prompt_password", "run",
           "start_console"]

#: The console's own options (console.cli declares the same ones for click) -> parameter.
OPTIONS = {
    "--profile": "profile_name", "-p": "profile_name", "--profiles": "profiles_dir",
    "--url": "url", "--user": "user", "--journal": "journal_path",
    "--template": "template_name", "--max-repaint-rate": "max_repaint_rate",
}


def console_args(argv: list[str]) -> dict[str, str] | None:
    """The console's options when `argv` holds nothing else, or None: leave it to click."""
    found: dict[str, str] = {}
    index = 0
    while index < len(argv):
        name, equals, value = argv[index].partition("=")
        key = OPTIONS.get(name)
        if key is None or key in found or (equals and name == "-p"):
            return None
        if not equals:
            index += 1
            if index == len(argv):
                return None  # click says which value is missing
            value = argv[index]
        if not value or value.startswith("-"):
            return None
        found[key] = value
        index += 1
    if not _path_ok(found.get("profiles_dir"), want_dir=True) or \
            not _path_ok(found.get("journal_path"), want_dir=False):
        return None
    if "max_repaint_rate" in found:
        from console.tui.repaint import RepaintRateError, parse_max_repaint_rate

        try:
            parse_max_repaint_rate(found["max_repaint_rate"])
        except RepaintRateError:
            return None  # click words the refusal
    return found


def _path_ok(value: str | None, want_dir: bool) -> bool:
    """What click.Path(file_okay=False) / (dir_okay=False) accept; click words the refusals."""
    if value is None or not os.path.exists(value):
        return True
    return os.path.isdir(value) == want_dir and os.access(value, os.R_OK)


def prompt_password(label: str) -> str:
    """Ask for the password on the terminal (nothing echoed); '' when there is none."""
    if not sys.stdin.isatty():
        return ""
    import getpass

    try:
        return getpass.getpass(f"{label}: ")
    except EOFError:  # Ctrl-D: no password, exit 6 as in every command (not a traceback)
        from console.cli.commands import NO_PASSWORD_TYPED
        from console.errors import ProfileError

        raise ProfileError(NO_PASSWORD_TYPED) from None
    except KeyboardInterrupt:  # Ctrl-C before the console opened: exit 130, not "Aborted!"
        print("\ninterrupted at the password prompt: nothing was sent", file=sys.stderr)
        sys.exit(130)


def find_start_template(name: str, profiles_dir: Path | None) -> Template:
    """The template `--template` names: a file, `campaign/list/name` or a name, among the
    user's templates, then the examples shipped with the package (TemplateError if none)."""
    from console.domain.templates import load_template, resolve_template, template_dirs
    from console.profiles import search_path

    return load_template(resolve_template(name, template_dirs(search_path(profiles_dir))))


def start_console(profile_name: str | None = None, profiles_dir: Path | None = None,
                  url: str | None = None, user: str | None = None,
                  journal_path: Path | None = None, template_name: str | None = None,
                  max_repaint_rate: str | None = None) -> None:
    """Resolve the target (and the template to open with) and run the console until it
    quits (ProfileError when the profile can't be used, TemplateError for the template).
    `max_repaint_rate`: as given to --max-repaint-rate (None: the profile's, or the default
    for this terminal; see console.tui.repaint)."""
    profile: Profile
    resolved: ResolvedTarget | None = None
    template: Template | None = None
    if template_name is not None:
        # Before the console opens: a template that cannot be used is refused, not ignored.
        template = find_start_template(template_name, profiles_dir)
    if profile_name is None and url is None and user is None:
        # The embedded simulator: nothing to resolve, so nothing heavy to import yet.
        from console.profile import DEMO

        profile = DEMO
    else:
        from console.app.target import TargetOptions, resolve_target

        resolved = resolve_target(TargetOptions(profile_name, profiles_dir, url, user),
                                  prompt=prompt_password)
        profile = resolved.profile
    rate = repaint_rate(max_repaint_rate, profile)
    early = None
    if profile.simulator:
        # Its imports run in a process of their own while Textual loads and draws.
        from console.app.early_sim import EarlySimulator

        early = EarlySimulator.spawn(profile.username or "demo")
    # Importing and building the console allocates enough to trigger a full garbage
    # collection (~15 ms) before the first frame; the app turns collection back on once that
    # frame is out (see OutboundApp._start).
    from console.app.heap import pause_collection

    with keys_kept():
        pause_collection()
        from console.tui.app import (
            OutboundApp,  # Textual is imported only for the console
        )

        # The TUI still asks through a prompt callable: it gets the password resolved above.
        OutboundApp(profile, journal_path=journal_path, profiles_dir=profiles_dir,
                    prompt=resolved.answer if resolved is not None else None,
                    template=template, max_repaint_rate=rate, early_sim=early).run()


def repaint_rate(option: str | None, profile: Profile) -> float:
    """Stream repaints per second: --max-repaint-rate, else the profile's max_repaint_rate,
    else the default for this terminal (limited under SSH); 0.0 is unlimited."""
    from console.errors import ConsoleError
    from console.tui.repaint import (
        RepaintRateError,
        default_max_repaint_rate,
        parse_max_repaint_rate,
    )

    if option is None:
        return profile.max_repaint_rate if profile.max_repaint_rate is not None else \
            default_max_repaint_rate(os.environ)
    try:
        return parse_max_repaint_rate(option)
    except RepaintRateError as exc:
        raise ConsoleError(f"--max-repaint-rate: {exc}") from None


@contextmanager
def keys_kept() -> Iterator[None]:
    """Keys typed while the console loads reach it as typed: the terminal stops reading them
    as it does for a shell (Ctrl+S as XOFF, Ctrl+C as a signal, echo) now, not only once
    Textual is imported and starts; the terminal is restored as it was afterwards."""
    import termios

    try:
        fd = sys.stdin.fileno()
        before = termios.tcgetattr(fd)
    except (OSError, ValueError, termios.error):  # not a terminal: nothing to keep
        yield
        return
    held = list(before)
    held[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL)
    held[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)
    try:
        termios.tcsetattr(fd, termios.TCSANOW, held)  # TCSANOW: what is typed is kept
        yield
    finally:
        try:
            termios.tcsetattr(fd, termios.TCSANOW, before)
        except termios.error:
            pass


def run() -> None:
    """The `outbound-console` entry point."""
    args = console_args(sys.argv[1:])
    if args is None:
        from console.app.heap import pause_collection

        pause_collection()  # start-up's imports free nothing (console.app.heap)
        from console.cli.main import main

        main()
        return
    from console.errors import ConsoleError, ProfileError

    profiles_dir, journal_path = args.get("profiles_dir"), args.get("journal_path")
    try:
        start_console(args.get("profile_name"), Path(profiles_dir) if profiles_dir else None,
                      args.get("url"), args.get("user"),
                      Path(journal_path) if journal_path else None, args.get("template_name"),
                      args.get("max_repaint_rate"))
    except ConsoleError as exc:
        print(f"Error: {exc}", file=sys.stderr)  # as click prints a ClickException
        # A profile problem is exit 6 as in every command (console.cli.exit_codes); a template
        # that cannot be used is invalid input, 2.
        sys.exit(6 if isinstance(exc, ProfileError) else 2)
