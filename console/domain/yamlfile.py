"""Reading YAML files safely, with line numbers for every key (for errors that point at it).

Every file goes through `yaml.SafeLoader`'s constructor (libyaml's parser when PyYAML has it),
with YAML 1.1's guesses narrowed (also in the README): an unquoted value is a number only when
the number writes back as the text typed (`134`, `-3`, `12.5`; not `0134`, `+1555`, `0x86`,
`1:2:3`, `1_000`, `12.50`, which stay that text), and true/false only when spelled `true` or
`false` (`yes`, `no`, `on`, `off`, a country code `NO` stay text). Stricter in three ways
(also in the README): a key given twice in one mapping is refused,
naming both lines (YAML would keep the last one silently); nesting deeper than `MAX_DEPTH` is
refused (nothing we read needs more, and deep nesting is how a file makes a parser recurse);
a file larger than its limit is refused before it is read (`MAX_FILE_BYTES` for templates,
profiles and fault files; rows files have their own, see `console.domain.rows`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

__all__ = ["YamlError", "load_yaml_mapping", "parse_yaml", "read_utf8", "yaml_events",
           "scalar_value", "plain_tag", "line_of", "check_size", "MAX_FILE_BYTES", "MAX_DEPTH"]

#: Templates, profiles and fault files are a few hundred bytes; a page of description fits.
MAX_FILE_BYTES = 1024 * 1024
#: Levels of mappings/lists; a template needs 3 (request -> otherFields -> value).
MAX_DEPTH = 20
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_DECIMAL = re.compile(r"0|-?[1-9][0-9]*")  # an int that str() writes back as typed
_BOOLS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
_SPECIAL_FLOATS = frozenset({".inf", ".nan"})
_DEEP = f"nested too deeply (at most {MAX_DEPTH} levels of mappings and lists): flatten it"
# libyaml's parser when present: the pure-Python one takes ~100x longer on big files.
if TYPE_CHECKING:
    _Base = yaml.SafeLoader
else:
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """A YAML file that cannot be used; the message starts with file:line:column."""


def plain_tag(tag: str, value: str) -> str:
    """The tag YAML 1.1 resolved for the unquoted, untagged scalar `value`, narrowed: a number
    only when it writes back as `value` (a phone number `0005551234` would lose its zeros,
    `0x86` become 134, `1:2:3` become 3723), a boolean only when spelled true or false (`NO`,
    Norway, would become False). Anything else stays the text typed, never a silent change.
    `.inf` / `.nan` stay numbers: they are YAML's own spelling, refused wherever a finite
    number is needed."""
    if tag == _INT:
        return tag if _DECIMAL.fullmatch(value) else _STR
    if tag == _FLOAT:
        if value.lower().lstrip("+-") in _SPECIAL_FLOATS:
            return tag
        try:
            same = repr(float(value)) == value  # 12.5 -> 12.5; 12.50, 1.0e3, 1_0.5 do not
        except ValueError:
            same = False
        return tag if same else _STR
    if tag == _BOOL:
        return tag if value in _BOOLS else _STR
    return tag


class _StrictLoader(_Base):
    """`SafeLoader` that refuses a key given twice in one mapping, keeps numbers and booleans
    that would not write back as typed as text (`plain_tag`), and remembers the node it is
    building (for the line of a value its constructor cannot read)."""

    last_node: yaml.Node | None = None

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        base: Callable[[Any, Any, Any], str] = super().resolve  # untyped in the stubs
        tag = base(kind, value, implicit)
        if kind is yaml.ScalarNode and implicit[0]:  # plain, no tag given
            return plain_tag(tag, value)
        return tag

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        self.last_node = node
        return super().construct_object(node, deep)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue  # `<<: *base` merges on purpose; aliases are refused elsewhere
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = first.setdefault(key, key_node)
                except TypeError:
                    continue  # unhashable: the base class says so with its mark
                if seen is not key_node:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first on line "
                        f"{seen.start_mark.line + 1}): keep one of the two lines",
                        key_node.start_mark)
        result: dict[Any, Any] = super().construct_mapping(node, deep)
        return result


def size_error(path: Path, size: int, limit: int, what: str) -> YamlError:
    return YamlError(f"{path}: {size / 1048576:.1f} MB is too big for {what} (at most "
                     f"{limit / 1048576:g} MB): is it the right file?")


def check_size(path: Path, limit: int, what: str) -> None:
    """YamlError before reading when `path` is larger than `limit` bytes."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise YamlError(f"{path}: cannot read: {exc.strerror}") from None
    if size > limit:
        raise size_error(path, size, limit, what)


