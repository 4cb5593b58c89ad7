"""The layers a newcomer sees in the folders hold: domain <- gws <- app <- skins (cli, tui,
notebook). A module may import its own layer and those below, never one above (a skin never
imports another skin, except the CLI reading the TUI's repaint-rate setting, which has no
Textual in it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parent.parent / "console"
LEVEL = {"domain": 0, "gws": 1, "app": 2, "cli": 3, "tui": 3, "notebook": 3}
ALLOWED = {("cli", "console.tui.repaint")}


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def upward(layer: str, module: str) -> bool:
    parts = module.split(".")
    if parts[0] != "console" or len(parts) < 2 or parts[1] not in LEVEL or parts[1] == layer:
        return False
    return LEVEL[parts[1]] >= LEVEL[layer] and (layer, module) not in ALLOWED


@pytest.mark.parametrize("layer", sorted(LEVEL))
def test_no_layer_imports_one_above_it(layer: str) -> None:
    offenders = [f"{path.relative_to(CONSOLE.parent)} imports {module}"
                 for path in sorted((CONSOLE / layer).rglob("*.py"))
                 for module in imports(path) if upward(layer, module)]
    assert offenders == []


def test_the_check_sees_an_upward_import() -> None:
    assert upward("domain", "console.gws.session")
    assert upward("gws", "console.app.target")
    assert upward("tui", "console.cli.main")
    assert not upward("app", "console.domain.model")
    assert not upward("cli", "console.tui.repaint")
