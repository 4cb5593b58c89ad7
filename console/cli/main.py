"""The `outbound-console` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from console import __version__
from console.app.heap import resume_collection
from console.cli.process import started_as_program
from console.cli.repeats import refuse_repeated_names, refuse_repeats
from console.tui.repaint import DEFAULT_OVER_SSH

SIM_PASSWORD_ENV = "OUTBOUND_CONSOLE_SIM_PASSWORD"


class _LazyGroup(click.Group):
    """Commands imported when used: `outbound-console` alone must not pay for the engine's
    imports before the console draws its first screen."""

    LAZY = {
        "send": "console.cli.commands:send", "watch": "console.cli.commands:watch",
        "profiles": "console.cli.commands:profiles", "replay": "console.cli.replay:replay",
        "templates": "console.cli.templates:templates",
    }
    #: The first paragraph of each lazy command's help, for `--help`'s list of commands:
    #: importing the commands for it cost ~400 ms (the engine, httpx, then pydantic). A test holds
    #: these equal to the commands' own docstrings.
    #: Commands that turn garbage collection back on themselves once their target is open
    #: (their last imports done); every other one gets it back before it runs
    #: (console.app.heap).
    COLLECT_WHEN_OPEN = frozenset({"send", "watch"})
    SUMMARIES = {
        "send": "Send one AddRecord and report what GWS answered.",
        "watch": "Print every notification as it arrives, until Ctrl-C (reconnects by itself).",
        "profiles": "List and show profiles (secrets are never shown: profiles hold none).",
        "replay": "Send records from templates and give a verdict per record.",
        "templates": "Saved AddRecord requests, per campaign and calling list.",
    }

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """`main()`: the program itself when the arguments are the process's own (the
        entry point, `python -m console.cli`); then a command may end the process at once
        (console.cli.process)."""
        if not args and kwargs.get("args") is None:
            started_as_program()
        return super().__call__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        """A Ctrl-C (or SIGTERM, SIGHUP: console.cli.process) that no command handled itself
        (while one loads, in `templates list`...) ends with the table's 130, not click's
        "Aborted!" and exit 1."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            from console.cli.exit_codes import EXIT_INTERRUPTED

            click.echo("\ninterrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list of commands, with the lazy ones' summaries from `SUMMARIES`."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.SUMMARIES:
                # Worded by click as the command's own short help would be.
                stand_in = click.Command(name, help=self.SUMMARIES[name])
                rows.append((name, stand_in.get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            import importlib

            module, attr = self.LAZY[name].split(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return refuse_repeats(command)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             invoke_without_command=True)
@click.version_option(__version__, prog_name="outbound-console")
@click.option("--profile", "-p", "profile_name", help="Profile (default: demo, the embedded "
              "simulator).")
@click.option("--profiles", "profiles_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Directory searched first for profiles and templates.")
@click.option("--url", help="GWS base URL (overrides the profile).")
@click.option("--user", help="GWS user (overrides the profile).")
@click.option("--journal", "journal_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Journal file (default: one per day in the user state dir).")
@click.option("--template", "template_name", help="Open the console with this template in "
              "the form (a name, campaign/list/name or a file); then Ctrl+S sends it.")
@click.option("--max-repaint-rate", "max_repaint_rate", metavar="N|off",
              callback=lambda ctx, param, value: _repaint_rate(value),
              help="The console redraws what the event stream brings at most N times a second "
              "(keys always redraw at once); 0 or off: unlimited. Default: the profile's "
              f"max_repaint_rate, else {DEFAULT_OVER_SSH:g} under SSH (SSH_CONNECTION set), "
              "unlimited otherwise.")
@click.pass_context
def main(ctx: click.Context, profile_name: str | None, profiles_dir: Path | None,
         url: str | None, user: str | None, journal_path: Path | None,
         template_name: str | None, max_repaint_rate: str | None) -> None:
    """Add records to Genesys outbound calling lists through GWS and watch what comes back.

    With no command: the console (on the embedded simulator unless --profile/--url is given).
    These options may also come after send, watch and replay (--profiles also after profiles
    and templates); an option that a command does not use is refused, not ignored.
    """
    if ctx.invoked_subcommand not in _LazyGroup.COLLECT_WHEN_OPEN:
        resume_collection()
    from console.app.target import TargetOptions
    from console.cli.options import check_before

    options = TargetOptions(profile_name, profiles_dir, url, user, journal_path)
    if ctx.invoked_subcommand is not None:
        if template_name is not None:
            raise click.UsageError(f"--template before {ctx.invoked_subcommand!r} opens the "
                                   "console with a template; give the command its own "
                                   "--template (send) or template names (replay) instead")
        if max_repaint_rate is not None:
            raise click.UsageError(f"--max-repaint-rate is the console's (how often it redraws "
                                   f"the event stream); {ctx.invoked_subcommand!r} prints "
                                   "lines and does not use it: remove it")
        check_before(ctx, options)
        ctx.obj = options  # the command merges them with its own (console.cli.options)
        return
    from console.cli.options import TargetProblem
    from console.errors import ConsoleError, ProfileError
    from console.launch import start_console

    try:
        start_console(profile_name, profiles_dir, url, user, journal_path, template_name,
                      max_repaint_rate)
    except ProfileError as exc:
        raise TargetProblem(str(exc)) from None

    except ConsoleError as exc:
        from console.cli.exit_codes import InvalidInput

        raise InvalidInput(str(exc)) from None  # a --template that can't be used: as `send`


def _repaint_rate(value: str | None) -> str | None:
    """--max-repaint-rate checked here, so a bad value is refused as click refuses options."""
    from console.tui.repaint import RepaintRateError, parse_max_repaint_rate

    if value is not None:
        try:
            parse_max_repaint_rate(value)
        except RepaintRateError as exc:
            raise click.BadParameter(str(exc), param_hint="'--max-repaint-rate'") from None
    return value


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (loopback unless you mean otherwise).")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks one).")
@click.option("--user", "user_name", default="demo", show_default=True, help="Demo user name.")
@click.option("--fault", "faults", multiple=True, metavar="NAME=VALUE",
              help="Inject a fault, e.g. ack_drop=0.1, ack_delay_ms=200 (repeatable).")
@click.option("--faults-file", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML file of fault settings (applied before --fault).")
@click.option("--seed", type=int, default=None, help="Seed for reproducible faults.")
@click.option("--setting", "settings", multiple=True, metavar="NAME=VALUE",
              help="A behaviour setting, e.g. csrf=false, ocs_refusals=sync, "
              "session_required=sync, user_event_channel=/v2/me/devices, noise_per_s=2 "
              "(repeatable).")
@click.option("--nodes", type=click.IntRange(1, 8), default=1, show_default=True,
              help="GWS nodes; more than one runs a cluster behind a load balancer on --port.")
@click.option("--sticky/--no-sticky", default=True, show_default=True,
              help="Balancer affinity on JSESSIONID (--no-sticky: round-robin every request).")
def sim(host: str, port: int, user_name: str, faults: tuple[str, ...],
        faults_file: Path | None, seed: int | None, settings: tuple[str, ...], nodes: int,
        sticky: bool) -> None:
    """Run the GWS simulator (REST + CometD) until Ctrl-C.

    The password comes from OUTBOUND_CONSOLE_SIM_PASSWORD, or is generated and printed.
    """
    import asyncio

    from console.sim import Faults, GwsSettings, Simulator, load_fault_file
    from console.sim.faults import apply_settings, parse_assignments
    from console.sim.settings import apply_gws_settings, parse_setting_assignments

    refuse_repeated_names("--fault", faults,
                          {"seed": ("--seed", str(seed))} if seed is not None else None)
    refuse_repeated_names("--setting", settings)
    try:
        changes: dict[str, object] = {}
        if faults_file is not None:
            changes.update(load_fault_file(faults_file))
        changes.update(parse_assignments(faults))
        if seed is not None:
            changes["seed"] = seed
        fault_config = apply_settings(Faults(), changes)
        setting_config = apply_gws_settings(GwsSettings(),
                                            parse_setting_assignments(settings))
    except ValueError as exc:  # FaultError and SettingError name the key and the fix
        raise click.UsageError(str(exc)) from None
    if not user_name.strip():
        raise click.BadParameter("the user is empty: give a name (e.g. --user agent007), or "
                                 "leave --user out for demo", param_hint="'--user'")
    if nodes == 1 and not sticky:
        raise click.UsageError("--no-sticky needs --nodes 2 or more (one node has no balancer)")
    password = os.environ.get(SIM_PASSWORD_ENV)
    generated = not password
    simulator = Simulator(host=host, port=port, user=user_name, password=password or None,
                          faults=fault_config, settings=setting_config, nodes=nodes,
                          sticky=sticky)

    async def serve() -> None:
        try:
            await simulator.start()
        except OSError as exc:
            await simulator.stop()
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        click.echo(f"GWS SIMULATOR listening on {simulator.url}")
        click.echo(f"  REST     {simulator.url}/api/v2/me")
        click.echo(f"  CometD   {simulator.url}/api/v2/notifications")
        click.echo(f"  control  {simulator.url}/sim/state")
        if simulator.balancer is not None:
            affinity = "sticky on JSESSIONID" if sticky else "NOT sticky (round-robin)"
            click.echo(f"  balancer {affinity} over {nodes} nodes: "
                       + ", ".join(f"{n.name} {n.url}" for n in simulator.nodes))
        if generated:
            click.echo(f"  user {simulator.user}  password {simulator.password}  "
                       f"(generated; set {SIM_PASSWORD_ENV} to choose it)")
        else:
            click.echo(f"  user {simulator.user}  password from {SIM_PASSWORD_ENV}")
        active = {k: v for k, v in fault_config.as_dict().items() if v != getattr(Faults(), k)}
        if active:
            click.echo(f"  faults   {active}")
        chosen = {k: v for k, v in setting_config.as_dict().items()
                  if v != getattr(GwsSettings(), k)}
        if chosen:
            click.echo(f"  settings {chosen}")
        click.echo("Ctrl-C to stop.")
        sys.stdout.flush()
        try:
            await asyncio.Event().wait()
        finally:
            await simulator.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        click.echo("simulator stopped")


refuse_repeats(main)  # the console's own options and sim's (the lazy commands' when loaded)

if __name__ == "__main__":
    main()
