"""`outbound-console templates list|show|validate|new`."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import click

from console.cli.exit_codes import InvalidInput
from console.cli.options import profiles_dir_of
from console.domain.templates import (
    Template,
    TemplateError,
    dump_template,
    find_templates,
    load_template,
    resolve_template,
    save_template,
    template_dirs,
    template_path,
)
from console.profiles import search_path

__all__ = ["templates"]

dirs_option = click.option("--profiles", "profiles_dir",
                           type=click.Path(path_type=Path, file_okay=False),
                           help="Profiles directory searched first (templates live in its "
                           "templates/ folder).")


def _dirs(profiles_dir: Path | None) -> list[Path]:
    """Template folders for --profiles given before or after the command."""
    return template_dirs(search_path(profiles_dir_of(click.get_current_context(),
                                                     profiles_dir)))


@click.group()
def templates() -> None:
    """Saved AddRecord requests, per campaign and calling list."""


@templates.command("list")
@dirs_option
def list_(profiles_dir: Path | None) -> None:
    """Templates grouped campaign -> calling list (as the files say, not the folders), then
    the examples shipped with outbound-console."""
    from console.example_templates import DIR as EXAMPLES

    found = find_templates(_dirs(profiles_dir))
    _print_tree(found, "")
    if not found:
        click.echo("no templates of your own (try `outbound-console templates new`)")
    click.echo("examples (shipped with outbound-console, read-only; `templates show NAME`):")
    _print_tree(find_templates([EXAMPLES]), "  ")


def _print_tree(found: list[Template | TemplateError], indent: str) -> None:
    tree: dict[str, dict[str, list[Template]]] = defaultdict(lambda: defaultdict(list))
    broken: list[TemplateError] = []
    for item in found:
        if isinstance(item, TemplateError):
            broken.append(item)
        else:
            tree[item.campaign][item.calling_list].append(item)
    for campaign in sorted(tree):
        click.echo(f"{indent}{campaign}")
        for calling_list in sorted(tree[campaign]):
            click.echo(f"{indent}  {calling_list}")
            for template in sorted(tree[campaign][calling_list], key=lambda t: t.name):
                first = template.description.strip().splitlines()[0] if template.description \
                    else ""
                click.echo(f"{indent}    {template.name:<28} {first}")
    for error in broken:
        click.echo(f"! {error}", err=True)


@templates.command()
@click.argument("template")
@dirs_option
def show(template: str, profiles_dir: Path | None) -> None:
    """One template: where it is, what it needs, and its YAML."""
    try:
        # The user's first, then the examples (which the user's shadow).
        loaded = load_template(resolve_template(template, _dirs(profiles_dir)))
    except TemplateError as exc:
        raise InvalidInput(str(exc)) from None
    click.echo(f"# {loaded.path}")
    needs = loaded.placeholders()
    if needs:
        click.echo(f"# placeholders to give (--set or rows): {', '.join(needs)}")
    click.echo(dump_template(loaded), nl=False)


@templates.command()
@click.argument("names", nargs=-1)
@dirs_option
def validate(names: tuple[str, ...], profiles_dir: Path | None) -> None:
    """Check templates (all, or those named); exit 2 if any is bad."""
    dirs = _dirs(profiles_dir)
    results: list[Template | TemplateError] = []
    if names:
        for name in names:
            try:
                results.append(load_template(resolve_template(name, dirs)))
            except TemplateError as exc:
                results.append(exc)
    else:
        results = find_templates(dirs)
    bad = 0
    for item in results:
        if isinstance(item, TemplateError):
            bad += 1
            click.echo(f"FAIL {item}")
        else:
            click.echo(f"ok   {item.path}")
    click.echo(f"{len(results) - bad} valid, {bad} invalid")
    sys.exit(2 if bad else 0)


@templates.command()
@click.option("--campaign", required=True, help="Campaign name (campaignName).")
@click.option("--calling-list", required=True, help="Calling list (callingList).")
@click.option("--name", required=True, help="Template name (its file name).")
@click.option("--application-id", default=134, show_default=True, type=int)
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              default=Path("profiles/templates"), show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new(campaign: str, calling_list: str, name: str, application_id: int, directory: Path,
        force: bool) -> None:
    """Write a starter template to edit (exit 2 and nothing written when a name cannot be
    used or the file exists)."""
    try:
        path = template_path(directory, campaign, calling_list, name)
    except TemplateError as exc:
        raise InvalidInput(str(exc)) from None
    if path.exists() and not force:
        raise InvalidInput(f"{path} exists (use --force to overwrite)")
    template = Template(
        name=name, description=f"AddRecord to {campaign} / {calling_list}.\n"
        "Give the phone number with --set phone=... or a rows file.\n",
        request={"applicationId": application_id, "campaignName": campaign,
                 "callingList": calling_list, "phoneNumber": "${phone}", "timeZone": "GMT",
                 "phoneType": "Mobile", "from": "08:00", "until": "20:00"})
    try:
        saved = save_template(template, path)
    except TemplateError as exc:
        raise InvalidInput(str(exc)) from None
    click.echo(f"wrote {saved.path}")
