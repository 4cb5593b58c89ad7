"""`outbound-console templates new`, run as the installed binary in a folder of tmp_path:
a starter template that loads, and nothing written outside the templates folder (or at all)
when a name part is bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.domain.templates import (
    Template,
    TemplateError,
    load_template,
    save_template,
    template_path,
)
from tests.cli_helpers import isolated_env, run_bin


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_new_writes_a_starter_that_loads_and_validates(tmp_path: Path) -> None:
    work = tmp_path / "work"
    env = isolated_env(tmp_path)
    code, out, err = await run_bin("templates", "new", "--campaign", "Campaign1",
                                   "--calling-list", "CallingList1", "--name", "my-test",
                                   env=env, cwd=work)
    path = work / "profiles" / "templates" / "Campaign1" / "CallingList1" / "my-test.yaml"
    assert (code, err) == (0, ""), out
    assert out == f"wrote {Path('profiles/templates/Campaign1/CallingList1/my-test.yaml')}\n"
    template = load_template(path)
    assert (template.name, template.campaign, template.calling_list) == \
        ("my-test", "Campaign1", "CallingList1")
    assert template.request["applicationId"] == 134
    assert template.placeholders() == ["phone"]
    assert files_under(work) == [path]
    code, out, _ = await run_bin("templates", "validate", "--profiles", "profiles",
                                 env=env, cwd=work)
    assert code == 0 and "1 valid, 0 invalid" in out
    # Again: refused, the file kept as it was; --force overwrites.
    before = path.read_text()
    code, out, err = await run_bin("templates", "new", "--campaign", "Campaign1",
                                   "--calling-list", "CallingList1", "--name", "my-test",
                                   "--application-id", "7", env=env, cwd=work)
    assert code == 2 and "exists (use --force to overwrite)" in err
    assert path.read_text() == before
    code, _, err = await run_bin("templates", "new", "--campaign", "Campaign1",
                                 "--calling-list", "CallingList1", "--name", "my-test",
                                 "--application-id", "7", "--force", env=env, cwd=work)
    assert (code, err) == (0, "")
    assert load_template(path).request["applicationId"] == 7


@pytest.mark.parametrize(("option", "value", "problem"), [
    ("--name", "../../../evil2", "name"),
    ("--name", "a b/c", "name"),
    ("--name", "..", "name"),
    ("--name", "", "name"),
    ("--campaign", "../../..", "campaign"),
    ("--campaign", "..", "campaign"),
    ("--campaign", "a/b", "campaign"),
    ("--campaign", "/tmp", "campaign"),
    ("--campaign", "", "campaign"),
    ("--calling-list", "../x", "calling list"),
    ("--calling-list", "x\\y", "calling list"),
    ("--calling-list", ".", "calling list"),
])
async def test_a_bad_name_part_is_refused_and_nothing_is_written(
        tmp_path: Path, option: str, value: str, problem: str) -> None:
    work = tmp_path / "a" / "b" / "c" / "work"
    args = {"--campaign": "Campaign1", "--calling-list": "CallingList1", "--name": "ok",
            option: value}
    code, out, err = await run_bin("templates", "new", *[x for kv in args.items() for x in kv],
                                   env=isolated_env(tmp_path), cwd=work)
    assert code == 2, (out, err)
    assert err.startswith(f"Error: {problem}") and "Traceback" not in err, err
    assert out == ""
    written = [p for p in files_under(tmp_path) if p.suffix in (".yaml", ".tmp")]
    assert written == []
    assert not (work / "profiles").exists()


def test_template_path_keeps_every_part_one_name_inside_the_folder(tmp_path: Path) -> None:
    assert template_path(tmp_path, "Campaign 1", "CL_1", "cb.v2") == \
        tmp_path / "Campaign 1" / "CL_1" / "cb.v2.yaml"
    for campaign, calling_list, name in [("..", "l", "n"), ("c", "a/..", "n"),
                                         ("c", "l", "../n"), ("c\x00", "l", "n"),
                                         (" ", "l", "n"), ("c", "l", "n\n")]:
        with pytest.raises(TemplateError):
            template_path(tmp_path, campaign, calling_list, name)


def test_save_template_writes_nothing_that_would_not_load(tmp_path: Path) -> None:
    request = {"applicationId": 134, "campaignName": "C", "callingList": "L",
               "phoneNumber": "${phone}", "timeZone": "GMT", "phoneType": "Mobile",
               "from": "08:00", "until": "20:00"}
    for name in ("a b/c", "../x", "-dash", "x\n"):
        path = tmp_path / "C" / "L" / "t.yaml"
        with pytest.raises(TemplateError, match="name must be"):
            save_template(Template(name=name, request=request), path)
        assert files_under(tmp_path) == []
    saved = save_template(Template(name="t", request=request), tmp_path / "C" / "L" / "t.yaml")
    assert saved == load_template(tmp_path / "C" / "L" / "t.yaml")


async def test_the_consoles_save_as_template_keeps_inside_the_templates_folder(
        tmp_path: Path) -> None:
    from textual.widgets import Input

    from console.tui.dialogs import Ask
    from tests.tui_helpers import GOOD, fill, make_app, ready, wait_until

    app = make_app(tmp_path, user_templates=False)
    before = files_under(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        fill(app, **{**GOOD, "campaignName": "../.."})  # tmp_path/CallingList1 before
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, Ask))
        app.screen.query_one(Input).value = "evil"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(
            "campaign '../..' cannot be a folder name" in str(n.message)
            for n in app._notifications))
    assert [p for p in files_under(tmp_path) if p.suffix == ".yaml"] == \
        [p for p in before if p.suffix == ".yaml"]
    assert not list(tmp_path.rglob("evil.yaml"))


async def test_the_notebook_form_save_keeps_inside_the_templates_folder(tmp_path: Path) -> None:
    from console.api import connect
    from console.notebook import RecordForm

    console = await connect(journal=tmp_path / "journal.jsonl",
                            profiles_dir=tmp_path / "work" / "profiles")
    try:
        (tmp_path / "work" / "profiles" / "templates").mkdir(parents=True)
        form = RecordForm(console, profiles_dir=tmp_path / "work" / "profiles")
        form.inputs["campaignName"].value = "../../.."  # tmp_path/CallingList1 before
        form.inputs["callingList"].value = "CallingList1"
        assert form.save("evil") is None
        assert "cannot be a folder name" in form.notice.value
        assert not list(tmp_path.rglob("evil.yaml"))
    finally:
        await console.close()


async def test_a_file_that_cannot_be_written_is_an_error_and_leaves_nothing(
        tmp_path: Path) -> None:
    work = tmp_path / "work"
    code, out, err = await run_bin("templates", "new", "--campaign", "C", "--calling-list", "L",
                                   "--name", "a" * 300, env=isolated_env(tmp_path), cwd=work)
    assert code == 2 and "Traceback" not in err, err
    assert err.startswith("Error: profiles/templates/C/L/aaa") and \
        "cannot write the template: File name too long" in err, err
    assert not (work / "profiles").exists()
