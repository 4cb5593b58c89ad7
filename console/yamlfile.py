"""Reading YAML files safely, with line numbers for every key (for errors that point at it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["YamlError", "load_yaml_mapping", "parse_yaml", "read_utf8"]


class YamlError(ValueError):
    """A YAML file that cannot be used; the message starts with file:line:column."""


def read_utf8(path: Path) -> str:
    """The file's text; YamlError (file and fix) when it cannot be read or is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise YamlError(f"{path}:1:1: not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise YamlError(f"{path}: cannot read: {exc.strerror}") from None


def parse_yaml(text: str, path: Path, forbid_aliases: bool = False) -> tuple[Any, yaml.Node | None]:
    """`yaml.safe_load` of `text` and its node tree (for line numbers); every problem a
    YamlError starting with file:line:column."""
    try:
        if forbid_aliases:
            for token in yaml.scan(text, Loader=yaml.SafeLoader):
                if isinstance(token, (yaml.AliasToken, yaml.AnchorToken)):
                    # A person never needs them in our files; nested aliases blow up in size.
                    mark = token.start_mark
                    raise YamlError(f"{path}:{mark.line + 1}:{mark.column + 1}: anchors and "
                                    "aliases (&name, *name) are not allowed here; write the "
                                    "value out")
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(exc):
            problem = (f"{problem}: tags such as !!python/object are not allowed; remove the "
                       "tag and write the plain value")
        raise YamlError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"{path}: invalid YAML: {exc}") from None


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
