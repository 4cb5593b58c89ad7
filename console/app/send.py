"""One record from a template and values (or values alone), checked before anything is
sent: a value that nothing uses is an error, not silently dropped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.domain.model import AddRecord

if TYPE_CHECKING:  # templates (and YAML) are imported only when a send has one
    from console.domain.templates import Template

__all__ = ["request_fields", "check_fields", "STAND_IN_DEVICE"]

#: The device a record is checked with before a session says which one is the user's (dry
#: runs, checks before connecting).
STAND_IN_DEVICE = "/devices/session-default"


def request_fields(template: Template | None, values: dict[str, Any]) -> dict[str, Any]:
    """The AddRecord fields (GWS names) for one send: `values` fill the template's
    placeholders and override its fields of the same name; without a template they are the
    fields. TemplateError (with a template) names a value no placeholder or field uses, or a
    placeholder without a value."""
    if template is None:
        return dict(values)
    from console.domain.templates import TemplateError, unused_names

    unused = unused_names(values, [template])
    if unused:
        raise TemplateError(f"--set {', '.join(unused)} is used by no placeholder of template "
                            f"{template.name} ({template.path}) and is no AddRecord field")
    return template.render(values)


def check_fields(fields: dict[str, Any], source: str | None, stand_in_device: str) -> None:
    """RecordInvalid now, before connecting, when the fields cannot make an AddRecord (the
    devicePath, given by the session later, stands in)."""
    AddRecord.parse({"devicePath": stand_in_device, **fields}, source)
