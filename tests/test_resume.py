"""Resume that works: from any folder, exactly the records not yet sent, truthful progress
after Ctrl-C, a refusal when nothing is planned, and the files rebuilt from the journal alone
after a kill -9."""

from __future__ import annotations

import asyncio
import csv
import re
import signal
from collections import Counter
from pathlib import Path

from console.sim import Simulator
from tests.cli_helpers import CALLBACK, isolated_env, journal_lines, run_bin, sim_state
from tests.helpers import eventually
from tests.test_cli_engine import BIN


def numbered_template(folder: Path) -> Path:
    """callback-mobile with the record's number in otherFields, to count records at GWS."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "numbered.yaml"
    path.write_text(CALLBACK.read_text().replace("    Created: ${now}\n",
                                                 "    Created: ${now}\n    Seq: ${seq}\n"))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


async def seqs_at(sim: Simulator) -> Counter[int]:
    records = (await sim_state(sim.url))["records"]
    return Counter(int(r["body"]["otherFields"]["Seq"]) for r in records)


async def start_replay(sim: Simulator, tmp_path: Path, cwd: Path, *args: str
                       ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        BIN, "replay", *args, "--url", sim.url, "--user", sim.user,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=isolated_env(tmp_path, sim.password), cwd=cwd)


async def test_ctrl_c_then_resume_from_another_folder_sends_exactly_the_rest(
        sim: Simulator, tmp_path: Path) -> None:
    first = tmp_path / "first"
    numbered_template(first)
    # A relative template path, run from `first`: the resume file must work from elsewhere.
    proc = await start_replay(sim, tmp_path, first, "numbered.yaml", "--count", "100", "--set",
                              "phone=5551234", "--rate", "20", "--journal", "j1.jsonl")
    await eventually(lambda: len(sim.store.records) >= 10, timeout=20)
    proc.send_signal(signal.SIGINT)
    out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 30))
    assert proc.returncode == 130, err
    sent = len(sim.store.records)
    assert 10 <= sent < 100
    # The progress tells the truth: how many were sent and how many were not.
    assert f"stopped: {sent}/100 sent, {100 - sent} not sent" in err, err
    assert "interrupted" in out and re.search(rf"not sent +{100 - sent}\b", out), out
    [resume] = first.glob("replay-*.resume.csv")
    rows = read_csv(resume)
    assert len(rows) == 100 - sent
    assert all(Path(r["_template"]).is_absolute() for r in rows)

    # From another folder, by the resume file alone (no template named).
    elsewhere = tmp_path / "elsewhere"
    code, out, err = await run_bin("replay", "--resume", str(resume), "--url", sim.url,
                                   "--user", sim.user, "--rate", "500", "--journal", "j2.jsonl",
                                   env=isolated_env(tmp_path, sim.password), cwd=elsewhere)
    assert code == 0, out + err
    seqs = await seqs_at(sim)
    assert seqs == Counter(range(1, 101))  # every record once, none twice, none lost
    assert not (await sim_state(sim.url))["store"]["duplicateReferenceIds"]


async def test_rows_of_a_resume_file_with_the_template_named(sim: Simulator,
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "a"
    template = numbered_template(folder)
    resume = folder / "x.resume.csv"
    resume.write_text(f"_template,_seq,phone\n{template},7,5550007\n{template},9,5550009\n")
    code, out, err = await run_bin("replay", str(template), "--rows", str(resume), "--url",
                                   sim.url, "--user", sim.user,
                                   env=isolated_env(tmp_path, sim.password),
                                   cwd=tmp_path / "b")
    assert code == 0, out + err
    assert await seqs_at(sim) == Counter({7: 1, 9: 1})  # ${seq} as in the first run
    # A relative _template is read relative to the resume file, not the current folder.
    resume.write_text("_template,_seq,phone\nnumbered.yaml,11,5550011\n")
    code, out, err = await run_bin("replay", "--resume", str(resume), "--url", sim.url,
                                   "--user", sim.user, env=isolated_env(tmp_path, sim.password),
                                   cwd=tmp_path / "b")
    assert code == 0, out + err
    assert (await seqs_at(sim))[11] == 1


async def test_nothing_planned_is_an_error(sim: Simulator, tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    empty = tmp_path / "empty.csv"
    empty.write_text("phone,ticket\n")
    code, _, err = await run_bin("replay", str(CALLBACK), "--rows", str(empty), "--url",
                                 sim.url, "--user", sim.user, env=env, cwd=tmp_path)
    assert code == 2 and "nothing to send" in err
    # Rows for a template that is not in the run are not silently skipped either.
    other = tmp_path / "other.csv"
    other.write_text("_template,phone\n/somewhere/else/reminder.yaml,5550001\n")
    code, _, err = await run_bin("replay", str(CALLBACK), "--rows", str(other), "--url",
                                 sim.url, "--user", sim.user, env=env, cwd=tmp_path)
    assert code == 2 and f"{other}:2: the row is for template" in err
    assert sim.store.counters["posts"] == 0


async def test_an_unconfirmed_file_is_not_resumed(sim: Simulator, tmp_path: Path) -> None:
    unconfirmed = tmp_path / "r.unconfirmed.csv"
    unconfirmed.write_text(f"_template,_seq,phone,_referenceId,_state,_reason\n"
                           f"{CALLBACK},1,5550001,abc,unknown,reset\n")
    code, _, err = await run_bin("replay", "--resume", str(unconfirmed), "--url", sim.url,
                                 "--user", sim.user, env=isolated_env(tmp_path, sim.password),
                                 cwd=tmp_path)
    assert code == 2 and "unconfirmed file" in err
    assert sim.store.counters["posts"] == 0


async def test_kill_9_then_the_journal_rebuilds_the_files(sim: Simulator,
                                                          tmp_path: Path) -> None:
    sim.set_faults({"ack_delay_ms": 300})  # some acknowledgements are still due at the kill
    run_dir = tmp_path / "run"
    template = numbered_template(run_dir)
    journal = tmp_path / "j.jsonl"
    proc = await start_replay(sim, tmp_path, run_dir, str(template), "--count", "60", "--set",
                              "phone=5551234", "--rate", "25", "--journal", str(journal))
    await eventually(lambda: len(sim.store.records) >= 12, timeout=20)
    proc.kill()
    await proc.wait()
    assert not list(run_dir.glob("replay-*.csv"))  # killed: it wrote nothing itself
    at_gws = await seqs_at(sim)

    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    code, out, err = await run_bin("replay", "--resume-from-journal", str(journal),
                                   "--resume-dir", str(rebuilt),
                                   env=isolated_env(tmp_path), cwd=tmp_path)
    assert code == 0, out + err
    [resume] = rebuilt.glob("replay-*.resume.csv")
    resume_seqs = {int(r["_seq"]) for r in read_csv(resume)}
    unconfirmed = list(rebuilt.glob("replay-*.unconfirmed.csv"))
    unsure = {int(r["_seq"]): r for f in unconfirmed for r in read_csv(f)}
    acknowledged = {int(e["row"]["_seq"]) for e in journal_lines(journal)
                    if e["kind"] == "planned"} - resume_seqs - set(unsure)
    # Every planned record is in exactly one place...
    assert len(resume_seqs) + len(unsure) + len(acknowledged) == 60
    # ...the resume file holds only records GWS never had...
    assert not resume_seqs & set(at_gws)
    # ...and whatever GWS had without a journaled acknowledgement is in the unconfirmed file
    # with its referenceId and why.
    assert set(at_gws) == acknowledged | (set(at_gws) & set(unsure))
    assert all(r["_referenceId"] and r["_reason"] for r in unsure.values())
    assert f"60 planned, {len(acknowledged) + len(unsure)} sent" in out

    # Resuming sends exactly the rest.
    code, out, err = await run_bin("replay", "--resume", str(resume), "--url", sim.url,
                                   "--user", sim.user, "--rate", "500",
                                   env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 0, out + err
    final = await seqs_at(sim)
    assert max(final.values()) == 1  # nothing twice
    assert set(final) == set(range(1, 61)) - (set(unsure) - set(at_gws))
