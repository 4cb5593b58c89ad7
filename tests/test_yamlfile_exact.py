"""console/domain/yamlfile.py to the letter: the limits at their exact edge (20 levels pass, 21
do not; MAX_FILE_BYTES passes, one byte more does not), the file:line:column of every error,
the wording that tells the fix, and the values `scalar_value` gives. Written from the
survivors of `tools/mutate.py console/domain/yamlfile.py` (README "Testing")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from console.domain import yamlfile
from console.domain.yamlfile import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    YamlError,
    check_size,
    line_of,
    load_yaml_mapping,
    parse_yaml,
    read_utf8,
    scalar_value,
    yaml_events,
)

P = Path("f.yaml")


def _nested_flow(levels: int) -> str:
    """`levels` mappings inside each other, in flow style on one line."""
    return "{a: " * levels + "1" + "}" * levels


def _nested_block(levels: int) -> str:
    """`levels` block mappings inside each other, one per line (the deepest on the last)."""
    return "".join("  " * i + "k:\n" for i in range(levels - 1)) + "  " * (levels - 1) + "k: 1\n"


def _error(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(YamlError) as info:
        call(*args, **kwargs)
    return str(info.value)


def test_the_limits_are_what_the_readme_says() -> None:
    assert MAX_DEPTH == 20
    assert MAX_FILE_BYTES == 1_048_576


@pytest.mark.parametrize("text", [_nested_flow, _nested_block])
def test_twenty_levels_parse_and_twenty_one_are_refused_at_the_deepest(text: Any) -> None:
    data, _ = parse_yaml(text(MAX_DEPTH), P)
    for _ in range(MAX_DEPTH):
        data = data.get("a", data.get("k"))
    assert data == 1
    message = _error(parse_yaml, text(MAX_DEPTH + 1), P)
    assert "nested too deeply (at most 20 levels of mappings and lists): flatten it" in message
    if text is _nested_block:  # the 21st mapping starts on line 21, column 41
        assert message.startswith("f.yaml:21:41: ")
    else:
        assert message.startswith("f.yaml:1:81: ")


def test_lists_count_as_levels_like_mappings() -> None:
    assert parse_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, P)[0] is not None
    assert "nested too deeply" in _error(parse_yaml, "[" * 21 + "]" * 21, P)


def test_keys_are_levels_too() -> None:
    """A mapping used as a key counts where it stands (`? {..}: v`)."""
    deep_key = "? " + _nested_flow(MAX_DEPTH) + "\n: v\n"
    assert "nested too deeply" in _error(parse_yaml, deep_key, P)
    ok_key = "? " + _nested_flow(MAX_DEPTH - 1) + "\n: v\n"
    with pytest.raises(YamlError, match="unhashable|cannot|found"):
        parse_yaml(ok_key, P)  # depth passes; the base loader then refuses the dict key


@pytest.mark.parametrize("levels, refused", [(MAX_DEPTH, False), (MAX_DEPTH + 1, True)])
def test_events_count_levels_like_the_tree(levels: int, refused: bool) -> None:
    text = _nested_block(levels)
    if refused:
        message = _error(lambda: list(yaml_events(text, P)))
        assert message.startswith("f.yaml:21:41: nested too deeply")
    else:
        events = list(yaml_events(text, P))
        starts = sum(isinstance(e, yaml.MappingStartEvent) for e in events)
        assert starts == levels


def test_events_count_down_when_a_collection_ends() -> None:
    """Twenty-five sibling mappings one level deep are not 25 levels."""
    text = "".join(f"m{i}: {{a: 1}}\n" for i in range(MAX_DEPTH + 5))
    assert sum(isinstance(e, yaml.MappingStartEvent) for e in yaml_events(text, P)) == 26


def test_aliases_refused_when_asked_with_the_place_of_the_second_use() -> None:
    text = "base: &b {x: 1}\none: *b\ntwo: *b\n"
    assert parse_yaml(text, P)[0]["two"] == {"x": 1}  # allowed by default
    message = _error(parse_yaml, text, P, forbid_aliases=True)
    assert message.startswith("f.yaml:1:")  # the node's own start: where it was defined
    assert "anchors and aliases (&name, *name) are not allowed here; write the value out" \
        in message


def test_events_refuse_an_anchor_and_an_alias() -> None:
    assert _error(lambda: list(yaml_events("a: &x 1\n", P))).startswith("f.yaml:1:4: anchors")
    assert _error(lambda: list(yaml_events("- *x\n", P))).startswith("f.yaml:1:3: ")


def test_a_merge_key_is_not_a_duplicate() -> None:
    text = "base: &b {x: 1}\nuse:\n  <<: *b\n  <<: *b\n  y: 2\n"
    data, _ = parse_yaml(text, P)
    assert data["use"] == {"x": 1, "y": 2}


def test_a_duplicate_key_names_both_lines_and_the_fix() -> None:
    message = _error(parse_yaml, "a: 1\nb: 2\na: 3\n", P)
    assert message == "f.yaml:3:1: duplicate key 'a' (first on line 1): keep one of the two lines"


def test_a_duplicate_inside_a_flow_mapping_is_refused_too() -> None:
    assert "duplicate key 'k'" in _error(parse_yaml, "x: {k: 1, k: 2}\n", P)


def test_an_unhashable_key_is_the_base_loaders_error_with_its_mark() -> None:
    message = _error(parse_yaml, "? [1, 2]\n: v\n", P)
    assert message.startswith("f.yaml:1:3: ") and "unhashable" in message


def test_a_python_tag_is_refused_with_the_fix() -> None:
    message = _error(parse_yaml, "a: !!python/object:os.system x\n", P)
    assert message.startswith("f.yaml:1:4: ")
    assert message.endswith("tags such as !!python/object are not allowed; remove the tag and "
                            "write the plain value")


def test_an_unreadable_value_names_its_line_and_column() -> None:
    message = _error(parse_yaml, "a: 1\nwhen: 2001-02-30\n", P)
    assert message == ("f.yaml:2:7: YAML cannot read this value (day is out of range for "
                       "month); put it in quotes if it is text")


def test_syntax_errors_say_where() -> None:
    message = _error(parse_yaml, "a: [1, 2\nb: 3\n", P)
    assert message.startswith("f.yaml:") and message.count(":") >= 3
    assert _error(parse_yaml, "a: b: c\n", P).startswith("f.yaml:1:5: ")


def test_an_empty_document_is_none_and_an_empty_mapping_file_is_empty(tmp_path: Path) -> None:
    assert parse_yaml("", P) == (None, None)
    empty = tmp_path / "e.yaml"
    empty.write_text("# nothing\n")
    assert load_yaml_mapping(empty) == ({}, {})


def test_load_yaml_mapping_gives_each_key_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("# head\nurl: x\n\nusername: u\n5: five\n")
    data, lines = load_yaml_mapping(path)
    assert data == {"url": "x", "username": "u", 5: "five"}
    assert lines == {"url": 2, "username": 4, "5": 5}


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "[1]\n"])
def test_load_yaml_mapping_refuses_a_top_level_that_is_not_a_mapping(tmp_path: Path,
                                                                     text: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    assert _error(load_yaml_mapping, path) == \
        f"{path}:1:1: expected a mapping of key: value at the top level"


def test_size_at_the_limit_is_read_and_one_byte_more_is_not(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(b"a" * 10)
    assert read_utf8(path, limit=10) == "a" * 10
    check_size(path, 10, "x")
    path.write_bytes(b"a" * 11)
    assert _error(read_utf8, path, limit=10, what="a thing") == (
        f"{path}: 0.0 MB is too big for a thing (at most 9.53674e-06 MB): is it the right "
        "file?")
    assert "too big" in _error(check_size, path, 10, "x")


def test_the_size_message_is_in_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    assert _error(read_utf8, path) == (
        f"{path}: 1.0 MB is too big for a template, profile or fault file (at most 1 MB): "
        "is it the right file?")
    path.write_bytes(b"#" * (3 * MAX_FILE_BYTES))
    assert "3.0 MB is too big" in _error(read_utf8, path)


def test_a_file_that_grew_after_stat_is_still_cut_at_the_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "grow.yaml"
    path.write_bytes(b"a" * 20)
    monkeypatch.setattr(yamlfile, "check_size", lambda *a: None)  # stat() saw it small
    message = _error(read_utf8, path, limit=10, what="x")
    assert message.startswith(f"{path}: 0.0 MB is too big for x")


def test_a_missing_file_says_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert _error(read_utf8, path) == f"{path}: cannot read: No such file or directory"


def test_not_utf8_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"a: 1\nb: 2\nc: caf\xe9\n")
    assert _error(read_utf8, path) == f"{path}:3:1: not UTF-8 text; save the file as UTF-8"


def test_line_of_is_one_based() -> None:
    events = list(yaml_events("a: 1\nb: 2\n", P))
    scalars = [e for e in events if isinstance(e, yaml.ScalarEvent)]
    assert [line_of(e) for e in scalars] == [1, 1, 2, 2]
    bare = yaml.ScalarEvent(None, None, (True, False), "x")
    assert line_of(bare) == 1


@pytest.mark.parametrize("text, value", [
    ("8", 8), ("'8'", "8"), ("~", None), ("true", True), ("1.5", 1.5), ("text", "text"),
    ("!!str 8", "8"), ("!!int '9'", 9), ("2001-02-03", __import__("datetime").date(2001, 2, 3)),
])
def test_scalar_value_is_what_safe_load_gives(text: str, value: Any) -> None:
    event = next(e for e in yaml_events(f"- {text}\n", P) if isinstance(e, yaml.ScalarEvent))
    assert scalar_value(event, P) == value == yaml.safe_load(f"- {text}\n")[0]


def test_scalar_value_refuses_what_it_cannot_read_with_the_place() -> None:
    event = next(e for e in yaml_events("- x\n- 2001-02-30\n", P)
                 if isinstance(e, yaml.ScalarEvent) and e.value.startswith("2001"))
    assert _error(scalar_value, event, P).startswith("f.yaml:2:3: YAML cannot read this value")
    tagged = next(e for e in yaml_events("- !!python/name:os.system x\n", P)
                  if isinstance(e, yaml.ScalarEvent))
    assert "tags such as !!python/object are not allowed" in _error(scalar_value, tagged, P)


def test_a_closed_sibling_does_not_lower_the_count_of_a_deep_branch_after_it() -> None:
    """The depth goes down by one per collection that ends, not more: a deep branch after a
    closed sibling is still counted from the top."""
    deep = "deep:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(MAX_DEPTH - 1)) \
        + "  " * MAX_DEPTH + "k: 1\n"  # the top mapping + 20 below it: 21 levels
    text = "sibling: {a: {b: 1}}\n" + deep
    assert "nested too deeply" in _error(lambda: list(yaml_events(text, P)))
    assert "nested too deeply" in _error(parse_yaml, text, P)
