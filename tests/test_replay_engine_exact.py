"""console/app/replay_engine.py to the letter, for what its targeted tests left unchecked:
an outcome's JSON row, which outcomes are safe to re-send, and the plan (order, numbers,
values, every problem in its words). Written from the survivors of `tools/mutate.py
console/app/replay_engine.py` (README "Testing")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.app.replay_engine import Job, Outcome, make_plan
from console.domain.rows import Row
from console.domain.templates import Template

DEVICE = "/devices/d1"


def _template(name: str = "t", **request: object) -> Template:
    base: dict[str, object] = {
        "applicationId": 134, "campaignName": "C", "callingList": "L",
        "phoneNumber": "${phone}", "timeZone": "GMT", "phoneType": "Mobile",
        "from": "08:00", "until": "20:00", "otherFields": {"N": "${seq}"}}
    base.update(request)
    return Template(name=name, request=base, defaults={"phone": "5550000"})


def _row(line: int, path: Path | None = None, **values: Any) -> Row:
    row = Row(values)
    row.line, row.path = line, path
    return row


# -- an outcome as a JSON row ---------------------------------------------------------------
def test_an_outcome_row_has_every_column_rounded_and_the_ocs_error() -> None:
    job = Job(3, _template(), {}, source="rows.csv:4")
    job.record = job.template.build({}, 3, DEVICE)
    outcome = Outcome(job, "failed", "refused by OCS", latency_ms=12.345, http_status=200,
                      ocs_error=("Campaign not found", 102))
    assert outcome.as_json() == {
        "seq": 3, "template": "t", "referenceId": job.record.reference_id, "state": "failed",
        "reason": "refused by OCS", "latencyMs": 12.3, "httpStatus": 200,
        "source": "rows.csv:4",
        "ocsError": {"GSW_ERROR": "Campaign not found", "GSW_ERROR_NUMBER": 102}}


def test_an_outcome_without_record_latency_or_source_says_null() -> None:
    row = Outcome(Job(1, _template(), {}), "invalid", "bad").as_json()
    assert (row["referenceId"], row["latencyMs"], row["source"]) == (None, None, None)
    assert "ocsError" not in row


@pytest.mark.parametrize("state, accepted, safe", [
    ("not_sent", False, True), ("not_delivered", False, True), ("failed", False, True),
    ("failed", True, False), ("unknown", True, False), ("no_answer", True, False),
    ("unconfirmed", True, False), ("acknowledged", True, False), ("invalid", False, False)])
def test_only_what_gws_surely_never_had_is_safe_to_resend(state: str, accepted: bool,
                                                           safe: bool) -> None:
    outcome = Outcome(Job(1, _template(), {}), state, accepted=accepted)  # type: ignore[arg-type]
    assert outcome.safe_to_resend is safe


# -- the plan ---------------------------------------------------------------------------------
def test_count_records_per_template_in_order_numbered_from_one() -> None:
    plan = make_plan([_template("a"), _template("b")], None, 3, {}, DEVICE)
    assert plan.ok and plan.problems == []
    assert [(j.seq, j.template.name) for j in plan.jobs] == [
        (1, "a"), (2, "a"), (3, "a"), (4, "b"), (5, "b"), (6, "b")]
    assert [j.record.other_fields for j in plan.jobs if j.record] == [
        {"N": str(n)} for n in range(1, 7)]
    assert all(j.record is not None and j.record.device_path == DEVICE for j in plan.jobs)


def test_an_unused_set_is_named_with_the_templates_and_a_suggestion() -> None:
    plan = make_plan([_template("a"), _template("b")], None, 1, {"phnoe": "1"}, DEVICE)
    assert plan.problems == ["--set 'phnoe' (did you mean 'phone'?) is used by no placeholder "
                             "of template a, b and is no AddRecord field"]
    assert not plan.ok


def test_a_set_value_wins_over_the_rows_and_meta_columns_are_not_values(tmp_path: Path) -> None:
    rows = [_row(2, tmp_path / "r.csv", phone="5551111", _seq="", _state="unknown"),
            _row(3, tmp_path / "r.csv", phone="5552222")]
    plan = make_plan([_template()], rows, 99, {"campaignName": "Override"}, DEVICE)
    assert plan.ok, plan.problems
    assert [j.values for j in plan.jobs] == [
        {"phone": "5551111", "campaignName": "Override"},
        {"phone": "5552222", "campaignName": "Override"}]
    assert [j.source for j in plan.jobs] == [f"{tmp_path / 'r.csv'}:2", f"{tmp_path / 'r.csv'}:3"]
    assert [j.record.phone_number for j in plan.jobs if j.record] == ["5551111", "5552222"]


def test_a_resume_rows_seq_is_its_number_for_the_seq_placeholder() -> None:
    plan = make_plan([_template()], [_row(2, _seq="7"), _row(3, _seq=" 9 ")], 1, {}, DEVICE)
    assert plan.ok, plan.problems
    assert [(j.seq, j.number) for j in plan.jobs] == [(1, 7), (2, 9)]
    assert [j.record.other_fields for j in plan.jobs if j.record] == [{"N": "7"}, {"N": "9"}]


@pytest.mark.parametrize("raw", ["x", "0", "-1", "1.5"])
def test_a_bad_seq_is_a_problem_naming_its_row(raw: str) -> None:
    plan = make_plan([_template()], [_row(5, _seq=raw)], 1, {}, DEVICE)
    assert plan.problems == [f"rows:5: _seq must be a record number (1, 2...), got {raw!r}"]


def test_an_invalid_record_names_its_row_the_field_and_the_template() -> None:
    plan = make_plan([_template("tpl")], [_row(4, phone="not a number")], 1, {}, DEVICE)
    [job] = plan.jobs
    assert job.record is None
    assert job.error.startswith("rows:4: phoneNumber: got 'not a number'; ")
    assert job.error.endswith(" (template tpl)")
    assert plan.problems == [job.error]


def test_an_invalid_record_without_rows_names_the_template_file() -> None:
    template = Template(name="tpl", request=_template().request, path=Path("/x/tpl.yaml"),
                        defaults={"phone": "not a number"})
    [job] = make_plan([template], None, 1, {}, DEVICE).jobs
    assert job.error.startswith("/x/tpl.yaml: phoneNumber: got 'not a number'")


def test_a_placeholder_without_value_names_its_row() -> None:
    template = _template(campaignName="${campaign}")
    plan = make_plan([template], [_row(6, phone="5551234")], 1, {}, DEVICE)
    [job] = plan.jobs
    assert job.record is None and job.error.startswith("rows:6: ")
    assert "campaign" in job.error
    without_rows = make_plan([template], None, 1, {}, DEVICE).jobs[0]
    assert without_rows.error and not without_rows.error.startswith("rows")
