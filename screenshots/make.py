"""Regenerate the README's screenshots: the real app against the embedded simulator.

    python screenshots/make.py

Each scene is the same as a snapshot test (tests/test_tui_snapshots.py) at 120x40, with a fixed
clock and referenceIds so the pictures only change when the app does.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.test_tui_snapshots import SCENARIOS, app_for  # noqa: E402

SCENES = {
    "main": "main screen on the simulator",
    "acknowledged": "an AddRecord acknowledged, its events highlighted",
    "templates": "the template tree",
    "replay": "a replay verdict",
    "error": "an invalid form: inline errors, focus on the first bad field",
}


async def shoot(name: str, size: tuple[int, int]) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app = app_for(Path(tmp))
        async with app.run_test(size=size) as pilot:
            await SCENARIOS[name](pilot)
            svg = app.export_screenshot(title=f"outbound-console — {SCENES[name]}")
    path = HERE / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


def main() -> None:
    for name in SCENES:
        print(asyncio.run(shoot(name, (120, 40))))
    print(asyncio.run(shoot("main", (80, 24))).rename(HERE / "main-80x24.svg"))


if __name__ == "__main__":
    main()
