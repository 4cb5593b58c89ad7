"""Rows files for replay: CSV with a header, or a YAML list of mappings. One row = one record's
placeholder values. Errors name the file and line.

Bounded (also in the README): at most `MAX_ROWS` rows and `MAX_ROWS_BYTES` bytes per file,
refused before anything is sent; YAML rows are read event by event (a node tree of 200,000
rows took 860 MB), keys given twice in a row are refused like everywhere else.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from console.domain.yamlfile import (
    YamlError,
    check_size,
    line_of,
    scalar_value,
    yaml_events,
)
from console.errors import ConsoleError

__all__ = ["Row", "RowsError", "read_rows", "write_rows", "MAX_ROWS", "MAX_ROWS_BYTES"]

#: Rows in one file: every record is planned and checked before the first is sent, and a
#: planned record costs a few KB. Split a bigger file and replay the parts one after another.
MAX_ROWS = 100_000
#: Bytes in one rows file (100,000 rows of a few columns take 3 to 10 MB).
MAX_ROWS_BYTES = 32 * 1024 * 1024


class RowsError(ConsoleError):
    """A rows file that cannot be used."""


class Row(dict[str, Any]):
    """One row's values, remembering where it came from."""

    __slots__ = ("line", "path", "header_line")  # no per-row __dict__: 100,000 of them
    line: int
    """1-based line of the file the row starts on (0: not from a file)."""
    path: Path | None
    """The rows file (None: not from a file)."""
    header_line: int
    """The line naming its columns (1 for CSV), or 0 when each row names its own (YAML)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.path = None
        self.header_line = 0


def read_rows(path: Path) -> list[Row]:
    """Every row of a CSV or YAML rows file; RowsError naming file:line otherwise."""
    try:
        check_size(path, MAX_ROWS_BYTES, "a rows file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_ROWS_BYTES + 1)
    except YamlError as exc:
        raise RowsError(f"{exc}; split it and replay the parts one after another") from None
    except OSError as exc:
        raise RowsError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_ROWS_BYTES:
        raise RowsError(f"{path}: too big for a rows file (at most "
                        f"{MAX_ROWS_BYTES // 1048576} MB); split it")
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
            if len(rows) == MAX_ROWS:
                raise _too_many(path, line)
            row = Row(zip(names, values, strict=True))
            row.line = line
            row.path = path
            row.header_line = 1
            rows.append(row)
    except csv.Error as exc:
        raise RowsError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    return rows


def _too_many(path: Path, line: int) -> RowsError:
    return RowsError(f"{path}:{line}: more than {MAX_ROWS:,} rows in one file: split it and "
                     "replay the parts one after another")


_SHAPE = "a YAML rows file is a list of mappings (- phone: 5551234)"


def _yaml_rows(path: Path, text: str) -> list[Row]:
    """Rows from the parser's events: a list of flat mappings, never a whole node tree."""
    rows: list[Row] = []
    events = yaml_events(text, path)
    try:
        for event in events:
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentStartEvent)):
                continue
            if isinstance(event, yaml.StreamEndEvent) or (
                    isinstance(event, yaml.ScalarEvent) and scalar_value(event, path) is None):
                return []  # an empty file, or `~`
            if not isinstance(event, yaml.SequenceStartEvent):
                raise RowsError(f"{path}:{line_of(event)}: {_SHAPE}")
            break
        else:
            return []
        for event in events:
            if isinstance(event, yaml.SequenceEndEvent):
                break
            line = line_of(event)
            if not isinstance(event, yaml.MappingStartEvent):
                raise RowsError(f"{path}:{line}: each row must be a mapping of column: value")
            if len(rows) == MAX_ROWS:
                raise _too_many(path, line)
            rows.append(_yaml_row(path, line, events))
        for event in events:  # the rest: document end, or a second document
            if isinstance(event, yaml.DocumentStartEvent):
                raise RowsError(f"{path}:{line_of(event)}: one list of rows per "
                                "file (remove the second ---)")
    except YamlError as exc:
        raise RowsError(str(exc)) from None
    return rows


def _yaml_row(path: Path, line: int, events: Iterator[yaml.Event]) -> Row:
    """One row, after its MappingStartEvent: scalar keys and scalar values."""
    row = Row()
    row.line = line
    row.path = path
    key_lines: dict[str, int] = {}
    for event in events:
        if isinstance(event, yaml.MappingEndEvent):
            return row
        key_line = line_of(event)
        if not isinstance(event, yaml.ScalarEvent):
            raise RowsError(f"{path}:{key_line}: column names must be text")
        key = scalar_value(event, path)
        value_event = next(events)
        if not isinstance(value_event, yaml.ScalarEvent):
            raise RowsError(f"{path}:{key_line}: {key!r} must be text or a number, got a list "
                            "or mapping")
        value = scalar_value(value_event, path)
        if not isinstance(key, str) or isinstance(value, bool) or value is None:
            raise RowsError(f"{path}:{key_line}: {key!r} must be a name with a text or number "
                            f"value, got {value!r}")
        if key in key_lines:
            raise RowsError(f"{path}:{key_line}: duplicate key {key!r} (first on line "
                            f"{key_lines[key]}): keep one of the two lines")
        key_lines[key] = key_line
        row[key] = value
    raise RowsError(f"{path}:{line}: the row does not end")  # the parser says so first


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
