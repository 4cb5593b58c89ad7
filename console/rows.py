"""Rows files for replay: CSV with a header, or a YAML list of mappings. One row = one record's
placeholder values. Errors name the file and line."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from console.errors import ConsoleError
from console.yamlfile import YamlError, parse_yaml

__all__ = ["Row", "RowsError", "read_rows", "write_rows"]


class RowsError(ConsoleError):
    """A rows file that cannot be used."""


class Row(dict[str, Any]):
    """One row's values, remembering where it came from."""

    line: int = 0
    """Its line in the file (1-based)."""
    path: Path | None = None
    """The rows file."""
    header_line: int = 0
    """The line naming its columns (1 for CSV), or 0 when each row names its own (YAML)."""


def read_rows(path: Path) -> list[Row]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RowsError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise RowsError(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_rows(path, text)
    return _csv_rows(path, text)


def _csv_rows(path: Path, text: str) -> list[Row]:
    if "\x00" in text:
        raise RowsError(f"{path}: contains NUL bytes; is it really a CSV file?")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise RowsError(f"{path}:1: the first line must name the columns (e.g. phone,customer)")
        names = [h.strip() for h in header]
        if any(not n for n in names):
            raise RowsError(f"{path}:1: column {names.index('') + 1} has no name")
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise RowsError(f"{path}:1: column {dup!r} appears twice")
        rows: list[Row] = []
        for values in reader:
            line = reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(names):
                raise RowsError(f"{path}:{line}: {len(values)} values for {len(names)} columns "
                                f"({', '.join(names)}); quote values that contain commas")
            row = Row(zip(names, values, strict=True))
            row.line = line
            row.path = path
            row.header_line = 1
            rows.append(row)
    except csv.Error as exc:
        raise RowsError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    return rows


def _yaml_rows(path: Path, text: str) -> list[Row]:
    try:
        data, node = parse_yaml(text, path, forbid_aliases=True)
    except YamlError as exc:
        raise RowsError(str(exc)) from None
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise RowsError(f"{path}:1: a YAML rows file is a list of mappings (- phone: 5551234)")
    rows: list[Row] = []
    for item, item_node in zip(data, node.value, strict=True):
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            raise RowsError(f"{path}:{line}: each row must be a mapping of column: value")
        for key, value in item.items():
            if not isinstance(key, str) or isinstance(value, (dict, list, bool)) or value is None:
                raise RowsError(f"{path}:{line}: {key!r} must be a name with a text or number "
                                f"value, got {value!r}")
        row = Row(item)
        row.line = line
        row.path = path
        rows.append(row)
    return rows


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """A CSV rows file that `replay --rows` reads back (columns: union, in first-seen order),
    written to a temporary file then renamed: never half a file."""
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in columns})
    tmp.replace(path)
