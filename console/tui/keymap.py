"""A user keymap: `keymap.yaml` maps binding ids to keys, e.g. `request.send: ctrl+enter,f9`."""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection
from pathlib import Path

__all__ = ["load_keymap", "keymap_path"]


def keymap_path() -> Path:
    import platformdirs

    home = os.environ.get("OUTBOUND_CONSOLE_HOME")
    if home:
        return Path(home) / "keymap.yaml"
    return Path(platformdirs.user_config_dir("outbound-console")) / "keymap.yaml"


def load_keymap(path: Path | None = None,
                known: Collection[str] = ()) -> tuple[dict[str, str], str | None]:
    """(binding id -> keys, a problem to tell the user or None). A bad file changes nothing;
    with `known` ids given, an id not among them is left out and named in the problem (a typo
    such as `request.sned` must not be ignored in silence). Read like every YAML file of ours
    (console/domain/yamlfile.py): a key given twice, deep nesting or a huge file is refused, and
    every problem names the file and line."""
    from console.domain.yamlfile import YamlError, load_yaml_mapping

    path = path or keymap_path()
    if not path.is_file():
        return {}, None
    try:
        data, lines = load_yaml_mapping(path)
    except YamlError as exc:
        return {}, f"{exc}; keymap ignored"
    problems: list[str] = []
    kept: dict[str, str] = {}
    for key, value in data.items():
        where = f"{path}:{lines.get(key, 1)}"
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(f"{where}: {key!r}: {value!r} is not a binding id and its keys as "
                            "text (e.g. request.send: f9; quote a key such as '9')")
        elif known and key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            problems.append(f"{where}: unknown binding id {key!r}"
                            + (f" (did you mean {close[0]}?)" if close else "")
                            + "; the ids are in the command palette (ctrl+p) and the README")
        elif bad := [k for k in value.split(",") if not _is_key(k.strip())]:
            # Taken as they are, they bind nothing: the action would lose its key unseen.
            problems.append(f"{where}: {key}: {', '.join(repr(k.strip()) for k in bad)} is "
                            "no key (e.g. f9, ctrl+r, shift+tab, enter, a)")
        else:
            kept[key] = value
    if not problems:
        return kept, None
    return kept, "; ".join(problems) + ": not applied (the other lines are)"


_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


def _is_key(key: str) -> bool:
    """A key as Textual names it: modifiers joined by `+` to one key (a character, a named key
    such as f9 or pageup, or a character's name such as question_mark)."""
    import unicodedata

    from textual.keys import KEY_NAME_REPLACEMENTS, Keys

    *mods, base = key.split("+")
    if not base or any(m not in _MODIFIERS for m in mods):
        return False
    if len(base) == 1 and base.isprintable() and not base.isspace():
        return True
    if base in {k.value for k in Keys} or base in KEY_NAME_REPLACEMENTS.values():
        return True
    try:
        unicodedata.lookup(base.replace("_", " ").upper())
    except KeyError:
        return False
    return True
