"""Server text never drives the operator's terminal: a `\\r` in a statusMessage used to rewrite
the line it was on (`refused\\r acknowledged` read "acknowledged") and ESC sequences went to the
terminal as they came (click strips them only when the output is not a terminal, which is why
a piped test never saw them)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.cli.terminal_text import terminal_safe
from tests.cli_helpers import BIN, CALLBACK, isolated_env
from tests.hostile import HostileServer, Reply

HOSTILE = "refused\r ACKNOWLEDGED \x1b]0;pwned\x07\x1b[2J\x9b31m\x7f"


def test_control_characters_are_shown_not_obeyed() -> None:
    assert terminal_safe(HOSTILE) == ("refused\\x0d ACKNOWLEDGED \\x1b]0;pwned\\x07\\x1b[2J"
                                      "\\x9b31m\\x7f")
    assert terminal_safe("two\tcolumns\nand lines, ünïcode") == "two\tcolumns\nand lines, ünïcode"


async def test_a_refusal_quoting_the_server_prints_no_control_character(tmp_path: Path) -> None:
    async with HostileServer(timeout_ms=2000) as server:
        server.script = lambda seen: Reply(
            {"statusCode": 2, "statusMessage": HOSTILE}, status=400) \
            if seen.path == "/api/v2/me/outbound-records" else None
        # A pseudo-terminal is not needed: the filter is ours, not click's (which strips ANSI
        # only when piped, and then neither \r nor a lone ESC ]).
        proc = await asyncio.create_subprocess_exec(
            BIN, "send", "--url", server.url, "--user", "agent", "--template", str(CALLBACK),
            "--set", "phone=5551234", stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
            env=isolated_env(tmp_path, "pw"), cwd=tmp_path)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    text = (out + err).decode()
    assert proc.returncode == 3, text
    assert "refused\\x0d ACKNOWLEDGED" in text, text
    assert not any(c in text for c in "\r\x1b\x07\x9b\x7f"), repr(text)
