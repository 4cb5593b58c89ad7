"""Reading YAML files safely, with line numbers for every key (for errors that point at it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["YamlError", "load_yaml_mapping"]


class YamlError(ValueError):
    """A YAML file that cannot be used; the message starts with file:line:column."""


def load_yaml_mapping(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The top-level mapping (via `yaml.safe_load`) and the 1-based line of each key."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise YamlError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise YamlError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(exc):
            problem = f"{problem} (tags such as !!python/... are not allowed; remove the tag)"
        raise YamlError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"{path}: invalid YAML: {exc}") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise YamlError(f"{path}:1:1: expected a mapping of key: value at the top level")
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value
             if isinstance(k, yaml.ScalarNode)}
    return data, lines
