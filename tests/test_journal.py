"""The journal: one flushed JSON line per entry, secrets never written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from console.journal import Journal, redact


def test_lines_are_json_and_flushed_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path=path)
    journal.write("request", body={"phoneNumber": "5551234"})
    # Readable before close: flushed per line.
    [line] = path.read_text().splitlines()
    entry = json.loads(line)
    assert entry["kind"] == "request" and entry["body"]["phoneNumber"] == "5551234"
    journal.write("verdict", state="acknowledged")
    journal.close()
    assert len(path.read_text().splitlines()) == 2


def test_kill_9_loses_nothing_already_written(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from console.journal import Journal\n"
        f"j = Journal(path=Path({str(path)!r}))\n"
        "for n in range(50):\n"
        "    j.write('event', n=n)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    assert proc.returncode == -9
    lines = path.read_text().splitlines()
    assert [json.loads(line)["n"] for line in lines] == list(range(50))


def test_credentials_are_redacted_at_any_depth(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    journal = Journal(path=path, secrets=("hunter2",))
    journal.write("request", headers={"Authorization": "Basic abc", "Cookie": "JSESSIONID=x"},
                  nested=[{"password": "hunter2"}], note="the password hunter2 leaked here")
    journal.close()
    text = path.read_text()
    assert "hunter2" not in text and "Basic abc" not in text and "JSESSIONID=x" not in text
    assert text.count("[redacted]") == 4


def test_redact_leaves_other_values() -> None:
    assert redact({"a": 1, "list": [{"token": "t", "b": 2}]}) == {
        "a": 1, "list": [{"token": "[redacted]", "b": 2}]}


def test_one_file_per_day_in_the_directory(tmp_path: Path) -> None:
    journal = Journal(directory=tmp_path / "journal")
    journal.write("session")
    journal.close()
    [path] = list((tmp_path / "journal").glob("*.jsonl"))
    assert path.stem.count("-") == 2  # YYYY-MM-DD


def test_event_lines_share_the_encoded_data_and_still_redact(tmp_path: Path) -> None:
    from console.events import Event

    path = tmp_path / "e.jsonl"
    journal = Journal(path=path)
    plain = Event("/v2/me/outbound", {"referenceId": "r", "n": "Grüße"}, 1.0, seq=1)
    leaky = Event("/me/internal", {"userData": {"GSW_PASSWORD": "hunter2", "x": 1}}, 2.0, seq=2)
    journal.write_event(plain, "r")
    journal.write_event(leaky, None)
    journal.close()
    first, second = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    assert first["kind"] == "event" and first["data"] == plain.data and first["matched"] == "r"
    assert second["data"]["userData"] == {"GSW_PASSWORD": "[redacted]", "x": 1}
    assert "hunter2" not in path.read_text()
    assert json.loads(plain.json_line())["data"] == plain.data


def test_every_line_names_its_target(tmp_path: Path) -> None:
    from console.events import Event

    path = tmp_path / "t.jsonl"
    target = {"profile": "eu-prod", "url": "https://gws.eu:8090", "user": "agent",
              "simulator": False, "environment": "production"}
    journal = Journal(path=path, target=target)
    journal.write("request", body={"phoneNumber": "5551234"})
    journal.write_event(Event("/v2/me/outbound", {"referenceId": "r1"}, 1.0, 1), "r1")
    journal.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [entry["target"] for entry in lines] == [target, target]
