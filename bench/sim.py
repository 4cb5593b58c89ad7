"""Benchmark: AddRecords acknowledged per second by the GWS simulator, with 1, 50 and 200
long-poll subscribers, and POST-to-ack latency; the official CometD NodeJS server doing the
same fan-out is measured in the same run as the yardstick.

    python bench/sim.py [--quick]

Three processes: the server under test, one process holding the subscribers, and this one
posting records (aiohttp, keep-alive, `--concurrency` in flight). A record is acknowledged when
every subscriber has received its ack; the referenceId carries the POST's start time, so
latency = receipt time - POST start (same machine clock). Only loopback is used; every phase
is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
INTEROP = ROOT / "tests" / "interop"
PASSWORD = "bench-password"
SAMPLE = {
    "operationName": "AddRecord", "chainId": 2, "applicationId": 134,
    "campaignName": "Campaign1", "callingList": "CallingList1", "phoneNumber": "12345",
    "timeZone": "GMT", "phoneType": "Mobile", "from": 0, "until": 86339,
    "devicePath": "/devices/4d72a6b5-ee96-4e1f-b09b-5c3f979d82b7",
}


@dataclass
class Result:
    server: str
    subscribers: int
    records: int
    acked: int
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float


class Server:
    """A server under test in its own process."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Server:
        if self.kind == "simulator":
            env = {**os.environ, "OUTBOUND_CONSOLE_SIM_PASSWORD": PASSWORD}
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "console.cli", "sim", "--port", "0"], cwd=ROOT,
                stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, env=env)
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            self.url = line.split()[-1]
        else:
            self.proc = subprocess.Popen(["node", "bench_server.mjs"], cwd=INTEROP,
                                         stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
            assert self.proc.stdout is not None
            port = json.loads(self.proc.stdout.readline())["port"]
            self.url = f"http://127.0.0.1:{port}"
        assert self.url.startswith("http://127.0.0.1:"), self.url
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=10)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def post_records(server: Server, records: int, concurrency: int,
                       rate: float | None) -> float:
    """POST `records` AddRecords; returns the start time (ns)."""
    jar = aiohttp.CookieJar(unsafe=True)  # the default jar ignores cookies of IP hosts
    auth = {"Authorization": aiohttp.encode_basic_auth("demo", PASSWORD)}
    headers: dict[str, str] = {}
    async with aiohttp.ClientSession(headers=auth, cookie_jar=jar,
                                     connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        if server.kind == "simulator":
            async with http.get(server.url + "/api/v2/me") as reply:
                headers = {reply.headers["X-CSRF-HEADER"]: reply.headers["X-CSRF-TOKEN"]}
            path = "/api/v2/me/outbound-records"
        else:
            path = "/publish"
        url = server.url + path
        counter = iter(range(records))
        start_ns = time.time_ns()
        interval = 1.0 / rate if rate else 0.0
        t0 = time.monotonic()

        async def worker() -> None:
            for n in counter:
                if interval:
                    delay = t0 + n * interval - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                body = {**SAMPLE, "referenceId": f"b{n}-{time.time_ns()}"}
                async with http.post(url, json=body, headers=headers) as reply:
                    answer = await reply.json()
                    if answer.get("statusCode") != 0:
                        raise RuntimeError(f"POST refused: {answer}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return start_ns


def run_case(kind: str, subscribers: int, records: int, concurrency: int,
             rate: float | None) -> Result:
    with Server(kind) as server:
        env = {**os.environ, "BENCH_PASSWORD": PASSWORD}
        subs = subprocess.Popen(
            [sys.executable, "-m", "bench._bayeux_subscribers", server.url, str(subscribers)],
            cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, env=env)
        assert subs.stdout is not None and subs.stdin is not None
        if subs.stdout.readline().strip() != "ready":
            raise RuntimeError("subscribers did not start")
        start_ns = asyncio.run(post_records(server, records, concurrency, rate))
        # Wait (bounded) for the last acks to land, then collect.
        time.sleep(0.5 + subscribers * 0.005)
        subs.stdin.close()
        summary = json.loads(subs.stdout.readline())
        subs.wait(timeout=30)
    receipts: dict[str, int] = summary["receipts"]
    acked = sum(1 for n in receipts.values() if n >= subscribers)
    elapsed = (summary["last_ns"] - start_ns) / 1e9
    lat_ms = [v / 1000.0 for v in summary["latencies_us"]]
    return Result(kind, subscribers, records, acked, acked / elapsed if elapsed > 0 else 0.0,
                  percentile(lat_ms, 0.50), percentile(lat_ms, 0.99), max(lat_ms or [0.0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer records (smoke run)")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    cases = [  # (subscribers, records, offered rate or None for as fast as possible)
        (1, int(10000 * scale), None),
        (50, int(3000 * scale), None),
        (200, int(1000 * scale), None),
        (200, int(1000 * scale), 100.0),
    ]
    print(f"bench/sim.py  concurrency={args.concurrency}  cpus={os.cpu_count()}")
    print(f"{'server':<10} {'subs':>4} {'offered':>8} {'records':>7} {'acked':>6} "
          f"{'acked/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    results: dict[tuple[str, int, float | None], Result] = {}
    for subscribers, records, rate in cases:
        for kind in ("simulator", "cometd-node"):
            r = run_case(kind, subscribers, records, args.concurrency, rate)
            results[(kind, subscribers, rate)] = r
            offered = f"{rate:.0f}/s" if rate else "max"
            print(f"{r.server:<10} {r.subscribers:>4} {offered:>8} {r.records:>7} {r.acked:>6} "
                  f"{r.rate:>8.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.max_ms:>7.1f}",
                  flush=True)
    print("\nratios simulator / official CometD NodeJS server (same run):")
    for subscribers, _, rate in cases:
        ours, theirs = results[("simulator", subscribers, rate)], results[("cometd-node", subscribers, rate)]
        offered = f"{rate:.0f}/s" if rate else "max"
        print(f"  {subscribers:>3} subscribers, {offered:>6}: throughput x{ours.rate / theirs.rate:.2f}, "
              f"p50 x{ours.p50_ms / theirs.p50_ms:.2f}, p99 x{ours.p99_ms / theirs.p99_ms:.2f}")
    one = results[("simulator", 1, None)]
    print(f"\ntarget: >= 2000 acked/s with 1 subscriber, p99 < 50 ms -> "
          f"{one.rate:.0f}/s, p99 {one.p99_ms:.1f} ms")
    fan = results[("simulator", 200, 100.0)], results[("cometd-node", 200, 100.0)]
    print(f"target: 200-subscriber fan-out p99 <= 2x official -> "
          f"x{fan[0].p99_ms / fan[1].p99_ms:.2f} (p50 x{fan[0].p50_ms / fan[1].p50_ms:.2f})")
    lost = [r for r in results.values() if r.acked != r.records]
    if lost:
        print("WARNING: some records were not acknowledged by every subscriber:",
              [(r.server, r.subscribers, r.records - r.acked) for r in lost])
    _ = statistics  # kept for ad-hoc analysis


if __name__ == "__main__":
    main()
