"""A replay's progress bar in a notebook (tqdm.auto: a widget bar in Jupyter, text
elsewhere), counting what was *sent*, with the verdicts so far beside it."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

from console.app.replay import ReplayProgress, ReplayRun

__all__ = ["ReplayProgressBar"]


class ReplayProgressBar:
    """Follows a ReplayRun through its `on_progress` callback."""

    def __init__(self) -> None:
        self.bar: Any = None

    def start(self, run: ReplayRun) -> None:
        target = run.target
        self.bar = tqdm(total=len(run.plan.jobs), unit="record",
                        desc=f"replay {target.marker or target.profile}".strip())

    def update(self, progress: ReplayProgress) -> None:
        if self.bar is None:
            return
        self.bar.n = progress.sent
        self.bar.set_postfix_str(progress.line(), refresh=False)
        self.bar.refresh()

    def close(self, progress: ReplayProgress) -> None:
        if self.bar is None:
            return
        self.update(progress)
        self.bar.close()
