"""examples/console.ipynb, executed headless (nbclient) on a kernel running this interpreter,
with assertions on what it shows: the acknowledged documentation sample and its referenceId,
the replay's verdict frame, and the password of the session in no output."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.notebook_kernel import install_kernel

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "console.ipynb"


def _texts(cell: Any) -> str:
    """Everything a cell showed: stdout/stderr and every representation of its results."""
    parts: list[str] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        for value in (output.get("data") or {}).values():
            parts.append(value if isinstance(value, str) else json.dumps(value))
        parts.extend(output.get("traceback") or [])
    return "\n".join(parts)


def _cell(nb: Any, start: str) -> Any:
    return next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start))


@pytest.fixture
def executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str, Path]:
    """The executed notebook, the session's password (read by a cell added for the test
    that shows nothing) and the journal folder."""
    kernel = install_kernel(tmp_path / "kernel", monkeypatch)
    nb = nbformat.read(EXAMPLE, as_version=4)
    secret_file = tmp_path / "password"
    spy = nbformat.v4.new_code_cell(
        f"open({str(secret_file)!r}, 'w').write(console.opened.connection.password.reveal());")
    close = next(i for i, c in enumerate(nb.cells) if "await console.close()" in c.source)
    nb.cells.insert(close, spy)
    workdir = tmp_path / "work"
    workdir.mkdir()
    client = NotebookClient(nb, kernel_name=kernel, timeout=120, startup_timeout=180,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    nb.cells.remove(spy)
    nbformat.write(nb, tmp_path / "executed.ipynb")
    return nb, secret_file.read_text(), workdir


def test_the_example_notebook_sends_the_sample_and_replays(executed: tuple[Any, str, Path]
                                                            ) -> None:
    nb, password, _ = executed
    console = _texts(_cell(nb, "import pandas"))
    assert "SIMULATOR" in console and "stream" in console

    shown = _cell(nb, "sample = ")
    html = shown.outputs[-1]["data"]["text/html"]
    plain = shown.outputs[-1]["data"]["text/plain"]
    printed = _texts(_cell(nb, "print(tracked.describe()"))
    match = re.match(r"acknowledged in \d+ ms ([0-9a-f]{32})$", printed.strip())
    assert match, printed
    reference = match.group(1)
    # The badge, the referenceId, and the ack as highlighted, collapsible JSON.
    assert ">acknowledged</span>" in html and reference in html
    assert "<details open><summary>ack: AddRecordAcknowledge" in html
    assert re.search(r'<span style="[^"]+">"referenceId"</span>', html)
    assert f'"{reference}"</span>' in html
    assert plain.startswith(f"AddRecord {reference} [SIMULATOR demo demo@127.0.0.1:")
    assert "acknowledged in" in plain

    replay = _cell(nb, "rows = ").outputs[-1]["data"]
    assert "3/3 sent, 3 acknowledged" in replay["text/plain"] + replay["text/html"]
    frame = _cell(nb, "verdicts = ").outputs[-1]["data"]["text/html"]
    assert frame.split("<tbody>")[1].count("<tr>") == 3  # three records
    for column in ("seq", "template", "referenceId", "state", "reason", "latencyMs",
                   "httpStatus", "source", "target"):
        assert f"<th>{column}</th>" in frame
    for row in (1, 2, 3):
        assert f"DataFrame:{row}" in frame
    counts = _texts(_cell(nb, "verdicts.groupby"))
    assert re.search(r"acknowledged\s+3", counts), counts

    events = _texts(_cell(nb, "to_frame(table.events)"))
    assert reference in events and "AddRecordAcknowledge" in events


def test_the_password_appears_in_no_output(executed: tuple[Any, str, Path]) -> None:
    nb, password, _ = executed
    assert len(password) >= 16
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert password not in _texts(cell), cell.source


def test_the_live_table_leaves_a_still_copy(executed: tuple[Any, str, Path]) -> None:
    nb, _, _ = executed
    still = _cell(nb, "table.snapshot()").outputs[-1]["data"]
    reference = re.search(r"[0-9a-f]{32}", _texts(_cell(nb, "print(tracked.describe()")))
    assert reference is not None
    html = still["text/html"]
    assert "SIMULATOR" in html and ">connected</span>" in html
    assert "8 events" in html  # the sample's ack and user event, three records' pairs
    # The highlighted rows: the sample's ack and user event (the replay highlights none).
    assert html.count("&#9654;") == 2 and reference.group(0) in html
    assert still["text/plain"].startswith("8 events, 0 gaps, stream connected")


def test_a_headless_kernel_cannot_be_asked_for_a_password_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kernel = install_kernel(tmp_path / "kernel", monkeypatch)
    monkeypatch.delenv("OUTBOUND_CONSOLE_PASSWORD", raising=False)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    # Nothing listens there: the password is resolved before anything is contacted.
    (profiles / "prod.yaml").write_text("url: http://127.0.0.1:9\nusername: agent7\n"
                                        "environment: production\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from console.notebook import connect\n"
        "try:\n"
        f"    await connect('prod', profiles_dir={str(profiles)!r})\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n")]
    NotebookClient(nb, kernel_name=kernel, timeout=120, startup_timeout=180,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    said = _texts(nb.cells[0])
    assert said.startswith("ProfileError "), said
    assert "nobody to ask" in said and "OUTBOUND_CONSOLE_PASSWORD" in said
