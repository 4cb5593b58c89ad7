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
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return {}, f"{path}: ignored; write binding-id: keys lines, e.g. request.send: f9"
    unknown = [key for key in data if known and key not in known]
    if not unknown:
        return data, None
    words = []
    for key in unknown:
        close = difflib.get_close_matches(key, list(known), n=1)
        words.append(f"{path}:{lines.get(key, 1)}: {key!r}"
                     + (f" (did you mean {close[0]}?)" if close else ""))
    return ({k: v for k, v in data.items() if k not in unknown},
            f"unknown binding id {'; '.join(words)}: not applied; the ids are in the "
            "command palette (ctrl+p) and the README")
