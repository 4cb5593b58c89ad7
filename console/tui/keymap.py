"""A user keymap: `keymap.yaml` maps binding ids to keys, e.g. `request.send: ctrl+enter,f9`."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["load_keymap", "keymap_path"]


def keymap_path() -> Path:
    import platformdirs

    home = os.environ.get("OUTBOUND_CONSOLE_HOME")
    if home:
        return Path(home) / "keymap.yaml"
    return Path(platformdirs.user_config_dir("outbound-console")) / "keymap.yaml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """(binding id -> keys, a problem to tell the user or None). A bad file changes nothing."""
    import yaml

    path = path or keymap_path()
    if not path.is_file():
        return {}, None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return {}, f"{path}: ignored, not readable YAML ({exc})"
    if data is None:
        return {}, None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in data.items()):
        return {}, f"{path}: ignored; write binding-id: keys lines, e.g. request.send: f9"
    return data, None