def read_utf8(path: Path, limit: int = MAX_FILE_BYTES,
              what: str = "a template, profile or fault file") -> str:
    """The file's text; YamlError (file and fix) when it cannot be read, is larger than
    `limit` bytes or is not UTF-8."""
    check_size(path, limit, what)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise YamlError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > limit:
        raise size_error(path, len(raw), limit, what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise YamlError(f"{path}:{line}:1: not UTF-8 text; save the file as UTF-8") from None


def _error(exc: yaml.YAMLError, path: Path) -> YamlError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(exc):
            problem = (f"{problem}: tags such as !!python/object are not allowed; remove the "
                       "tag and write the plain value")
        elif "maximum nesting depth" in str(exc) or "nesting depth" in problem:
            problem = _DEEP
        return YamlError(f"{where}: {problem}")
    return YamlError(f"{path}: invalid YAML: {exc}")


def _unreadable(path: Path, mark: Any, exc: Exception) -> YamlError:
    """A tagged or implicit value the safe constructor fails on (`2001-02-30`, `!!int x`,
    a 5000-digit number): Python raises ValueError & co., not a YAMLError."""
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    detail = str(exc).split(";")[0] if isinstance(exc, ValueError) else "not a valid value"
    return YamlError(f"{where}: YAML cannot read this value ({detail}); put it in quotes if "
                     "it is text")


def _too_deep(path: Path, mark: Any) -> YamlError:
    return YamlError(f"{path}:{mark.line + 1}:{mark.column + 1}: {_DEEP}")


def _aliases(path: Path, mark: Any) -> YamlError:
    # A person never needs them in our files; nested aliases blow up in size.
    return YamlError(f"{path}:{mark.line + 1}:{mark.column + 1}: anchors and aliases (&name, "
                     "*name) are not allowed here; write the value out")


def _check_tree(root: yaml.Node, path: Path, forbid_aliases: bool) -> None:
    """Depth and aliases, walking the node tree without recursion (each node once: an
    alias is a node reached a second time)."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            if forbid_aliases:
                raise _aliases(path, node.start_mark)
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            continue
        if depth >= MAX_DEPTH:
            raise _too_deep(path, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)


def parse_yaml(text: str, path: Path, forbid_aliases: bool = False) -> tuple[Any, yaml.Node | None]:
    """The data (`SafeLoader`'s constructor, duplicate keys refused) and its node tree (for
    line numbers), from one parse; every problem a YamlError starting with file:line:column."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_tree(node, path, forbid_aliases)
        try:
            return loader.construct_document(node), node
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            last = loader.last_node
            raise _unreadable(path, last.start_mark if last else None, exc) from None
    except yaml.YAMLError as exc:
        raise _error(exc, path) from None
    except RecursionError:  # the pure-Python parser, when libyaml is missing
        raise YamlError(f"{path}: {_DEEP}") from None
    finally:
        loader.dispose()


def yaml_events(text: str, path: Path) -> Iterator[yaml.Event]:
    """The parser's events one by one (for files too big to hold as a node tree), with
    aliases and anchors refused and errors as YamlError with file:line:column."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Base):
            if isinstance(event, yaml.AliasEvent) or (
                    isinstance(event, yaml.NodeEvent) and event.anchor is not None):
                raise _aliases(path, event.start_mark)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(path, event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            yield event
    except yaml.YAMLError as exc:
        raise _error(exc, path) from None
    except RecursionError:
        raise YamlError(f"{path}: {_DEEP}") from None


def line_of(event: yaml.Event) -> int:
    """The 1-based line an event starts on."""
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 1


_SCALARS = yaml.SafeLoader("")
_resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = _SCALARS.resolve


def scalar_value(event: yaml.ScalarEvent, path: Path) -> Any:
    """The value `safe_load` gives a scalar event (`8` an int, `'8'` text, `~` None)."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = _resolve(yaml.ScalarNode, event.value, event.implicit)
        if event.implicit[0]:
            tag = plain_tag(tag, event.value)
    if tag == _STR:
        return event.value  # most values: no node, no constructor
    start: Any = event.start_mark
    node = yaml.ScalarNode(tag, event.value, start, start, event.style)
    try:
        return _SCALARS.construct_document(node)
    except yaml.YAMLError as exc:
        raise _error(exc, path) from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise _unreadable(path, start, exc) from None


def load_yaml_mapping(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The top-level mapping (via `yaml.safe_load`) and the 1-based line of each key."""
    data, node = parse_yaml(read_utf8(path), path)
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise YamlError(f"{path}:1:1: expected a mapping of key: value at the top level")
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value
             if isinstance(k, yaml.ScalarNode)}
    return data, lines
