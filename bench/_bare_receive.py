"""Baseline for bench/stream.py: a bare Bayeux long-polling receive loop on httpx (the HTTP
client `watch` uses), nothing else: no validation of replies, no backoff, no statuses.

`python -m bench._bare_receive URL COUNT`: prints "ready" once subscribed, then the epoch
time (ns) of the COUNT-th message received on /v2/me/outbound.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx


async def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    endpoint = url + "/api/v2/notifications"
    async with httpx.AsyncClient(timeout=60) as http:

        async def send(*messages: dict[str, Any]) -> list[dict[str, Any]]:
            reply = await http.post(endpoint, content=json.dumps(list(messages)),
                                    headers={"Content-Type": "application/json"})
            return reply.json()  # type: ignore[no-any-return]

        [handshake] = await send({"channel": "/meta/handshake", "version": "1.0",
                                  "supportedConnectionTypes": ["long-polling"], "id": "1"})
        client_id = handshake["clientId"]
        await send({"channel": "/meta/subscribe", "clientId": client_id,
                    "subscription": "/v2/me/outbound", "id": "2"})
        connect: dict[str, Any] = {"channel": "/meta/connect", "clientId": client_id,
                                   "connectionType": "long-polling", "id": "3",
                                   "advice": {"timeout": 0}}
        replies = await send(connect)
        del connect["advice"]
        print("ready", flush=True)
        received = 0
        while True:
            for message in replies:
                if message.get("channel") == "/v2/me/outbound":
                    received += 1
                    if received == count:
                        print(time.time_ns(), flush=True)
                        return
            replies = await send(connect)


if __name__ == "__main__":
    asyncio.run(main())
