"""Regenerate the README's screenshots: the real app against the embedded simulator.

    python screenshots/make.py

Each scene is the same as a snapshot test (tests/test_tui_snapshots.py), with a fixed clock
and referenceIds so the pictures only change when the app does. Every file below is written
under its own name (the README shows main.svg first).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.test_tui_snapshots import SCENARIOS, app_for  # noqa: E402

#: file name -> (scene, size, without colour, title)
SHOTS: dict[str, tuple[str, tuple[int, int], bool, str]] = {
    "main.svg": ("main", (120, 40), False, "main screen on the simulator"),
    "main-80x24.svg": ("main", (80, 24), False, "main screen at 80x24"),
    "acknowledged.svg": ("acknowledged", (120, 40), False,
                         "an AddRecord acknowledged, its events highlighted"),
    "events-80x24.svg": ("events", (80, 24), False,
                         "the event pane at 80x24: headings, a gap row, the newest in view"),
    "templates.svg": ("templates", (120, 40), False, "the template tree"),
    "replay.svg": ("replay", (120, 40), False, "a replay verdict"),
    "error.svg": ("error", (120, 40), False,
                  "an invalid form: inline errors, focus on the first bad field"),
    "no-color-80x24.svg": ("error", (80, 24), True,
                           "NO_COLOR: focus, cursor and placeholders by attribute"),
}


async def shoot(file_name: str) -> Path:
    scene, size, no_color, title = SHOTS[file_name]
    if no_color:
        os.environ["NO_COLOR"] = "1"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = app_for(Path(tmp))
            async with app.run_test(size=size) as pilot:
                await SCENARIOS[scene](pilot)
                svg = app.export_screenshot(title=f"outbound-console — {title}")
    finally:
        os.environ.pop("NO_COLOR", None)
    path = HERE / file_name
    path.write_text(svg, encoding="utf-8")
    return path


def main() -> None:
    for file_name in SHOTS:
        print(asyncio.run(shoot(file_name)))


if __name__ == "__main__":
    main()
