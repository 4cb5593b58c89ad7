"""Benchmark: records per second of `replay` — the application layer's `ReplayRun` with the
journal on (what the `replay` command runs), and the whole `outbound-console replay` process —
against a bare POST loop over the same HTTP transport, at concurrency 1, 8 and 32.

    python bench/replay.py [--records N] [--rounds R] [--process-records M] [--curl-records K]

The simulator runs in its own process on loopback. Every row is a median of R rounds, the
rounds alternating baseline and subject (a busy moment on a shared machine hits both alike).

- `bare aiohttp` (the baseline): one `aiohttp.ClientSession` (keep-alive, no connection
  limit) posts the same AddRecord bodies (json-encoded per POST, its own referenceId) with the
  same headers (Basic auth, CSRF pair, cookie) from N workers, and reads each reply. This is
  the transport replay posts over: `GwsHttp` moves to aiohttp from the `BULK_AFTER`-th POST
  and from then on hands it the bytes directly (console/gws/transport.py). It does no
  validation, no journal, no CometD, no waiting for acknowledgements.
- `bare httpx`: the same loop over one `httpx.AsyncClient` (a second reference line).
- `ReplayRun`: `console.app.replay.ReplayRun` through `open_target` (journal on, to a file),
  rate at its maximum so only the concurrency limit paces it, timed from the plan (templates
  expanded, every record validated) to the last verdict; counts acknowledged records only.
  What it does beyond the baseline: plan and validate, a tracker entry per record, request,
  response, event and verdict journal lines, the CometD stream delivering two notifications
  per record, and waiting for each acknowledgement.
- `replay process`: the whole `outbound-console replay ... --count M` command (start-up,
  password from the environment, session, stream, table) in wall-clock time: M / seconds.
- `curl per record` (once): a shell loop running curl once per record, what engineers script.

Target (issue 15): ReplayRun >= 0.8x bare aiohttp at each concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._compiled import ensure_bytecode  # noqa: E402
from bench._process import installed_binary  # noqa: E402
from bench._process import start_simulator as run_simulator  # noqa: E402
from console.app.replay import ReplayRun, ReplaySettings, load_inputs  # noqa: E402
from console.app.replay_engine import MAX_RATE  # noqa: E402
from console.app.target import TargetOptions, open_target, resolve_target  # noqa: E402
from console.domain.templates import load_template  # noqa: E402
from console.example_templates import DIR as EXAMPLES  # noqa: E402

PASSWORD = "bench-password"
TEMPLATE = EXAMPLES / "Campaign1" / "CallingList1" / "callback-mobile.yaml"
SETS = {"phone": "5551234"}
DEVICE = "/devices/4d72a6b5-ee96-4e1f-b09b-5c3f979d82b7"


def start_simulator(home: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "OUTBOUND_CONSOLE_SIM_PASSWORD": PASSWORD, "HOME": home}
    return run_simulator([sys.executable, "-m", "console.cli"], env, cwd=ROOT)


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cpu:
    """CPU per record of this process and of the simulator over one run."""

    def __init__(self, sim: int) -> None:
        self.sim = sim
        self.own = time.process_time()
        self.sim_start = cpu_of(sim)

    def per_record(self, records: int) -> tuple[float, float]:
        """(this process, the simulator) in microseconds of CPU per record."""
        return ((time.process_time() - self.own) * 1e6 / records,
                (cpu_of(self.sim) - self.sim_start) * 1e6 / records)


def sample_body() -> dict[str, Any]:
    return load_template(TEMPLATE).build(SETS, device_path=DEVICE).body()


async def replay_rate(url: str, records: int, concurrency: int, journal: Path
                      ) -> tuple[float, Counter[str]]:
    resolved = resolve_target(TargetOptions(url=url, user="demo", journal=journal),
                              password=PASSWORD)
    opened = await open_target(resolved, ack_timeout_s=10.0)
    try:
        inputs = load_inputs([str(TEMPLATE)], count=records, sets=SETS)
        started = time.perf_counter()
        run = ReplayRun(opened, inputs, ReplaySettings(rate=MAX_RATE, concurrency=concurrency,
                                                       timeout_s=10.0),
                        resume_dir=journal.parent)
        result = await run.run()
        elapsed = time.perf_counter() - started
    finally:
        await opened.close()
    states = Counter(o.state for o in result.outcomes)
    return states["acknowledged"] / elapsed, states


async def login(http: Any, url: str) -> dict[str, str]:
    """GET /api/v2/me on an aiohttp session: the headers every later request sends (Basic
    auth, the CSRF pair, JSON)."""
    auth = "Basic " + base64.b64encode(f"demo:{PASSWORD}".encode()).decode()
    async with http.get(f"{url}/api/v2/me", headers={"Authorization": auth}) as me:
        await me.read()
        return {me.headers["X-CSRF-HEADER"]: me.headers["X-CSRF-TOKEN"],
                "Content-Type": "application/json", "Accept": "application/json",
                "Authorization": auth}


async def bare_aiohttp_rate(url: str, records: int, concurrency: int) -> float:
    import aiohttp

    body = sample_body()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        headers = await login(http, url)
        target = f"{url}/api/v2/me/outbound-records"
        counter = iter(range(records))
        started = time.perf_counter()

        async def worker() -> None:
            for n in counter:
                data = json.dumps({**body, "referenceId": f"bare-{concurrency}-{n}-{started}"})
                async with http.post(target, data=data.encode(), headers=headers) as reply:
                    await reply.read()
                    assert reply.status == 200, reply.status

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return records / (time.perf_counter() - started)


async def bare_acked_rate(url: str, records: int, concurrency: int) -> float:
    """The bare aiohttp loop, plus what a verdict needs at the least: one CometD long-poll
    (handshake, subscribe, connect loop) over the same session, each record done when its
    acknowledgement arrives. POSTs in flight are limited, acks awaited freely (as replay
    does); no validation, no journal, no tracker beyond a dict of futures. It disconnects at
    the end, as replay does."""
    import aiohttp

    from console.gws.connection import DEFAULT_CHANNELS

    body = sample_body()
    loop = asyncio.get_running_loop()
    pending: dict[str, asyncio.Future[None]] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        headers = await login(http, url)
        cometd = f"{url}/api/v2/notifications"

        async def bayeux(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
            async with http.post(cometd, data=json.dumps(messages).encode(),
                                 headers=headers) as reply:
                answer: list[dict[str, Any]] = json.loads(await reply.read())
                return answer

        [hello] = await bayeux([{"channel": "/meta/handshake", "version": "1.0",
                                 "supportedConnectionTypes": ["long-polling"], "id": "1"}])
        client = hello["clientId"]
        await bayeux([{"channel": "/meta/subscribe", "clientId": client, "subscription": c,
                       "id": f"s{i}"} for i, c in enumerate(DEFAULT_CHANNELS)])

        async def listen() -> None:
            n = 0
            while True:
                n += 1
                message = {"channel": "/meta/connect", "clientId": client,
                           "connectionType": "long-polling", "id": f"c{n}"}
                if n == 1:
                    message["advice"] = {"timeout": 0}
                for item in await bayeux([message]):
                    data = item.get("data")
                    if isinstance(data, dict):
                        future = pending.pop(str(data.get("referenceId")), None)
                        if future is not None and not future.done():
                            future.set_result(None)

        listener = loop.create_task(listen())
        await asyncio.sleep(0.05)  # the first (immediate) connect is answered
        target = f"{url}/api/v2/me/outbound-records"
        counter = iter(range(records))
        started = time.perf_counter()
        acks: list[asyncio.Future[None]] = []

        async def worker() -> None:
            for n in counter:
                ref = f"acked-{concurrency}-{n}-{started}"
                future = pending[ref] = loop.create_future()
                acks.append(future)
                data = json.dumps({**body, "referenceId": ref})
                async with http.post(target, data=data.encode(), headers=headers) as reply:
                    await reply.read()
                    assert reply.status == 200, reply.status

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        await asyncio.wait_for(asyncio.gather(*acks), 30)
        elapsed = time.perf_counter() - started
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        # Left connected, the session would be sent (and queue, then drop) every later run's
        # notifications until the simulator sweeps it: a cost on the runs after this one.
        await bayeux([{"channel": "/meta/disconnect", "clientId": client, "id": "d"}])
        return records / elapsed


async def bare_httpx_rate(url: str, records: int, concurrency: int) -> float:
    import httpx

    body = sample_body()
    async with httpx.AsyncClient(base_url=url, auth=("demo", PASSWORD),
                                 limits=httpx.Limits(max_connections=None)) as http:
        me = await http.get("/api/v2/me")
        headers = {me.headers["X-CSRF-HEADER"]: me.headers["X-CSRF-TOKEN"]}
        counter = iter(range(records))
        started = time.perf_counter()

        async def worker() -> None:
            for n in counter:
                reply = await http.post("/api/v2/me/outbound-records",
                                        json={**body, "referenceId": f"x-{n}-{started}"},
                                        headers=headers)
                assert reply.status_code == 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return records / (time.perf_counter() - started)


def process_rate(url: str, records: int, concurrency: int, home: str) -> float:
    env = {**os.environ, "HOME": home, "XDG_STATE_HOME": f"{home}/state",
           "XDG_CONFIG_HOME": f"{home}/config", "OUTBOUND_CONSOLE_HOME": home,
           "OUTBOUND_CONSOLE_PASSWORD": PASSWORD}
    command = [installed_binary(), "replay", str(TEMPLATE), "--url", url, "--user", "demo", "--count",
               str(records), "--set", f"phone={SETS['phone']}", "--rate", f"{MAX_RATE:g}",
               "--concurrency", str(concurrency), "--journal", f"{home}/journal.jsonl",
               "--resume-dir", home]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"replay exited {done.returncode}: {done.stderr[-600:]}")
    return records / elapsed


def curl_rate(url: str, records: int) -> float:
    curl = shutil.which("curl")
    if curl is None:
        return float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        jar = f"{tmp}/cookies"
        me = subprocess.run([curl, "-s", "-D", "-", "-o", "/dev/null", "-c", jar, "-u",
                             f"demo:{PASSWORD}", f"{url}/api/v2/me"], capture_output=True,
                            text=True, check=True).stdout
        token = next(line.split(":", 1)[1].strip() for line in me.splitlines()
                     if line.lower().startswith("x-csrf-token:"))
        body = sample_body()
        started = time.perf_counter()
        for n in range(records):
            subprocess.run([curl, "-s", "-o", "/dev/null", "-b", jar, "-u", f"demo:{PASSWORD}",
                            "-H", f"X-CSRF-TOKEN: {token}", "-H", "Content-Type: application/json",
                            "-d", json.dumps({**body, "referenceId": f"curl-{n}-{started}"}),
                            f"{url}/api/v2/me/outbound-records"], check=True)
        return records / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=3000,
                        help="records per in-process run (default 3000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--process-records", type=int, default=2000,
                        help="records per whole-process replay (0: skip)")
    parser.add_argument("--curl-records", type=int, default=100, help="0: skip")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 8, 32])
    parser.add_argument("--no-httpx", action="store_true")
    args = parser.parse_args()
    print(__doc__.split("\n\n")[2].replace("\n", " ").strip())
    ensure_bytecode()
    with tempfile.TemporaryDirectory() as home:
        proc, url = start_simulator(home)
        try:
            curl = curl_rate(url, args.curl_records) if args.curl_records else float("nan")
            print(f"curl once per record ({args.curl_records} records): {curl:.0f} records/s")
            print(f"medians of {args.rounds} rounds; {args.records} records per in-process run, "
                  f"{args.process_records} per process run")
            print(f"{'conc':>4} {'bare aiohttp/s':>14} {'+acks/s':>8} {'bare httpx/s':>12} "
                  f"{'ReplayRun/s':>11} {'x aiohttp':>9} {'x +acks':>7} {'process/s':>9} "
                  f"{'x aiohttp':>9}  verdicts")
            cpu_lines = []
            ceilings = []
            for concurrency in args.concurrency:
                rows: dict[str, list[float]] = {"aiohttp": [], "httpx": [], "run": [],
                                                "process": [], "acked": []}
                cpu: dict[str, list[tuple[float, float]]] = {"aiohttp": [], "acked": [],
                                                              "run": []}
                states: Counter[str] = Counter()
                for r in range(args.rounds):
                    meter = Cpu(proc.pid)
                    rows["aiohttp"].append(
                        asyncio.run(bare_aiohttp_rate(url, args.records, concurrency)))
                    cpu["aiohttp"].append(meter.per_record(args.records))
                    meter = Cpu(proc.pid)
                    rows["acked"].append(
                        asyncio.run(bare_acked_rate(url, args.records, concurrency)))
                    cpu["acked"].append(meter.per_record(args.records))
                    journal = Path(home) / f"run-{concurrency}-{r}" / "journal.jsonl"
                    journal.parent.mkdir()
                    meter = Cpu(proc.pid)
                    rate, states = asyncio.run(replay_rate(url, args.records, concurrency,
                                                           journal))
                    cpu["run"].append(meter.per_record(args.records))
                    rows["run"].append(rate)
                    if not args.no_httpx:
                        rows["httpx"].append(
                            asyncio.run(bare_httpx_rate(url, args.records, concurrency)))
                    if args.process_records:
                        rows["process"].append(process_rate(url, args.process_records,
                                                            concurrency, home))
                m = {k: statistics.median(v) if v else float("nan") for k, v in rows.items()}
                print(f"{concurrency:>4} {m['aiohttp']:>14.0f} {m['acked']:>8.0f} "
                      f"{m['httpx']:>12.0f} {m['run']:>11.0f} {m['run'] / m['aiohttp']:>9.2f} "
                      f"{m['run'] / m['acked']:>7.2f} "
                      f"{m['process']:>9.0f} {m['process'] / m['aiohttp']:>9.2f}  "
                      f"{dict(states)}", flush=True)
                c = {k: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v))
                     for k, v in cpu.items()}
                # The simulator shares the machine: one core at 100% acknowledges at most
                # 1 / (its CPU per acknowledged record) records a second, whatever the client.
                sim_acked = min(c["acked"][1], c["run"][1])
                ceiling = 1e6 / sim_acked
                ceilings.append(f"{concurrency:>4} {sim_acked:>10.0f} us {ceiling:>9.0f}/s "
                                f"{ceiling / m['aiohttp']:>9.2f}")
                cpu_lines.append(f"{concurrency:>4} {c['aiohttp'][0]:>12.0f} "
                                 f"{c['aiohttp'][1]:>9.0f} {c['acked'][0]:>12.0f} "
                                 f"{c['acked'][1]:>9.0f} {c['run'][0]:>12.0f} "
                                 f"{c['run'][1]:>9.0f}")
            print("CPU per record, microseconds, of the client and of the simulator (which, "
                  "with acks, also publishes two notifications per record over CometD):")
            print(f"{'conc':>4} {'bare client':>12} {'sim':>9} {'+acks client':>12} "
                  f"{'sim':>9} {'ReplayRun':>12} {'sim':>9}")
            for line in cpu_lines:
                print(line)
            print("The simulator's ceiling for any client that waits for acknowledgements: its "
                  "CPU per acknowledged record (the lower of +acks and ReplayRun), the records "
                  "a second one core at 100% gives at that cost, and that as a ratio of bare "
                  "aiohttp (the simulator cannot use more than one core; the client shares "
                  "the machine's other):")
            print(f"{'conc':>4} {'sim CPU':>13} {'at most':>10} {'x aiohttp':>9}")
            for line in ceilings:
                print(line)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print("target: ReplayRun >= 0.8x bare aiohttp at the same concurrency")


if __name__ == "__main__":
    main()
