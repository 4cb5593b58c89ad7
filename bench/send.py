"""Benchmark: what one record costs a person who types `outbound-console send`, as a whole
process, against the same request made with curl — and what `--help` costs against importing
click alone. Everything in the same run, alternating subject and baseline.

    python bench/send.py [--runs N]

A simulator runs in its own process on loopback. The rows:
- `curl GET+POST`: one shell running `curl GET /api/v2/me` (cookie + CSRF pair) then
  `curl POST /api/v2/me/outbound-records` with the same body `send` posts; no CometD, so it is
  the floor of the HTTP part, not of the acknowledgement.
- `send --no-wait`: the whole `outbound-console send` process up to the HTTP reply.
- `send`: the whole process until the CometD acknowledgement arrived (what `send` is for).
- `python -c "import click"` vs `outbound-console --help`.
Targets (issue 15): send <= 10x curl GET+POST; --help <= 2x `import click`. The send ratio is
given twice: of the medians, and as the median of each round's own ratio (send / the curl run
just before it), which a shared machine's drifting load moves less.
Also prints the ten slowest imports of `send` (python -X importtime), and the import time per
package (each module's own time, summed), to show where time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._compiled import ensure_bytecode  # noqa: E402
from bench._process import installed_binary  # noqa: E402
from bench._process import start_simulator as run_simulator  # noqa: E402

PASSWORD = "bench-password"
FIELDS = {"applicationId": "134", "campaignName": "Campaign1", "callingList": "CallingList1",
          "phoneNumber": "5551234", "timeZone": "GMT", "phoneType": "Mobile", "from": "08:00",
          "until": "20:00"}


#: The console command measured (`--command`: e.g. another checkout's, to compare).
COMMAND: list[str] = []


def binary() -> str:
    return COMMAND[0] if COMMAND else installed_binary()


def start_simulator(home: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "OUTBOUND_CONSOLE_SIM_PASSWORD": PASSWORD, "HOME": home}
    return run_simulator([binary()], env)


def timed(command: list[str], env: dict[str, str], expect: int = 0) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != expect:
        sys.exit(f"{' '.join(command[:3])}... exited {done.returncode}: {done.stderr[-400:]}")
    return elapsed


def curl_script(url: str, jar: str) -> list[str]:
    import json

    body = {**FIELDS, "applicationId": 134, "from": 28800, "until": 72000,
            "devicePath": "/devices/4d72a6b5-ee96-4e1f-b09b-5c3f979d82b7",
            "operationName": "AddRecord", "referenceId": "curl-bench"}
    script = (
        f"TOKEN=$(curl -s -u demo:{PASSWORD} -c {jar} -D - -o /dev/null {url}/api/v2/me "
        "| tr -d '\\r' | awk -F': ' 'tolower($1)==\"x-csrf-token\"{print $2}') && "
        f"curl -s -f -u demo:{PASSWORD} -b {jar} -H \"X-CSRF-TOKEN: $TOKEN\" "
        f"-H 'Content-Type: application/json' -d '{json.dumps(body)}' -o /dev/null "
        f"{url}/api/v2/me/outbound-records")
    return ["sh", "-c", script]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--command", help="the console command to measure (default: the "
                        "installed outbound-console)")
    args = parser.parse_args()
    if args.command:
        COMMAND.append(args.command)
    if shutil.which("curl") is None:
        sys.exit("curl is needed for the baseline")
    ensure_bytecode()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "XDG_STATE_HOME": f"{home}/state",
               "XDG_CONFIG_HOME": f"{home}/config", "OUTBOUND_CONSOLE_PASSWORD": PASSWORD,
               "OUTBOUND_CONSOLE_HOME": home}
        proc, url = start_simulator(home)
        try:
            sets = [a for k, v in FIELDS.items() for a in ("--set", f"{k}={v}")]
            send = [binary(), "send", "--url", url, "--user", "demo",
                    "--journal", f"{home}/journal.jsonl", *sets]
            rows: dict[str, list[float]] = {"curl GET+POST": [], "send --no-wait": [],
                                            "send": [], "python -c 'import click'": [],
                                            "outbound-console --help": []}
            for _ in range(args.runs):  # alternate, so load drifts hit all rows alike
                rows["curl GET+POST"].append(timed(curl_script(url, f"{home}/jar"), env))
                rows["send --no-wait"].append(timed([*send, "--no-wait"], env))
                rows["send"].append(timed(send, env))
                rows["python -c 'import click'"].append(
                    timed([sys.executable, "-c", "import click"], env))
                rows["outbound-console --help"].append(timed([binary(), "--help"], env))
            median = {name: statistics.median(times) * 1000 for name, times in rows.items()}
            print(f"medians of {args.runs} runs, whole processes, simulator on loopback")
            for name, ms in median.items():
                print(f"  {name:<28} {ms:8.1f} ms")
            print(f"send          x{median['send'] / median['curl GET+POST']:.1f} of curl "
                  "GET+POST (target <= 10)")
            # Each round's send beside the curl run just before it: load that drifts between
            # rounds (a shared machine) moves both alike.
            paired = statistics.median(s / c for s, c in zip(rows["send"], rows["curl GET+POST"]))
            print(f"              x{paired:.1f} as the median of the {args.runs} rounds' own "
                  "ratios")
            print(f"send --no-wait x{median['send --no-wait'] / median['curl GET+POST']:.1f} "
                  "of curl GET+POST")
            click_ms = median["python -c 'import click'"]
            print(f"--help        x{median['outbound-console --help'] / click_ms:.1f} "
                  "of import click (target <= 2)")
            trace = subprocess.run([sys.executable, "-X", "importtime", binary(), *send[1:],
                                    "--no-wait"], env=env, capture_output=True, text=True)
            imports = []
            by_package: dict[str, int] = {}
            for line in trace.stderr.splitlines():
                if line.startswith("import time:") and "|" in line:
                    own, cumulative, name = (part.strip() for part in line[12:].split("|"))
                    if cumulative.isdigit() and "." not in name:
                        imports.append((int(cumulative), name))
                    if own.isdigit():  # each module's own time, once: the packages add up
                        package = name.strip().split(".")[0]
                        by_package[package] = by_package.get(package, 0) + int(own)
            print("slowest top-level imports of `send --no-wait` (cumulative):")
            for micros, name in sorted(imports, reverse=True)[:10]:
                print(f"  {micros / 1000:7.1f} ms  {name}")
            # Cumulative figures hide what is imported later inside a function (anyio, when
            # httpcore makes its first request) and count a package under whoever imported it
            # first; the modules' own times summed per package do neither.
            print(f"import time by package (own time of its modules, summed; all imports "
                  f"{sum(by_package.values()) / 1000:.1f} ms under -X importtime):")
            for package, micros in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
                print(f"  {micros / 1000:7.1f} ms  {package}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
