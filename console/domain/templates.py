"""YAML request templates, one per file, organised as
`templates/<campaign>/<callingList>/<name>.yaml` beside the profiles.

```yaml
schema: 1
name: callback-mobile
description: |
  Re-inject a customer callback on their mobile.
request:                      # any AddRecord field; placeholders ${...} expanded at send time
  applicationId: 134
  campaignName: Campaign1     # the file is the truth: the folder is only where it is kept
  callingList: CallingList1
  phoneNumber: ${phone}
  timeZone: GMT
  phoneType: Mobile
  from: "08:00"
  until: "20:00"
  otherFields: {Ticket: "${env:TICKET}", Created: "${now}"}
defaults:                     # values for placeholders nobody gave
  phone: "5550100"
```

Schema 0, the flat form (AddRecord fields at the top level, as `send --template` takes them),
still loads. Files are read with `yaml.safe_load` only; every error names file:line:column.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from console.domain.journal import has_secret_key
from console.domain.model import AddRecord
from console.domain.placeholders import (
    BUILT_INS,
    PlaceholderError,
    check_syntax,
    env_names_in,
    expand,
    names_in,
    refuse_secret,
)
from console.domain.yamlfile import YamlError, parse_yaml, read_utf8
from console.errors import ConsoleError, RecordInvalid

__all__ = ["Template", "TemplateError", "load_template", "save_template", "find_templates",
           "template_dirs", "template_path", "resolve_template", "unused_names", "suggest",
           "SCHEMA", "FIELDS", "TEXT_FIELDS"]

SCHEMA = 1
TOP_KEYS = ("schema", "name", "description", "request", "defaults")
FIELDS = ("chainId", "applicationId", "campaignName", "callingList", "phoneNumber", "timeZone",
          "phoneType", "from", "until", "otherFields", "devicePath", "referenceId")
#: Fields the model takes as text only; a number written there is taken as its text.
TEXT_FIELDS = frozenset({"campaignName", "callingList", "phoneNumber", "timeZone", "phoneType",
                         "devicePath", "referenceId"})
REQUIRED = ("applicationId", "campaignName", "callingList", "phoneNumber", "timeZone",
            "phoneType", "from", "until")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")  # fullmatch: `$` lets a "\n" through
Mark = tuple[int, int]


class TemplateError(ConsoleError):
    """A template that cannot be used: file:line:column, the problem, and the fix."""


@dataclass(frozen=True)
class Template:
    """One saved request."""

    name: str
    """Template name (defaults to the file name)."""
    request: dict[str, Any]
    """AddRecord fields (GWS names), possibly with ${placeholders}."""
    description: str = ""
    """What it is for, in words (may span lines)."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Values for placeholders that nobody gave."""
    schema: int = SCHEMA
    """Schema version the file was written in."""
    path: Path | None = field(default=None, compare=False)
    """Where it was read from."""
    marks: dict[str, Mark] = field(default_factory=dict, compare=False, repr=False)
    """Line and column (1-based) of each key, e.g. `request.phoneNumber`."""

    @property
    def campaign(self) -> str:
        return str(self.request.get("campaignName", "?"))

    @property
    def calling_list(self) -> str:
        return str(self.request.get("callingList", "?"))

    def where(self, key: str) -> str:
        line, col = self.marks.get(key, self.marks.get(key.split(".")[0], (1, 1)))
        return f"{self.path or self.name}:{line}:{col}"

    def placeholders(self) -> list[str]:
        """Names this template needs values for (built-ins and defaults excluded)."""
        found: list[str] = []
        for text in _strings(self.request):
            for name in names_in(text):
                if name not in BUILT_INS and name not in self.defaults and name not in found:
                    found.append(name)
        return found

    def names(self) -> set[str]:
        """Every value name this template uses: its placeholders (defaults and built-ins
        included) and the AddRecord fields (a value named like a field overrides it)."""
        used = {name for text in _strings(self.request) for name in names_in(text)}
        return used | set(FIELDS)

    @property
    def fixed_reference(self) -> str | None:
        """The referenceId written in the template itself (no placeholder), if any."""
        ref = self.request.get("referenceId")
        if isinstance(ref, str) and ref.strip() and not names_in(ref) and "$${" not in ref:
            return ref.strip()
        return None

    def render(self, values: dict[str, Any], seq: int = 1) -> dict[str, Any]:
        """The request with placeholders expanded; TemplateError names the field's line."""
        merged = {**self.defaults, **values}
        rendered: dict[str, Any] = {}
        for key, value in self.request.items():
            try:
                rendered[key] = expand(value, merged, seq)
            except PlaceholderError as exc:
                raise TemplateError(f"{self.where('request.' + key)}: {exc}") from None
        # A --set/rows value named like a field overrides it.
        for key, value in values.items():
            if key in FIELDS:
                rendered[key] = _as_text(key, value)  # a YAML rows `phoneNumber: 5551234`
        return rendered

    def build(self, values: dict[str, Any], seq: int = 1,
              device_path: str | None = None) -> AddRecord:
        """The AddRecord for one send (a fresh referenceId unless the template fixes one)."""
        fields = self.render(values, seq)
        if not fields.get("devicePath") and device_path:
            fields["devicePath"] = device_path
        return AddRecord.parse(fields, source=str(self.path or self.name))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# -- loading -------------------------------------------------------------------------------
