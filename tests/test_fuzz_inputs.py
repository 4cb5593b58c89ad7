"""Fuzzed templates and rows files (seeded, reproducible): never a crash, always a named problem."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from console.domain.rows import RowsError, read_rows
from console.domain.templates import Template, TemplateError, load_template
from console.errors import RecordInvalid
from console.example_templates import DIR as EXAMPLES

BASE = EXAMPLES / "Campaign1" / "CallingList1" / "callback-mobile.yaml"
FRAGMENTS = [
    "!!python/object/apply:os.system ['true']", "!!binary aGk=", "!!set {a, b}", "[1, {2: 3}]",
    "~", ".inf", "2001-12-14", "0x1F", "&a [*a]", "{", "}", "'", '"', "|", ">", "- x", "? k",
    "\t", "\x00", "é", "日本", "${", "${}", "${env:}", "${ phone }", "x" * 3000, "-1", "1e9",
    "true", "null", "8:30", "99:99", "%YAML 1.2", "---", "...", "!custom x", ": :", "#", "@",
    # values the safe constructor itself fails on (Python errors, not YAML ones)
    "2001-02-30", "2001-12-14 25:00:00", "!!int x", "!!float x", "!!bool maybe", "!!timestamp x",
    "9" * 5000, ".nan", "-.inf", "\ud800", "[" * 3000, "{a: " * 50, "- " * 40,
]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        if op == 0 and text:
            start = rng.randrange(len(text))
            text = text[:start] + text[start + rng.randint(1, 20):]
        elif op == 1:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(FRAGMENTS) + text[at:]
        elif op == 2 and lines:
            i = rng.randrange(len(lines))
            key = lines[i].split(":")[0]
            lines[i] = f"{key}: {rng.choice(FRAGMENTS)}"
            text = "\n".join(lines)
        elif op == 3 and len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif op == 4 and lines:
            i = rng.randrange(len(lines))
            lines[i] = " " * rng.randint(0, 5) + lines[i].lstrip()
            text = "\n".join(lines)
        elif op == 5:
            text = text[: rng.randrange(len(text) + 1)]
        else:
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines or [""]))
            text = "\n".join(lines)
        lines = text.splitlines()
    return text


@pytest.mark.parametrize("seed", range(16))
def test_fuzzed_templates_never_crash(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    base = BASE.read_text(encoding="utf-8")
    outcomes = {"ok": 0, "error": 0}
    for n in range(80):
        path = tmp_path / f"fuzz-{seed}-{n}.yaml"
        path.write_text(mutate(base, rng), encoding="utf-8", errors="surrogatepass")
        try:
            template = load_template(path)
        except TemplateError as exc:
            outcomes["error"] += 1
            assert path.name in str(exc), str(exc)  # the problem names the file
            continue
        outcomes["ok"] += 1
        assert isinstance(template, Template)
        try:
            template.build({"phone": "5551234"}, device_path="/devices/d")
        except (TemplateError, RecordInvalid) as exc:
            assert path.name in str(exc), str(exc)
    assert outcomes["error"] > 0  # the fuzzing does reach the error paths


ROWS = "phone,customer,amount\n5551234,C-1,12.50\n5559876,\"Doe, J\",7\n"
YAML_ROWS = "- phone: '5551234'\n  customer: C-1\n- phone: '5559876'\n  customer: C-2\n"


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", ["csv", "yaml"])
def test_fuzzed_rows_never_crash(tmp_path: Path, seed: int, kind: str) -> None:
    rng = random.Random(seed * 31 + len(kind))
    base = ROWS if kind == "csv" else YAML_ROWS
    for n in range(80):
        path = tmp_path / f"rows-{seed}-{n}.{kind}"
        path.write_text(mutate(base, rng), encoding="utf-8", errors="surrogatepass")
        try:
            rows = read_rows(path)
        except RowsError as exc:
            assert path.name in str(exc)
            continue
        assert all(isinstance(r, dict) for r in rows)


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    bomb = BASE.read_text().replace(
        "  otherFields:\n",
        "  otherFields:\n    a: &a ['x','x','x','x','x','x','x','x','x']\n"
        "    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n    e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n")
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)
    with pytest.raises(TemplateError, match="anchors and aliases"):
        load_template(path)


@pytest.mark.parametrize(("text", "words"), [
    ("phone,phone\n1,2\n", "appears twice"),
    ("phone,customer\n1\n", ":2: 1 values for 2 columns"),
    ("", "first line must name the columns"),
    ("a,,b\n1,2,3\n", "column 2 has no name"),
])
def test_bad_csv_rows_say_where(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(RowsError, match=words):
        read_rows(path)


def test_rows_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("\ufeffphone,name\n555,Zoë\n\n556,\"A, B\"\n".encode("utf-8"))
    rows = read_rows(path)
    assert [dict(r) for r in rows] == [{"phone": "555", "name": "Zoë"},
                                        {"phone": "556", "name": "A, B"}]
    assert [r.line for r in rows] == [2, 4]
