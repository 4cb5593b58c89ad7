"""Baseline for bench/stream.py: a bare aiocometd-noloop receive loop, nothing else.

`python -m bench._bare_receive URL COUNT`: prints "ready" once subscribed, then the epoch
time (ns) of the COUNT-th message received on /v2/me/outbound.
"""

from __future__ import annotations

import asyncio
import sys
import time

from aiocometd_noloop import Client, ConnectionType


async def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    async with Client(url + "/api/v2/notifications",
                      connection_types=[ConnectionType.LONG_POLLING]) as client:
        await client.subscribe("/v2/me/outbound")
        print("ready", flush=True)
        received = 0
        async for message in client:
            if message.get("channel") == "/v2/me/outbound":
                received += 1
                if received == count:
                    print(time.time_ns(), flush=True)
                    return


if __name__ == "__main__":
    asyncio.run(main())
