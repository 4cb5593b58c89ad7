"""Hostile input through the installed binary: secrets never expand or print, bodies stay strict
JSON, bad profiles / files / values end in a clear message and an exit code, never a traceback.

Every run gets its own HOME / XDG dirs / OUTBOUND_CONSOLE_HOME under tmp_path, so the journal
and anything else the console writes can be searched for the secret afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import with_set

BIN = str(Path(sys.executable).with_name("outbound-console")) if Path(sys.executable).with_name(
    "outbound-console").exists() else (shutil.which("outbound-console") or "outbound-console")
SECRET = "Zq8-not-for-journals-41"
TEMPLATE = """schema: 1
name: leak
request:
  applicationId: 134
  campaignName: Campaign1
  callingList: CallingList1
  phoneNumber: ${phone}
  timeZone: GMT
  phoneType: Mobile
  from: "08:00"
  until: "20:00"
  otherFields:
    Note: "${env:VARIABLE}"
defaults:
  phone: "5551234"
"""
RECORD = ["--set", "applicationId=134", "--set", "campaignName=Campaign1", "--set",
          "callingList=CallingList1", "--set", "phoneNumber=5551234", "--set", "timeZone=GMT",
          "--set", "phoneType=Mobile", "--set", "from=08:00", "--set", "until=20:00"]


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    isolated = {k: v for k, v in os.environ.items()
                if not k.startswith(("OUTBOUND_CONSOLE", "XDG_"))}
    isolated.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                    XDG_STATE_HOME=str(home / ".state"), XDG_DATA_HOME=str(home / ".data"),
                    XDG_CACHE_HOME=str(home / ".cache"),
                    OUTBOUND_CONSOLE_HOME=str(tmp_path / "console-home"), **(env or {}))
    return subprocess.run([BIN, *args], cwd=tmp_path, env=isolated, capture_output=True,
                          text=True, timeout=timeout)


def written_anywhere(tmp_path: Path, secret: str) -> list[Path]:
    """Every file under tmp_path (journal, state, config...) that holds `secret`."""
    return [p for p in tmp_path.rglob("*") if p.is_file()
            and secret.encode() in p.read_bytes()]


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]


@pytest.mark.parametrize("variable", ["OUTBOUND_CONSOLE_PASSWORD", "OUTBOUND_CONSOLE_SIM_PASSWORD",
                                      "GWS_EU_PASSWORD"])
def test_replay_dry_run_refuses_a_secret_variable_and_never_prints_it(
        tmp_path: Path, variable: str) -> None:
    template = tmp_path / "leak.yaml"
    template.write_text(TEMPLATE.replace("VARIABLE", variable))
    proc = run(tmp_path, "replay", str(template), "--dry-run", "--count", "2",
               env={variable: SECRET})
    no_traceback(proc)
    assert proc.returncode == 2, proc.stderr
    assert f"leak.yaml:13:5: ${{env:{variable}}} is not expanded" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert written_anywhere(tmp_path, SECRET) == []


def test_send_template_refuses_the_password_and_it_reaches_no_output_and_no_journal(
        tmp_path: Path) -> None:
    template = tmp_path / "leak.yaml"
    template.write_text(TEMPLATE.replace("VARIABLE", "OUTBOUND_CONSOLE_PASSWORD"))
    journal = tmp_path / "journal.jsonl"
    for extra in ([], ["--json"]):
        proc = run(tmp_path, "send", "--template", str(template), "--journal", str(journal),
                   *extra, env={"OUTBOUND_CONSOLE_PASSWORD": SECRET})
        no_traceback(proc)
        assert proc.returncode == 2, proc.stderr
        assert "${env:OUTBOUND_CONSOLE_PASSWORD} is not expanded" in proc.stdout + proc.stderr
        assert SECRET not in proc.stdout + proc.stderr
    assert written_anywhere(tmp_path, SECRET) == []


def test_send_refuses_the_variable_a_chosen_profile_reads_its_password_from(
        tmp_path: Path) -> None:
    profiles = tmp_path / "console-home" / "profiles"
    profiles.mkdir(parents=True)
    # Nothing in the name says "secret": only the profile does.
    (profiles / "eu.yaml").write_text("url: https://127.0.0.1:9\nusername: agent\n"
                                      "password_from: env:EU_GWS\n")
    template = tmp_path / "leak.yaml"
    template.write_text(TEMPLATE.replace("VARIABLE", "EU_GWS"))
    proc = run(tmp_path, "send", "--profile", "eu", "--template", str(template),
               env={"EU_GWS": SECRET})
    no_traceback(proc)
    assert proc.returncode == 2, proc.stderr
    assert "${env:EU_GWS} is not expanded: a profile reads its GWS password from it" in \
        proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert written_anywhere(tmp_path, SECRET) == []


@pytest.mark.parametrize(("value", "words"), [
    ('otherFields={"a": NaN}', "a: a finite number or text (nan is not a number JSON can carry)"),
    ('otherFields={"a": -Infinity}', "a: a finite number or text (-inf"),
    ('otherFields={"a": "\\ud800"}', "half a UTF-16 surrogate pair"),
    ('otherFields={"\\udfff": 1}', "half a UTF-16 surrogate pair"),
    ("applicationId=18446744073709551616", "applicationId: got '18446744073709551616'; expected "
                                           "an integer 0..2147483647"),
    ("chainId=2147483648", "chainId: got '2147483648'; expected an integer 0..2147483647"),
])
def test_send_refuses_what_gws_cannot_carry_with_exit_2(tmp_path: Path, value: str,
                                                         words: str) -> None:
    journal = tmp_path / "journal.jsonl"
    proc = run(tmp_path, "send", *with_set(RECORD, value), "--journal", str(journal))
    no_traceback(proc)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    # Nothing was POSTed, and the journal, if any, is valid JSON lines.
    lines = journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []
    assert all('"kind": "request"' not in line for line in lines)


def test_replay_dry_run_bodies_are_strict_json(tmp_path: Path) -> None:
    template = tmp_path / "nan.yaml"
    template.write_text(TEMPLATE.replace('"${env:VARIABLE}"', ".nan"))
    proc = run(tmp_path, "replay", str(template), "--dry-run")
    no_traceback(proc)
    assert proc.returncode == 2 and "nan.yaml:12:3: otherFields" in proc.stderr
    assert "NaN" not in proc.stdout


@pytest.mark.parametrize(("tls", "words"), [
    ("{ca_bundle: /nonexistent.pem}", "tls.ca_bundle: /nonexistent.pem: cannot read"),
    ("{ca_bundle: notes.txt}", "is not a PEM file of CA certificates"),
    ("{client_cert: notes.txt}", "is not a PEM file holding the client certificate"),
])
def test_a_bad_tls_file_is_a_profile_error_not_a_traceback(tmp_path: Path, tls: str,
                                                           words: str) -> None:
    profiles = tmp_path / "console-home" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "notes.txt").write_text("not a certificate\n")
    (profiles / "bad.yaml").write_text(f"url: https://127.0.0.1:9\nusername: agent\ntls: {tls}\n")
    send = run(tmp_path, "send", "--profile", "bad", *RECORD, "--no-wait",
               env={"OUTBOUND_CONSOLE_PASSWORD": SECRET})
    listed = run(tmp_path, "profiles", "list")
    for proc in (send, listed):
        no_traceback(proc)
        assert "bad.yaml:3" in proc.stdout + proc.stderr and words in proc.stdout + proc.stderr
    assert send.returncode == 6


@pytest.mark.parametrize("timeout", [".nan", ".inf", "1.0e+308"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_refused(tmp_path: Path,
                                                              timeout: str) -> None:
    profiles = tmp_path / "console-home" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "bad.yaml").write_text(f"url: https://127.0.0.1:9\ntimeout: {timeout}\n")
    proc = run(tmp_path, "send", "--profile", "bad", *RECORD, "--no-wait",
               env={"OUTBOUND_CONSOLE_PASSWORD": SECRET})
    no_traceback(proc)
    assert proc.returncode == 6 and "bad.yaml:2: timeout must be a number of seconds" in proc.stderr


def test_deep_duplicate_and_huge_files_end_in_exit_2(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(TEMPLATE.replace('"${env:VARIABLE}"', "[" * 100_000 + "]" * 100_000))
    twice = tmp_path / "twice.yaml"
    twice.write_text(TEMPLATE.replace("  timeZone: GMT\n", "  timeZone: GMT\n  timeZone: PST\n"))
    huge = tmp_path / "huge.yaml"
    huge.write_text(TEMPLATE + "description: |\n" + ("  " + "x" * 98 + "\n") * 300_000)
    rows = tmp_path / "rows.csv"
    rows.write_text("phone\n" + "5551234\n" * 100_001)
    cases = [(deep, [], "deep.yaml:13:1"), (twice, [], "twice.yaml:9:3: duplicate key 'timeZone' "
                                                        "(first on line 8)"),
             (huge, [], "huge.yaml: 28.9 MB is too big for a template"),
             (tmp_path / "ok.yaml", ["--rows", str(rows)], "more than 100,000 rows")]
    (tmp_path / "ok.yaml").write_text(TEMPLATE.replace('"${env:VARIABLE}"', "ok"))
    for template, extra, words in cases:
        proc = run(tmp_path, "replay", str(template), *extra, "--dry-run")
        no_traceback(proc)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr[-2000:]