def _marks(node: yaml.Node, prefix: str = "") -> dict[str, Mark]:
    marks: dict[str, Mark] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                path = f"{prefix}{key.value}"
                marks[path] = (key.start_mark.line + 1, key.start_mark.column + 1)
                marks.update(_marks(value, path + "."))
    return marks


def load_template(path: Path) -> Template:
    """Read and check one template file."""
    try:
        text = read_utf8(path)
    except YamlError as exc:
        raise TemplateError(str(exc)) from None
    return _from_text(text, path)


def _from_text(text: str, path: Path) -> Template:
    try:
        data, node = parse_yaml(text, path, forbid_aliases=True)
    except YamlError as exc:
        raise TemplateError(str(exc)) from None
    if not isinstance(data, dict) or node is None:
        raise TemplateError(f"{path}:1:1: a template is a mapping with schema, name, "
                            "description and request (see `outbound-console templates new`)")
    return _from_data(data, _marks(node), path)


def _as_text(key: str, value: Any) -> Any:
    """A number given for a text field (`phoneNumber: 5551234`, `campaignName: 2024`) taken as
    its text: the YAML loader keeps a number only when it writes back as typed, so this is
    exactly what was typed (`0005551234` is already text). A non-finite number is left for
    the model to refuse."""
    if key in TEXT_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value):
        return str(value)
    return value


def _from_data(data: dict[Any, Any], marks: dict[str, Mark], path: Path | None) -> Template:
    def where(key: str) -> str:
        line, col = marks.get(key, (1, 1))
        return f"{path}:{line}:{col}"

    schema = data.get("schema", 0 if "request" not in data else SCHEMA)
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise TemplateError(f"{where('schema')}: schema must be a whole number (this version "
                            f"writes {SCHEMA}), got {schema!r}")
    if schema > SCHEMA:
        raise TemplateError(f"{where('schema')}: schema {schema} was written by a newer "
                            f"outbound-console; this one reads schemas 0 and {SCHEMA}: upgrade it")
    if schema < 0:
        raise TemplateError(f"{where('schema')}: schema {schema} does not exist (0 or {SCHEMA})")
    if schema == 0:
        # The flat form: AddRecord fields at the top level; name from the file.
        data = {"schema": 0, "name": data.pop("name", None), "description":
                data.pop("description", ""), "request": {k: v for k, v in data.items()
                                                         if k != "schema"}}
        marks = {**marks, **{f"request.{k}": v for k, v in marks.items()}}
    for key in data:
        if key not in TOP_KEYS:
            raise TemplateError(f"{where(str(key))}: unknown key {key!r}{_suggest(key, TOP_KEYS)}; "
                                f"a template has {', '.join(TOP_KEYS)}")
    name = data.get("name") or (path.stem if path else "template")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TemplateError(f"{where('name')}: name must be text of letters, digits, space, "
                            f"'.', '_' or '-', got {name!r}")
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise TemplateError(f"{where('description')}: description must be text")
    request = data.get("request")
    if not isinstance(request, dict):
        raise TemplateError(f"{where('request')}: request must be a mapping of AddRecord fields "
                            f"({', '.join(FIELDS)})")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or not all(
            isinstance(k, str) and isinstance(v, (str, int, float)) and not isinstance(v, bool)
            for k, v in defaults.items()):
        raise TemplateError(f"{where('defaults')}: defaults must map placeholder names to text "
                            "or numbers")
    request = {k: _as_text(str(k), v) for k, v in request.items()}
    template = Template(name=name, request=request, description=description,
                        defaults=dict(defaults), schema=schema, path=path, marks=marks)
    check_request(template)
    return template


