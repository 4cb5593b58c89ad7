"""A resume file is sent only where its records were going, and a file rebuilt from the journal
never sends a value the journal did not keep.

Found by a newcomer: `replay -p prod ...` stopped with Ctrl-C printed `replay --resume FILE`
(no target); run as printed, it went to the embedded simulator and said "14 sent, 14
acknowledged". And a column named like a credential (`passport` holds "pass") was rebuilt from
the journal as the text "[redacted]", which `--resume` would have sent to GWS."""

from __future__ import annotations

import asyncio
import csv
import signal
from pathlib import Path

from console.sim import Simulator
from tests.cli_helpers import CALLBACK, isolated_env, run_bin, write_profile
from tests.helpers import eventually
from tests.test_cli_engine import BIN


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


async def interrupted_replay(sim: Simulator, tmp_path: Path, *args: str,
                             at_least: int) -> tuple[str, str]:
    """`replay ARGS`, stopped with Ctrl-C once the simulator has `at_least` records."""
    proc = await asyncio.create_subprocess_exec(
        BIN, "replay", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    await eventually(lambda: len(sim.store.records) >= at_least, timeout=20)
    proc.send_signal(signal.SIGINT)
    out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 30))
    assert proc.returncode == 130, out + err
    return out, err


async def test_a_resume_file_goes_only_to_the_target_it_was_written_for(
        sim: Simulator, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    write_profile(profiles, "lab", sim.url, sim.user, environment="test")
    target = ("-p", "lab", "--profiles", str(profiles))
    out, _ = await interrupted_replay(sim, tmp_path, str(CALLBACK), *target, "--count", "40",
                                      "--set", "phone=5551234", "--rate", "20", at_least=5)
    [resume] = tmp_path.glob("replay-*.resume.csv")
    # The command it prints names the target...
    assert f"replay --resume {resume.name} -p lab" in out, out  # (written to the cwd)
    # ...and the file says it too.
    rows = read_csv(resume)
    assert {r["_target"] for r in rows} == {f"lab | {sim.user} | {sim.url}"}
    sent = len(sim.store.records)

    env = isolated_env(tmp_path, sim.password)
    # Run without the target (the default is the embedded simulator): refused, nothing sent
    # anywhere, saying where the records were going and the command that resumes them there.
    code, out, err = await run_bin("replay", "--resume", str(resume), env=env, cwd=tmp_path)
    assert code == 2, out + err
    assert "its records were going to profile lab" in err and sim.url in err, err
    assert f"replay --resume {resume} -p lab" in err, err
    assert "acknowledged" not in out
    # The same URL and user without the profile is another target too: the profile decides
    # the environment (and a production profile, the confirmation).
    code, _, err = await run_bin("replay", "--resume", str(resume), "--url", sim.url, "--user",
                                 sim.user, env=env, cwd=tmp_path)
    assert code == 2 and "its records were going to profile lab" in err, err
    # Given as --rows, a resume file is held to its target as well.
    code, _, err = await run_bin("replay", str(CALLBACK), "--rows", str(resume), "--url",
                                 sim.url, "--user", sim.user, env=env, cwd=tmp_path)
    assert code == 2 and "its records were going to profile lab" in err, err
    assert len(sim.store.records) == sent

    # On its own target, it sends exactly the rest.
    code, out, err = await run_bin("replay", "--resume", str(resume), *target, "--rate", "500",
                                   env=env, cwd=tmp_path)
    assert code == 0, out + err
    assert len(sim.store.records) == 40
    assert not sim.store.summary()["duplicateReferenceIds"]
    # Resumed once, the file is set aside: resumed again by mistake (a recalled command, the
    # console's dialog), it sent every record a second time.
    used = resume.with_name(resume.name + ".used")
    assert not resume.exists() and used.is_file(), out
    assert f"set aside as {used}" in out, out
    code, out, err = await run_bin("replay", "--resume", str(resume), *target, env=env,
                                   cwd=tmp_path)
    assert code == 2 and str(resume) in err, out + err
    assert len(sim.store.records) == 40


async def test_values_the_journal_redacted_are_refused_until_filled_in(
        sim: Simulator, tmp_path: Path) -> None:
    template = tmp_path / "passport.yaml"
    template.write_text(CALLBACK.read_text().replace(
        "    Created: ${now}\n", "    Created: ${now}\n    Passport: ${passport}\n"))
    rows = tmp_path / "rows.csv"
    rows.write_text("phone,passport\n" + "".join(f"55510{n:02d},X12345{n:02d}\n"
                                                 for n in range(40)))
    journal = tmp_path / "j.jsonl"
    await interrupted_replay(sim, tmp_path, str(template), "--rows", str(rows), "--url",
                             sim.url, "--user", sim.user, "--rate", "20", "--journal",
                             str(journal), at_least=5)
    sent = len(sim.store.records)
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    env = isolated_env(tmp_path, sim.password)
    code, out, err = await run_bin("replay", "--resume-from-journal", str(journal),
                                   "--resume-dir", str(rebuilt), env=env, cwd=tmp_path)
    assert code == 0, out + err
    [resume] = rebuilt.glob("replay-*.resume.csv")
    table = read_csv(resume)
    assert len(table) == 40 - sent
    # The journal keeps no value under a credential-like name: the row says which is missing.
    assert all(r["_missing"] == "passport" and r["passport"] == "[redacted]" for r in table)
    assert f"{len(table)} of those rows lack values" in out, out
    flags = ("--url", sim.url, "--user", sim.user, "--rate", "500")
    code, out, err = await run_bin("replay", "--resume", str(resume), *flags, env=env,
                                   cwd=tmp_path)
    assert code == 2, out + err
    assert f"{resume}:2: passport not known" in err, err
    assert len(sim.store.records) == sent  # "[redacted]" never reached GWS

    # Filled in from the rows file (and _missing emptied), it resumes with the real values.
    real = {f"55510{n:02d}": f"X12345{n:02d}" for n in range(40)}
    with resume.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows({**r, "passport": real[r["phone"]], "_missing": ""} for r in table)
    code, out, err = await run_bin("replay", "--resume", str(resume), *flags, env=env,
                                   cwd=tmp_path)
    assert code == 0, out + err
    passports = {r.body["phoneNumber"]: r.body["otherFields"]["Passport"]
                 for r in sim.store.records}
    assert passports == real


async def test_a_run_that_was_resumed_is_not_rebuilt_as_if_its_rest_were_never_sent(
        sim: Simulator, tmp_path: Path) -> None:
    """Found by a newcomer: `--resume-from-journal J --run FIRST` after FIRST had been resumed
    offered FIRST's unsent records again as "GWS never had them, safe to send again", though
    the resuming run had sent them."""
    journal = tmp_path / "j.jsonl"
    flags = ("--url", sim.url, "--user", sim.user, "--journal", str(journal))
    await interrupted_replay(sim, tmp_path, str(CALLBACK), "--count", "30", "--set",
                             "phone=5551234", "--rate", "20", *flags, at_least=5)
    [resume] = tmp_path.glob("replay-*.resume.csv")
    first = resume.name.removeprefix("replay-").removesuffix(".resume.csv")
    env = isolated_env(tmp_path, sim.password)
    code, out, err = await run_bin("replay", "--resume", str(resume), "--rate", "500", *flags,
                                   env=env, cwd=tmp_path)
    assert code == 0 and len(sim.store.records) == 30, out + err
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    code, out, err = await run_bin("replay", "--resume-from-journal", str(journal), "--run",
                                   first, "--resume-dir", str(rebuilt), env=env, cwd=tmp_path)
    assert code == 2, out + err
    assert f"replay {first} was resumed by replay " in err and "--run" in err, err
    assert not list(rebuilt.iterdir())  # nothing offered to send again
