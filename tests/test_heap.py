"""The garbage collector during a replay: what existed before the sending (the plan) is frozen
out of its full passes and the youngest generation is collected less often; afterwards the
process's settings are as they were (or stay frozen when the console had frozen them)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.app.heap import BULK_THRESHOLD, bulk_collection
from console.app.replay import ReplayRun, ReplaySettings, load_inputs
from console.app.target import TargetOptions, open_target, resolve_target
from console.sim import Simulator
from tests.cli_helpers import CALLBACK


@pytest.fixture
def clean_gc() -> Iterator[None]:
    """Each test starts unfrozen with the default thresholds, and leaves the process so."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_inside_the_block_what_existed_is_frozen_and_young_collections_are_rarer(
        clean_gc: None) -> None:
    plan = [{"job": n} for n in range(1000)]
    with bulk_collection():
        assert gc.get_freeze_count() >= len(plan)
        assert gc.get_threshold() == (BULK_THRESHOLD, 10, 10)
        made_inside = [[n] for n in range(100)]
        gc.collect()  # the block's own garbage is collected as usual
        assert gc.get_freeze_count() >= len(plan)
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == (700, 10, 10)
    assert made_inside and plan


def test_an_error_inside_still_restores_everything(clean_gc: None) -> None:
    gc.set_threshold(900, 11, 12)
    with pytest.raises(RuntimeError), bulk_collection():
        raise RuntimeError("a bug in a replay")
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == (900, 11, 12)


def test_a_freeze_made_before_stays_and_a_higher_threshold_is_kept(clean_gc: None) -> None:
    gc.freeze()  # what the console does with what its start-up built
    frozen = gc.get_freeze_count()
    gc.set_threshold(20000, 10, 10)
    with bulk_collection():
        assert gc.get_threshold() == (20000, 10, 10)
    assert gc.get_freeze_count() >= frozen > 0
    assert gc.get_threshold() == (20000, 10, 10)


def test_collection_turned_off_by_threshold_stays_off(clean_gc: None) -> None:
    gc.set_threshold(0, 10, 10)
    with bulk_collection():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold() == (0, 10, 10)


async def test_a_replay_sends_inside_the_block_and_leaves_the_collector_as_it_was(
        clean_gc: None, sim: Simulator, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    resolved = resolve_target(TargetOptions(url=sim.url, user=sim.user,
                                            journal=tmp_path / "j.jsonl"),
                              password=sim.password)
    async with await open_target(resolved, ack_timeout_s=5.0) as opened:
        run = ReplayRun(opened, load_inputs([str(CALLBACK)], count=5,
                                            sets={"phone": "5551234"}),
                        ReplaySettings(rate=100, concurrency=2, timeout_s=5.0),
                        resume_dir=tmp_path,
                        on_outcome=lambda _: seen.append((gc.get_freeze_count(),
                                                          gc.get_threshold()[0])))
        planned = [job.record for job in run.plan.jobs]
        result = await run.run()
    assert [o.state for o in result.outcomes] == ["acknowledged"] * 5
    assert len(seen) == 5
    assert all(frozen > len(planned) and young == BULK_THRESHOLD for frozen, young in seen)
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == (700, 10, 10)
