"""Benchmark: records per second acknowledged by `replay` (the engine the command runs) for
10,000 records at concurrency 1, 8 and 32 against the simulator; in the same run, a bare httpx
keep-alive POST loop to the same simulator (the ceiling: no validation, no acks) and a loop that
runs `curl` once per record (what engineers script today).

    python bench/replay.py [--records N] [--curl-records M]

The simulator runs in its own process on loopback. Replay is timed from planning (templates
expanded and validated) to the last verdict, with --rate at its maximum so only the
concurrency limit paces it. Targets: replay >= 0.8x the bare loop at the same concurrency,
>= 20x the curl loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.engine import Engine  # noqa: E402
from console.example_templates import DIR as EXAMPLES  # noqa: E402
from console.gws.connection import Connection, Secret  # noqa: E402
from console.replay import MAX_RATE, Replay, plan  # noqa: E402
from console.templates import load_template  # noqa: E402

PASSWORD = "bench-password"
TEMPLATE = EXAMPLES / "Campaign1" / "CallingList1" / "callback-mobile.yaml"


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "OUTBOUND_CONSOLE_SIM_PASSWORD": PASSWORD}
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "sim", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    url = proc.stdout.readline().split()[-1]
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


async def replay_rate(url: str, records: int, concurrency: int) -> tuple[float, Counter[str]]:
    engine = Engine(Connection(url, "demo", Secret(PASSWORD)), ack_timeout_s=10.0)
    await engine.open()
    try:
        started = time.perf_counter()
        jobs = plan([load_template(TEMPLATE)], None, records, {"phone": "5551234"},
                    engine.session.device_path)
        outcomes = await Replay(engine, jobs, rate=MAX_RATE, concurrency=concurrency,
                                timeout_s=10.0).run()
        elapsed = time.perf_counter() - started
    finally:
        await engine.close()
    states = Counter(o.state for o in outcomes)
    return states["acknowledged"] / elapsed, states


async def bare_rate(url: str, records: int, concurrency: int) -> float:
    template = load_template(TEMPLATE)
    body = template.build({"phone": "5551234"}, device_path=None or
                          "/devices/4d72a6b5-ee96-4e1f-b09b-5c3f979d82b7").body()
    async with httpx.AsyncClient(base_url=url, auth=("demo", PASSWORD)) as http:
        me = await http.get("/api/v2/me")
        headers = {me.headers["X-CSRF-HEADER"]: me.headers["X-CSRF-TOKEN"]}
        counter = iter(range(records))
        started = time.perf_counter()

        async def worker() -> None:
            for n in counter:
                reply = await http.post("/api/v2/me/outbound-records",
                                        json={**body, "referenceId": f"bare-{concurrency}-{n}"},
                                        headers=headers)
                assert reply.status_code == 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return records / (time.perf_counter() - started)


def curl_rate(url: str, records: int) -> float:
    curl = shutil.which("curl")
    if curl is None:
        return float("nan")
    template = load_template(TEMPLATE)
    with tempfile.TemporaryDirectory() as tmp:
        jar = f"{tmp}/cookies"
        me = subprocess.run([curl, "-s", "-D", "-", "-o", "/dev/null", "-c", jar, "-u",
                             f"demo:{PASSWORD}", f"{url}/api/v2/me"], capture_output=True,
                            text=True, check=True).stdout
        token = next(line.split(":", 1)[1].strip() for line in me.splitlines()
                     if line.lower().startswith("x-csrf-token:"))
        import json

        started = time.perf_counter()
        for _ in range(records):
            body = template.build({"phone": "5551234"},
                                  device_path="/devices/4d72a6b5-ee96-4e1f-b09b-5c3f979d82b7")
            subprocess.run([curl, "-s", "-o", "/dev/null", "-b", jar, "-u", f"demo:{PASSWORD}",
                            "-H", f"X-CSRF-TOKEN: {token}", "-H", "Content-Type: application/json",
                            "-d", json.dumps(body.body()), f"{url}/api/v2/me/outbound-records"],
                           check=True)
        return records / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--curl-records", type=int, default=300)
    args = parser.parse_args()
    proc, url = start_simulator()
    try:
        curl = curl_rate(url, args.curl_records)
        print(f"curl once per record ({args.curl_records} records): {curl:.0f} records/s")
        print(f"{'concurrency':>11} {'bare httpx/s':>13} {'replay ack/s':>13} {'x bare':>7} "
              f"{'x curl':>7}  verdicts")
        for concurrency in (1, 8, 32):
            bare = asyncio.run(bare_rate(url, args.records, concurrency))
            rate, states = asyncio.run(replay_rate(url, args.records, concurrency))
            print(f"{concurrency:>11} {bare:>13.0f} {rate:>13.0f} {rate / bare:>7.2f} "
                  f"{rate / curl:>7.1f}  {dict(states)}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print("targets: replay >= 0.8x bare at the same concurrency; >= 20x curl")


if __name__ == "__main__":
    main()
