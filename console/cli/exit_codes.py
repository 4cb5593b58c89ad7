"""The command line's exit codes, one table for `send`, `watch`, `replay` and the console.

| code | meaning |
|---|---|
| 0 | acknowledged (every record) |
| 2 | invalid input: flags, fields, templates, rows (nothing sent) |
| 3 | refused by GWS (a reply in which GWS says no: HTTP 4xx/5xx with a GWS body, statusCode != 0) |
| 4 | an Error notification came back (GWS accepted the POST, OCS failed it) |
| 5 | no answer: GWS accepted the POST, no acknowledgement within the timeout |
| 6 | target problem: GWS unreachable (nothing delivered), profile, URL or password problem (Ctrl-D at the password prompt too), a journal file that cannot be written (nothing sent); a replay that stopped by itself: the notification stream stopped for good, or the password refused on records in a row |
| 7 | unknown: a POST was sent but its outcome was not seen (reset, timeout, unreadable reply) and no acknowledgement came: GWS may have accepted it; check before re-sending; also a journal that stopped taking lines after a POST left |
| 8 | not confirmed: a replay to production was not confirmed (answered no, Ctrl-D at the prompt, or no terminal to ask on and no --yes); nothing sent |
| 130 | interrupted (Ctrl-C, SIGTERM, SIGHUP; at a prompt too): replay writes its partial verdict and resume files; send prints its verdict (`unknown` once the POST has left); watch, stopped, always ends so |

A replay's code names the outcome that needs the most care: it stopped by itself (6),
interrupted, then unknown, then not delivered, refused, error notification, no answer.
"""

from __future__ import annotations

import click

__all__ = ["InvalidInput", "EXIT_ACK", "EXIT_INVALID", "EXIT_REFUSED",
           "EXIT_ERROR_NOTIFICATION", "EXIT_NO_ANSWER", "EXIT_UNREACHABLE", "EXIT_UNKNOWN",
           "EXIT_NOT_CONFIRMED", "EXIT_INTERRUPTED", "for_replay"]

EXIT_ACK = 0
EXIT_INVALID = 2
EXIT_REFUSED = 3
EXIT_ERROR_NOTIFICATION = 4
EXIT_NO_ANSWER = 5
EXIT_UNREACHABLE = 6
EXIT_UNKNOWN = 7
EXIT_NOT_CONFIRMED = 8
EXIT_INTERRUPTED = 130

_BY_WORST = {"halted": EXIT_UNREACHABLE, "stopped": EXIT_INTERRUPTED,
             "unknown": EXIT_UNKNOWN, "not_delivered": EXIT_UNREACHABLE, "failed": EXIT_REFUSED,
             "notification": EXIT_ERROR_NOTIFICATION, "no_answer": EXIT_NO_ANSWER,
             "acknowledged": EXIT_ACK}


class InvalidInput(click.ClickException):
    """Bad input refused as click refuses it ("Error: ..."), with this table's code 2, not
    click's 1."""

    exit_code = EXIT_INVALID


def for_replay(worst: str) -> int:
    """The exit code for `ReplayResult.worst()`."""
    return _BY_WORST[worst]
