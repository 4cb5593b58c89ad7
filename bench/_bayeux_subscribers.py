"""Benchmark helper process: N raw long-poll subscribers that timestamp every ack they get.

Run by bench/sim.py as `python -m bench._bayeux_subscribers URL N [USER]` (password in
BENCH_PASSWORD). Prints "ready" once all N are subscribed, then on stdin EOF prints one JSON
summary line: receipts per referenceId and the POST-to-ack latencies (the referenceId carries
the POST's start time in ns).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import aiohttp


async def subscriber(headers: dict[str, str], url: str, ready: asyncio.Queue[int],
                     sink: list[tuple[str, int]], index: int) -> None:
    # One cookie jar per subscriber, as one browser each: the CometD NodeJS server finds
    # sessions through its BAYEUX_BROWSER cookie and allows one long-poll per browser.
    http = aiohttp.ClientSession(headers=headers, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 timeout=aiohttp.ClientTimeout(total=60))
    endpoint = url + "/api/v2/notifications"
    seq = 0

    async def post(*messages: dict[str, object]) -> list[dict[str, object]]:
        nonlocal seq
        for m in messages:
            seq += 1
            m["id"] = str(seq)
        async with http.post(endpoint, json=list(messages)) as reply:
            return await reply.json(loads=json.loads, content_type=None)  # type: ignore[no-any-return]

    [hs] = await post({"channel": "/meta/handshake", "version": "1.0",
                       "supportedConnectionTypes": ["long-polling"]})
    client_id = hs["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id,
               "connectionType": "long-polling"}
    await post({**connect, "advice": {"timeout": 0}})
    await post({"channel": "/meta/subscribe", "clientId": client_id,
                "subscription": "/v2/me/outbound"})
    await ready.put(index)
    try:
        while True:
            messages = await post(dict(connect))
            now = time.time_ns()
            for m in messages:
                if m.get("channel") == "/v2/me/outbound":
                    data = m["data"]
                    assert isinstance(data, dict)
                    sink.append((data["referenceId"], now))
    finally:
        await http.close()


async def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    user = sys.argv[3] if len(sys.argv) > 3 else "demo"
    auth = {"Authorization": aiohttp.encode_basic_auth(user, os.environ.get("BENCH_PASSWORD", ""))}
    sink: list[tuple[str, int]] = []
    ready: asyncio.Queue[int] = asyncio.Queue()
    tasks = [asyncio.create_task(subscriber(auth, url, ready, sink, i)) for i in range(count)]
    for _ in range(count):
        await ready.get()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # wait for EOF from the parent
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    receipts: dict[str, int] = {}
    latencies_us: list[int] = []
    last_ns = 0
    for ref, at in sink:
        receipts[ref] = receipts.get(ref, 0) + 1
        sent_ns = int(ref.rsplit("-", 1)[1])
        latencies_us.append((at - sent_ns) // 1000)
        last_ns = max(last_ns, at)
    print(json.dumps({"receipts": receipts, "latencies_us": latencies_us, "last_ns": last_ns}),
          flush=True)


if __name__ == "__main__":
    asyncio.run(main())
