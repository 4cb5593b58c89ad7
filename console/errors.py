"""Every error the engine raises, in one tree, each with a message that says what to do."""

from __future__ import annotations

__all__ = [
    "ConsoleError", "FieldProblem", "RecordInvalid", "ProfileError", "GwsError", "GwsHttpError",
    "GwsStatusError", "GwsUnreachable", "GwsOutcomeUnknown", "CsrfError", "StreamError",
    "DuplicateReference",
]

from dataclasses import dataclass


class ConsoleError(Exception):
    """Base of every error outbound-console reports to a person."""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid AddRecord field: which, what was given, what is expected."""

    field: str
    """The GWS name of the field (e.g. `phoneType`)."""
    given: object
    """The value as given (never a secret: AddRecord carries none)."""
    expected: str
    """What would be accepted, in words."""

    def __str__(self) -> str:
        given = "nothing" if self.given is None else repr(self.given)
        return f"{self.field}: got {given}; expected {self.expected}"


class RecordInvalid(ConsoleError):
    """An AddRecord that GWS would refuse; `problems` lists every bad field."""

    def __init__(self, problems: list[FieldProblem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "invalid AddRecord:\n  " + "\n  ".join(map(str, problems)))


class ProfileError(ConsoleError):
    """A profile that cannot be used (file, line and fix in the message)."""


class GwsError(ConsoleError):
    """Something went wrong talking to GWS."""


class GwsUnreachable(GwsError):
    """GWS was not reached: the request never left (connection refused, DNS, TLS handshake).
    Nothing was delivered, so nothing can have been done."""


class GwsOutcomeUnknown(GwsError):
    """The request may have reached GWS but no readable answer came back (connection reset,
    timeout after sending, unreadable reply). GWS may have accepted it: never call it refused,
    never mark it safe to send again."""


class GwsHttpError(GwsError):
    """GWS answered with an HTTP error status."""

    def __init__(self, message: str, status: int, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.status_code = status_code


class CsrfError(GwsHttpError):
    """HTTP 403 "Missing or invalid Csrf token", even after fetching a new token."""


class GwsStatusError(GwsError):
    """GWS answered with a non-zero statusCode."""

    def __init__(self, message: str, status_code: int, status_message: str, http_status: int) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.status_message = status_message
        self.http_status = http_status


class StreamError(ConsoleError):
    """The CometD stream failed for good (the server said `reconnect: none`, bad credentials)."""


class DuplicateReference(ConsoleError):
    """A request whose referenceId is already used by a request still waiting for its answer:
    GWS answers by referenceId, so the two verdicts could not be told apart. Nothing was sent."""

    def __init__(self, reference_id: str) -> None:
        super().__init__(f"referenceId {reference_id!r} is already used by a request still "
                         "waiting for its acknowledgement: not sent (give each record its own "
                         "referenceId, or leave it out and one is generated)")
        self.reference_id = reference_id


class EngineClosed(ConsoleError):
    """A send or a replay asked of a connection already closed: nothing was sent."""