def _suggest(word: Any, choices: tuple[str, ...]) -> str:
    return suggest(str(word), choices)


def suggest(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    if not close:  # a case slip (phonenumber) is not always "close" to difflib
        close = [c for c in choices if c.lower() == word.lower()][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def unused_names(names: Iterable[str], templates: list[Template]) -> list[str]:
    """The names (of --set values or rows columns) that no template uses, each with a
    "did you mean": a typo would otherwise be silently dropped."""
    used: set[str] = set()
    for template in templates:
        used |= template.names()
    placeholders = sorted(used - set(FIELDS))
    return [f"{name!r}{suggest(name, placeholders + list(FIELDS))}" for name in names
            if name not in used]


_STAND_INS: dict[str, Any] = {
    "chainId": 0, "applicationId": 0, "campaignName": "X", "callingList": "X",
    "phoneNumber": "5550000", "timeZone": "GMT", "phoneType": "InstantMessaging", "from": 0,
    "until": 0, "otherFields": {}, "devicePath": "/devices/x", "referenceId": "x",
}


def check_request(template: Template) -> None:
    """Structure and every field without a placeholder, as the AddRecord model sees them."""
    request = template.request
    for key, value in request.items():
        if key == "operationName" and value == "AddRecord":
            continue
        if key not in FIELDS:
            raise TemplateError(f"{template.where('request.' + str(key))}: {key!r} is not an "
                                f"AddRecord field{_suggest(key, FIELDS)}")
        if not isinstance(value, (str, int, float, dict)) or isinstance(value, bool):
            raise TemplateError(f"{template.where('request.' + key)}: {key} must be text or a "
                                f"number{' or a mapping' if key == 'otherFields' else ''}, "
                                f"got {value!r}")
    for key, value in request.items():
        # A bad `${` or a secret variable is refused on sight, not only when expanded: also by
        # a dry run.
        items = [(f"{key}.{k}", v) for k, v in value.items()] if isinstance(value, dict) \
            else [(str(key), value)]
        for where, item in items:
            if not isinstance(item, str):
                continue
            try:
                check_syntax(item)  # a typo such as `${ticket` is never sent as text
                for name in env_names_in(item):
                    refuse_secret(name)
            except PlaceholderError as exc:
                raise TemplateError(f"{template.where('request.' + where)}: {exc}") from None
    missing = [f for f in REQUIRED if request.get(f) in (None, "")]
    if missing:
        raise TemplateError(f"{template.where('request')}: missing required field"
                            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                            "(devicePath may be left out: the session's device is used)")
    literal_secret = {k: v for k, v in (request.get("otherFields") or {}).items()
                      if not (isinstance(v, str) and "${" in v)} if isinstance(
        request.get("otherFields"), dict) else {}
    if has_secret_key(literal_secret):
        raise TemplateError(f"{template.where('request.otherFields')}: templates never hold "
                            "secrets: give such a value as ${env:NAME} instead")
    with_placeholder = {k for k, v in request.items() if _strings(v) and any(
        "${" in s for s in _strings(v))}
    other = request.get("otherFields")
    if isinstance(other, dict) and "otherFields" in with_placeholder:
        # Check the literal values (a `.nan` is caught here, with its line); stand-ins for
        # the ones with a placeholder.
        with_placeholder.discard("otherFields")
        request = {**request, "otherFields": {
            k: "x" if isinstance(v, str) and "${" in v else v for k, v in other.items()}}
    candidate = {k: (_STAND_INS[k] if k in with_placeholder else v) for k, v in request.items()
                 if k != "operationName"}
    if "phoneType" in with_placeholder or "phoneNumber" in with_placeholder:
        candidate["phoneType"] = "InstantMessaging" if "phoneType" in with_placeholder else \
            candidate["phoneType"]
        if "phoneNumber" in with_placeholder and candidate.get("phoneType") == "EmailAddress":
            candidate["phoneNumber"] = "x@example.com"
    candidate.setdefault("devicePath", "/devices/x")
    try:
        AddRecord.parse(candidate)
    except RecordInvalid as exc:
        real = [p for p in exc.problems if p.field not in with_placeholder]
        if real:
            first = real[0]
            others = "".join(f"\n  {template.where('request.' + p.field)}: {p}" for p in real[1:])
            raise TemplateError(f"{template.where('request.' + first.field)}: {first}{others}") \
                from None


# -- saving --------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text, everything else as a person would write it."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_template(template: Template) -> str:
    if has_secret_key(template.request) or has_secret_key(template.defaults):
        raise TemplateError(f"{template.name}: templates never hold secrets: give such a value "
                            "as ${env:NAME} instead")
    body: dict[str, Any] = {"schema": SCHEMA, "name": template.name}
    if template.description:
        description = template.description
        body["description"] = description if description.endswith("\n") or "\n" not in \
            description else description + "\n"
    body["request"] = {k: v for k, v in template.request.items() if k != "operationName"}
    if template.defaults:
        body["defaults"] = template.defaults
    return yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


def save_template(template: Template, path: Path) -> Template:
    """Write `template` to `path` (give one from `template_path`); returns it as it will read
    back. The text is checked as a loaded file before anything is written: a template that
    would not load is never left behind."""
    check_request(replace(template, path=path))
    text = dump_template(template)
    saved = _from_text(text, path)
    created = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # never a half-written template
    except OSError as exc:  # a read-only folder, a full disk, a name too long
        # Leave nothing behind: the temporary file, then the folders made, deepest first.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # (a name too long fails here too)
        with contextlib.suppress(OSError):
            for folder in created:
                folder.rmdir()
        raise TemplateError(f"{path}: cannot write the template: {exc.strerror}") from None
    return saved


def template_path(base: Path, campaign: str, calling_list: str, name: str) -> Path:
    """`base/<campaign>/<calling_list>/<name>.yaml`, each part one folder or file name inside
    `base`; TemplateError naming the part and the fix otherwise (checked before anything is
    written: `..`, a path separator or an absolute path would write elsewhere)."""
    for what, part in (("campaign", campaign), ("calling list", calling_list)):
        if not part.strip() or part in (".", "..") or any(
                c in part for c in "/\\") or not part.isprintable():
            raise TemplateError(f"{what} {part!r} cannot be a folder name (it must not be empty, "
                                "'.' or '..', nor hold '/', '\\' or control characters): "
                                "templates are kept in <campaign>/<calling list>/ folders")
    if not _NAME.fullmatch(name):
        raise TemplateError(f"name must be text of letters, digits, space, '.', '_' or '-' "
                            f"starting with a letter or digit, got {name!r}")
    return base / campaign / calling_list / f"{name}.yaml"


# -- finding -------------------------------------------------------------------------------
def template_dirs(profile_dirs: list[Path]) -> list[Path]:
    return [d / "templates" for d in profile_dirs]


def find_templates(dirs: list[Path]) -> list[Template | TemplateError]:
    """Every template under the directories (the first of a relative path wins)."""
    found: dict[str, Template | TemplateError] = {}
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*.yaml")):
            key = str(path.relative_to(directory))
            if key in found:
                continue
            try:
                found[key] = load_template(path)
            except TemplateError as exc:
                found[key] = exc
    return list(found.values())


def resolve_template(ref: str, dirs: list[Path], examples: bool = True) -> Path:
    """A template by file path, `campaign/list/name`, or bare name (when unique) in `dirs`;
    when none of them has it, in the examples shipped with the package (so a newcomer on the
    simulator finds them from any folder, and the user's own always win)."""
    direct = Path(ref)
    if direct.suffix in (".yaml", ".yml") and direct.is_file():
        return direct
    from console.example_templates import DIR as EXAMPLES

    for group in ([dirs, [EXAMPLES]] if examples else [dirs]):
        for directory in group:
            candidate = directory / (ref if ref.endswith(".yaml") else ref + ".yaml")
            if candidate.is_file():
                return candidate
        # The same folder may be on the search path twice (relative and absolute).
        matches = sorted({p.resolve() for d in group if d.is_dir()
                          for p in d.rglob(f"{Path(ref).name}.yaml")})
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            options = ", ".join(str(m) for m in matches)
            raise TemplateError(f"template {ref!r} is ambiguous: {options}; give "
                                "campaign/list/name")
    looked = ", ".join(str(d) for d in dirs) + (", the shipped examples" if examples else "")
    raise TemplateError(f"no template {ref!r} (looked in {looked}); "
                        "`outbound-console templates list` shows them")

