"""A replay's progress in a notebook: a tqdm.auto bar (a widget bar in Jupyter, text
elsewhere) counting what was *sent*, the verdicts so far beside it, and in a kernel a Stop
button (it works when the replay runs as a task: a kernel handles no click while a cell
awaits)."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

from console.app.replay import ReplayProgress, ReplayRun

__all__ = ["ReplayProgressBar", "in_kernel"]


def in_kernel() -> bool:
    """Running in a Jupyter kernel (where widgets are shown)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class ReplayProgressBar:
    """Follows a ReplayRun through its `on_progress` callback."""

    def __init__(self, stop_button: bool | None = None) -> None:
        self.bar: Any = None
        self.stop_button: Any = None
        """The Stop button (ipywidgets), when shown."""
        self._with_button = in_kernel() if stop_button is None else stop_button

    def start(self, run: ReplayRun) -> None:
        target = run.target
        self.bar = tqdm(total=len(run.plan.jobs), unit="record",
                        desc=f"replay {target.marker or target.profile}".strip())
        if self._with_button:
            import ipywidgets as w
            from IPython.display import display

            self.stop_button = w.Button(description="Stop replay", button_style="warning")
            self.stop_button.on_click(lambda _: self._stop(run))
            show: Any = display  # IPython's display() is untyped
            show(self.stop_button)

    def _stop(self, run: ReplayRun) -> None:
        run.stop()
        self.stop_button.disabled = True
        self.stop_button.description = "stopping..."

    def update(self, progress: ReplayProgress) -> None:
        if self.bar is None:
            return
        self.bar.n = progress.sent
        self.bar.set_postfix_str(progress.line(), refresh=False)
        self.bar.refresh()

    def close(self, progress: ReplayProgress) -> None:
        if self.stop_button is not None:
            self.stop_button.disabled = True
            self.stop_button.description = "stopped" if progress.stopped else "finished"
        if self.bar is None:
            return
        self.update(progress)
        self.bar.close()
