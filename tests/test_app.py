"""The application layer as a skin (the TUI, a notebook) drives it: resolve and open a target,
run a replay with confirmation, stop it, get the partial verdict and the files, list it in
history."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from pathlib import Path

import pytest

from console.api import connect
from console.app.history import History
from console.app.replay import (
    NotConfirmed,
    ReplayInputError,
    ReplayProgress,
    ReplayRun,
    ReplaySettings,
    load_inputs,
)
from console.app.target import (
    OptionConflict,
    TargetOptions,
    open_target,
    resolve_target,
)
from console.domain.history import ReplayEntry, read_journal_history
from console.errors import ProfileError
from console.sim import Simulator
from tests.cli_helpers import CALLBACK, journal_lines, write_profile
from tests.helpers import eventually


def options(sim: Simulator, tmp_path: Path) -> TargetOptions:
    return TargetOptions(url=sim.url, user=sim.user, journal=tmp_path / "j.jsonl")


async def test_the_progress_counts_a_record_sent_before_its_acknowledgement(
        sim: Simulator, tmp_path: Path) -> None:
    """Found in the console: with slow acknowledgements it said "0/50 sent" while GWS had 27,
    and after a stop called them "not sent" (`sent` was counted at each verdict)."""
    sim.set_faults({"ack_delay_ms": 3000})
    resolved = resolve_target(options(sim, tmp_path), password=sim.password)
    seen: list[int] = []
    async with await open_target(resolved, ack_timeout_s=10.0) as opened:
        run = ReplayRun(opened, load_inputs([str(CALLBACK)], count=20,
                                            sets={"phone": "5551234"}),
                        ReplaySettings(rate=500, concurrency=4, timeout_s=10.0),
                        resume_dir=tmp_path, on_progress=lambda p: seen.append(p.sent))
        task = asyncio.create_task(run.run())
        await eventually(lambda: sim.store.counters["posts"] >= 4, timeout=10)
        at_gws = sim.store.counters["posts"]
        assert not run.progress.counts  # no verdict yet...
        assert run.progress.sent >= at_gws  # ...but what left is counted as sent
        assert seen and max(seen) >= at_gws  # and a progress bar was told
        assert run.progress.line().startswith(f"{run.progress.sent}/20 sent")
        run.stop()
        result = await task
    assert result.progress.sent == sim.store.counters["posts"]


async def test_a_replay_stopped_half_way_gives_a_partial_verdict_files_and_history(
        sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults({"ack_delay_ms": 100})
    resolved = resolve_target(options(sim, tmp_path), password=sim.password)
    history = History()
    seen: list[ReplayProgress] = []
    async with await open_target(resolved, ack_timeout_s=2.0) as opened:
        run = ReplayRun(opened, load_inputs([str(CALLBACK)], count=40,
                                            sets={"phone": "5551234"}),
                        ReplaySettings(rate=20, concurrency=2, timeout_s=2.0),
                        resume_dir=tmp_path, on_progress=seen.append)
        assert run.confirmation() is None  # not production
        entry = history.replay_started(run)
        task = asyncio.create_task(run.run())
        await eventually(lambda: run.progress.sent >= 8, timeout=10)
        run.stop()  # what a stop key does
        result = await task
        history.replay_done(entry, result)
    assert result.stopped and result.worst() == "stopped"
    sent = len(sim.store.records)
    assert result.progress.sent == sent and result.progress.not_sent == 40 - sent
    assert result.progress.line().startswith(f"stopped: {sent}/40 sent, {40 - sent} not sent")
    states = Counter(o.state for o in result.outcomes)
    assert states["not_sent"] == 40 - sent
    assert states["acknowledged"] + states["unconfirmed"] == sent
    assert seen and seen[-1].sent == sent
    assert result.resume_file is not None
    with result.resume_file.open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 40 - sent
    # Every request in the journal has a verdict, stopped or not; every line names the target.
    lines = journal_lines(tmp_path / "j.jsonl")
    requests = {e["body"]["referenceId"] for e in lines if e["kind"] == "request"}
    verdicts = {e["referenceId"] for e in lines if e["kind"] == "verdict"}
    assert requests == verdicts and len(requests) == sent
    assert all(e["target"]["url"] == sim.url for e in lines)
    # History: one entry for the whole replay, here and read back from the journal.
    assert isinstance(entry, ReplayEntry) and entry.state == "stopped"
    assert entry.sent == sent and entry.files == [str(result.resume_file)] + (
        [str(result.unconfirmed_file)] if result.unconfirmed_file else [])
    [back] = read_journal_history(tmp_path / "j.jsonl")
    assert isinstance(back, ReplayEntry) and back.run_id == result.run_id
    assert back.state == "stopped" and back.sent == sent and back.planned == 40
    assert "replay 40 (callback-mobile)" in back.label()


async def test_production_needs_confirmation_before_anything_is_sent(
        sim: Simulator, tmp_path: Path) -> None:
    write_profile(tmp_path / "dir", "prod", sim.url, sim.user, environment="prod")
    resolved = resolve_target(TargetOptions(profile="prod", profiles_dir=tmp_path / "dir",
                                            journal=tmp_path / "j.jsonl"),
                              password=sim.password)
    assert resolved.target.production and resolved.target.marker == "PRODUCTION"
    async with await open_target(resolved) as opened:
        run = ReplayRun(opened, load_inputs([str(CALLBACK)], count=2,
                                            sets={"phone": "5551234"}), resume_dir=tmp_path)
        question = run.confirmation()
        assert question is not None and question.records == 2
        assert sim.url in question.question() and sim.user in question.question()
        with pytest.raises(NotConfirmed):
            await run.run()
        assert sim.store.counters["posts"] == 0
        result = await run.run(confirmed=True)
    assert result.worst() == "acknowledged" and len(sim.store.records) == 2


async def test_a_plan_with_problems_sends_nothing(sim: Simulator, tmp_path: Path) -> None:
    resolved = resolve_target(options(sim, tmp_path), password=sim.password)
    async with await open_target(resolved) as opened:
        run = ReplayRun(opened, load_inputs([str(CALLBACK)], count=2,
                                            sets={"phone": "5551234", "tickt": "x"}),
                        resume_dir=tmp_path)
        assert not run.plan.ok and "did you mean 'ticket'" in run.plan.problems[0]
        with pytest.raises(ReplayInputError, match="nothing sent"):
            await run.run(confirmed=True)
    assert sim.store.counters["posts"] == 0


def test_target_resolution_problems(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no profile named 'nope'"):
        resolve_target(TargetOptions(profile="nope", profiles_dir=tmp_path))
    with pytest.raises(ProfileError, match="no GWS user"):
        resolve_target(TargetOptions(url="http://127.0.0.1:9"), password="x")
    with pytest.raises(OptionConflict, match="--user is given before"):
        TargetOptions(user="a").merged(TargetOptions(user="b"))
    same = TargetOptions(journal=tmp_path / "j").merged(TargetOptions(journal=tmp_path / "j"))
    assert same.journal == tmp_path / "j"


async def test_the_notebook_api_opens_its_target_like_the_cli(tmp_path: Path) -> None:
    engine = await connect(journal=tmp_path / "n.jsonl")
    try:
        tracked = await engine.send({"applicationId": 134, "campaignName": "Campaign1",
                                     "callingList": "CallingList1", "phoneNumber": "5551234",
                                     "timeZone": "GMT", "phoneType": "Mobile",
                                     "from": "08:00", "until": "20:00"})
        await engine.wait(tracked)
        assert tracked.state == "acknowledged"
    finally:
        await engine.close()
    lines = journal_lines(tmp_path / "n.jsonl")
    assert {e["target"]["simulator"] for e in lines} == {True}
    assert {e["target"]["profile"] for e in lines} == {"demo"}


async def test_a_resume_file_for_another_target_is_a_plan_problem_for_every_skin(
        sim: Simulator, tmp_path: Path) -> None:
    """The console and a notebook resume through ReplayRun: a resume file written for another
    target is refused there too, before anything is sent."""
    resume = tmp_path / "replay-x.resume.csv"
    resume.write_text(f"_target,_template,_seq,phone\n"
                      f"prod | agent7 | https://gws.example.com:8090,{CALLBACK},1,5550001\n")
    resolved = resolve_target(options(sim, tmp_path), password=sim.password)
    async with await open_target(resolved) as opened:
        run = ReplayRun(opened, load_inputs(resume=resume), resume_dir=tmp_path)
        assert not run.plan.ok
        assert run.plan.problems[0].startswith(
            f"{resume}: its records were going to profile prod, user agent7, "
            "https://gws.example.com:8090; this replay goes to profile (flags)")
        assert f"replay --resume {resume} -p prod" in run.plan.problems[0]
        with pytest.raises(ReplayInputError):
            await run.run()
    assert sim.store.counters["posts"] == 0
