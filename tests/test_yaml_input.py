"""Every YAML file the console reads (templates, profiles, rows, simulator fault files): a key
given twice, deep nesting and oversized files are refused with file:line and the fix, never a
traceback or a silent last-wins."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from console.domain.rows import MAX_ROWS, RowsError, read_rows
from console.domain.templates import TemplateError, load_template
from console.domain.yamlfile import MAX_DEPTH, MAX_FILE_BYTES
from console.errors import ProfileError
from console.profiles import read_profile
from console.sim.faults import FaultError
from console.sim.server import load_fault_file

TEMPLATE = """schema: 1
name: cb
request:
  applicationId: 134
  campaignName: Campaign1
  callingList: CallingList1
  phoneNumber: ${phone}
  timeZone: GMT
  phoneType: Mobile
  from: "08:00"
  until: "20:00"
  otherFields:
    Ticket: T-1
"""
PROFILE = "url: https://gws.example:8090\nusername: agent\ntls:\n  verify: true\n"
FAULTS = "faults:\n  ack_drop: 0.1\n"
ROWS = "- phone: '5551234'\n  ticket: A\n"


def _template(path: Path) -> object:
    return load_template(path)


def _profile(path: Path) -> object:
    return read_profile(path)


def _faults(path: Path) -> object:
    return load_fault_file(path)


def _rows(path: Path) -> object:
    return read_rows(path)


READERS: dict[str, tuple[str, Callable[[Path], object], type[Exception]]] = {
    "template": (TEMPLATE, _template, TemplateError),
    "profile": (PROFILE, _profile, ProfileError),
    "faults": (FAULTS, _faults, FaultError),
    "rows": (ROWS, _rows, RowsError),
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_the_base_files_load(tmp_path: Path, kind: str) -> None:
    text, read, _ = READERS[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text)
    assert read(path)


@pytest.mark.parametrize(("kind", "old", "new", "lines"), [
    ("template", "  phoneNumber: ${phone}\n", "  phoneNumber: ${phone}\n  phoneNumber: '5550000'\n",
     (7, 8)),
    ("template", "    Ticket: T-1\n", "    Ticket: T-1\n    Ticket: T-2\n", (13, 14)),
    ("template", "name: cb\n", "name: cb\nname: other\n", (2, 3)),
    ("profile", "  verify: true\n", "  verify: true\n  verify: false\n", (4, 5)),
    ("profile", "username: agent\n", "username: agent\nusername: root\n", (2, 3)),
    ("faults", "  ack_drop: 0.1\n", "  ack_drop: 0.1\n  ack_drop: 0.9\n", (2, 3)),
    ("rows", "  ticket: A\n", "  ticket: A\n  ticket: B\n", (2, 3)),
])
def test_a_key_given_twice_is_refused_naming_both_lines(
        tmp_path: Path, kind: str, old: str, new: str, lines: tuple[int, int]) -> None:
    text, read, error = READERS[kind]
    assert old in text
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text.replace(old, new))
    with pytest.raises(error) as info:
        read(path)
    message = str(info.value)
    first, second = lines
    assert f"{path.name}:{second}" in message, message
    assert f"first on line {first}" in message and "duplicate key" in message, message


@pytest.mark.parametrize("kind", sorted(READERS))
@pytest.mark.parametrize("style", ["flow", "block", "flow-huge"])
def test_deep_nesting_is_refused_without_a_traceback(tmp_path: Path, kind: str,
                                                     style: str) -> None:
    text, read, error = READERS[kind]
    if style == "flow":
        deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    elif style == "flow-huge":  # past Python's recursion limit and libyaml's own
        deep = "[" * 50_000 + "]" * 50_000
    else:
        deep = "\n" + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + \
            "  " * (MAX_DEPTH + 7) + "x"
    if kind == "rows":
        nested = ROWS.replace("ticket: A", "ticket: " + deep.replace("\n", "\n  "))
    elif kind == "template":
        nested = TEMPLATE.replace("Ticket: T-1", "Ticket: " + deep.replace("\n", "\n  "))
    else:
        nested = text + "deep: " + deep + "\n"
    path = tmp_path / f"{kind}.yaml"
    path.write_text(nested)
    with pytest.raises(error) as info:
        read(path)
    message = str(info.value)
    assert path.name in message
    if kind != "rows":  # a rows value must be text, which is said first
        assert "nested too deeply" in message, message


@pytest.mark.parametrize("kind", ["template", "profile", "faults"])
def test_a_file_over_the_limit_is_refused_before_it_is_parsed(tmp_path: Path, kind: str) -> None:
    text, read, error = READERS[kind]
    path = tmp_path / f"{kind}.yaml"
    # 30 MB of description: the parser took 44 s on it before the limit.
    path.write_text(text + "description: |\n" + ("  " + "x" * 78 + "\n") * 400_000)
    assert path.stat().st_size > 30 * MAX_FILE_BYTES
    with pytest.raises(error, match=r"too big .*at most 1 MB"):
        read(path)


def test_a_template_just_under_the_limit_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    body = ("  " + "x" * 78 + "\n") * ((MAX_FILE_BYTES - 2000) // 81)
    path.write_text(TEMPLATE + "description: |\n" + body)
    assert len(load_template(path).description) > MAX_FILE_BYTES // 2


def test_too_many_csv_rows_are_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("phone\n" + "5551234\n" * (MAX_ROWS + 1))
    with pytest.raises(RowsError, match=rf"big.csv:{MAX_ROWS + 2}: more than 100,000 rows"):
        read_rows(path)


def test_too_many_yaml_rows_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("console.domain.rows.MAX_ROWS", 3)
    path = tmp_path / "big.yaml"
    path.write_text("- phone: '1'\n" * 3 + "- phone: '4'\n")
    with pytest.raises(RowsError, match=r"big.yaml:4: more than 3 rows"):
        read_rows(path)
    path.write_text("- phone: '1'\n" * 3)
    assert len(read_rows(path)) == 3


def test_a_rows_file_over_the_byte_limit_is_refused(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("console.domain.rows.MAX_ROWS_BYTES", 1000)
    path = tmp_path / "big.csv"
    path.write_text("phone\n" + "5551234\n" * 200)
    with pytest.raises(RowsError, match=r"big.csv: .* too big for a rows file"):
        read_rows(path)


@pytest.mark.parametrize(("text", "rows"), [
    ("", []), ("~\n", []), ("# nothing yet\n", []),
    ("- {phone: '555', n: 7, amount: 12.5}\n- phone: 8:30\n",  # 8:30 no longer base 60 (510)
     [({"phone": "555", "n": 7, "amount": 12.5}, 1), ({"phone": "8:30"}, 2)]),
])
def test_yaml_rows_read_as_safe_load_reads_them(tmp_path: Path, text: str,
                                                 rows: list[tuple[dict[str, object], int]]) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    assert [(dict(r), r.line) for r in read_rows(path)] == rows


@pytest.mark.parametrize(("text", "words"), [
    ("phone: 1\n", "r.yaml:1: a YAML rows file is a list of mappings"),
    ("- 5551234\n", "r.yaml:1: each row must be a mapping"),
    ("- phone: [1]\n", "r.yaml:1: 'phone' must be text or a number, got a list"),
    ("- phone: ~\n", "r.yaml:1: 'phone' must be a name with a text or number value, got None"),
    ("- ? [a]\n  : 1\n", "r.yaml:1: column names must be text"),
    ("- phone: '1'\n---\n- phone: '2'\n", "r.yaml:2: one list of rows per file"),
    ("- phone: &p '1'\n- phone: *p\n", "r.yaml:1:10: anchors and aliases"),
    ("- phone: !!python/name:os.system\n", "r.yaml:1:10: could not determine a constructor"),
])
def test_bad_yaml_rows_say_where(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(RowsError) as info:
        read_rows(path)
    assert words in str(info.value)
