"""Run manifests read back and audited (engine/runs/audit.py and records.py, the `qam runs` and `qam audit`
commands): an untouched weekly or PEEL run re-derives byte for byte, later submissions are left out by
the data cut-off, a hand-edited score is caught (exit 4), and a scoring run's versions and scores are
checked."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from engine import api
from engine.core.errors import StorageError, UsageError
from engine.core.hashing import hash_days
from engine.core.periods import parse_week
from engine.demo.factories import build_row
from engine.demo.incidents import generate_incidents, incidents_csv
from engine.runs.gather import gather
from engine.store import assessments
from engine.store import db as dbm
from engine.store.db import CaseScore, Run
from tests.runs.world import SS_FILE, SUBMITTED_AT, WEEK, World, edit_ss03, qam, sqlite_only, stop_search


def statuses(report: Any) -> dict[str, str]:
    return {f.name: f.status for f in report.files}


# --------------------------------------------------------------------------- audit


def test_an_untouched_run_re_derives_byte_for_byte(world: World) -> None:
    run_id = world.weekly()
    report = world.audit(run_id[:8])
    assert report.run_id == run_id and report.derived_run_id == run_id
    assert statuses(report) == dict.fromkeys(
        (
            "BLK.pdf",
            "BLK-cases.csv",
            "aggregates.csv",
            "coverage.csv",
            "exceptions.json",
            "force.pdf",
            "incident_metrics.csv",
        ),
        "match",
    )
    assert all(i.ok for i in report.inputs) and report.inputs[0].rows == 27
    assert report.scores_checked == 27 and not report.score_mismatches and not report.registry_problems
    assert report.ok and report.summary.startswith("OK: all 7 output files")


def test_later_submissions_and_amendments_are_left_out_by_the_cut_off(world: World) -> None:
    run_id = world.weekly()
    late = SUBMITTED_AT.replace(year=2030)  # after the run's first execution, whatever today is
    amended = build_row(
        "stop_search", case_date="2026-11-16", assess_delay=2, place="CRN", grounds_missing=True
    )
    with world.database.session() as session:
        first = assessments.list_assessments(session, place="CRN")[0]
    amended |= {"assessment_id": first.assessment_id, "case_ref": first.case_ref}
    world.submit([amended], at=late, amend=True)
    world.submit(stop_search(1, place="BLK", no_bwv=True), at=late)
    api.score(world.settings)  # both are scored, so today's data would read them

    report = world.audit(run_id)

    assert report.ok, report.summary
    assert (report.changes.assessments_added, report.changes.assessments_amended) == (1, 1)
    assert "1 assessment added and 1 amended" in report.changes_line()
    # without the cut-off the same read sees today's data, which no longer hashes as the run recorded
    with world.database.session() as session:
        recorded = session.get(Run, run_id).manifest["inputs"]["assessments"]  # type: ignore[union-attr]
    context = api._context(world.database, world.settings, draft=False)
    period = parse_week(WEEK)
    today = gather(
        world.database, context, history_from=period.start - dt.timedelta(weeks=104), period=period
    )
    assert hash_days(today.assessment_inputs.items()) != recorded


def test_a_hand_edited_stored_score_is_reported(world: World) -> None:
    run_id = world.weekly()
    with world.database.session() as session:
        victim = assessments.list_assessments(session, place="DLW")[0]
        score = session.scalars(
            select(CaseScore).join(dbm.Assessment, dbm.Assessment.pk == CaseScore.assessment_pk)
            .where(dbm.Assessment.assessment_id == victim.assessment_id)
        ).one()  # fmt: skip
        outcomes = dict(score.outcomes)
    assert outcomes["SS03"] == "pass"
    world.sql(
        "UPDATE case_scores SET outcomes = :o WHERE pk = :pk",
        o=json.dumps(outcomes | {"SS03": "fail"}),
        pk=score.pk,
    )

    report = world.audit(run_id)

    assert not report.ok
    assert statuses(report)["aggregates.csv"] == "DIFFERS"
    assert [(m.assessment_id, m.criterion, m.stored, m.rescored) for m in report.score_mismatches] == [
        (victim.assessment_id, "SS03", "fail", "pass")
    ]
    assert report.summary.startswith("FAILED: 1 of 7 output files differ; 1 stored score outcome altered")


def test_a_why_trace_worded_differently_is_a_note_not_an_altered_score(world: World) -> None:
    """Traces are worded by the QAM version that scored them: after an upgrade rewords them, an
    audit of an earlier run must not report every failing case as tampered with."""
    run_id = world.weekly()
    with world.database.session() as session:
        score = next(s for s in session.scalars(select(CaseScore).order_by(CaseScore.pk)) if s.traces)
        traces = {c: ["worded by an earlier version"] for c in score.traces}
    world.sql("UPDATE case_scores SET traces = :t WHERE pk = :pk", t=json.dumps(traces), pk=score.pk)

    report = world.audit(run_id)

    assert report.score_mismatches == ()
    assert any(
        f"{len(traces)} failing outcome" in note and "worded differently" in note for note in report.notes
    )


def test_a_ruleset_version_edited_in_the_registry_stops_the_audit(world: World) -> None:
    run_id = world.weekly()
    world.sql(
        "UPDATE ruleset_versions SET content = REPLACE(content, 'The object of the search was recorded', "
        "'The object was recorded') WHERE ruleset_id = 'stop-search-legitimacy'"
    )
    with pytest.raises(StorageError, match="stop-search-legitimacy 1.0.3") as caught:
        world.audit(run_id)
    assert caught.value.exit_code == 4 and "edited in the database" in str(caught.value)


@sqlite_only
def test_a_draft_run_is_audited_against_the_working_tree_it_read(world: World) -> None:
    edit_ss03(world.settings.rulesets_dir)
    result = api.weekly(world.settings, WEEK, out=world.out, draft=True)
    assert world.audit(result.run_id).ok
    path = world.settings.rulesets_dir / SS_FILE  # the draft moves on: the version the run read is gone
    path.write_text(
        path.read_text(encoding="utf-8").replace("version: 1.1.0", "version: 1.2.0"), encoding="utf-8"
    )
    with pytest.raises(
        StorageError, match="stop-search-legitimacy 1.1.0 .* is not in the registry or the working tree"
    ):
        world.audit(result.run_id)


@sqlite_only
def test_an_unknown_or_too_short_run_id_is_a_usage_error(world: World) -> None:
    run_id = world.weekly()
    with pytest.raises(UsageError, match="no run 'ffffffff'"):
        world.audit("ffffffff")
    with pytest.raises(UsageError, match="too short"):
        world.audit(run_id[:2])


# --------------------------------------------------------------------------- CLI


@sqlite_only
def test_cli_runs_list_show_and_audit_exit_codes(runner: CliRunner, world: World) -> None:
    run_id = world.weekly()

    listed = qam(runner, world, "runs", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == [
        "run",
        "kind",
        "period",
        "draft",
        "rulesets",
        "first",
        "run",
        "last",
        "run",
        "executions",
    ]
    (exceptions_file,) = world.out.glob(f"**/{WEEK}/exceptions.json")
    used = len(json.loads(exceptions_file.read_text(encoding="utf-8"))["rulesets"])
    assert lines[1].split()[:4] == [run_id, "weekly", WEEK, str(used)] and lines[1].split()[-1] == "1"

    shown = qam(runner, world, "runs", "show", run_id[:6])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[:3] == [
        f"run: {run_id}",
        "kind: weekly",
        f"command: qam weekly --week {WEEK}",
    ]
    assert re.search(r"stop-search-legitimacy +1\.0\.3", shown.output) and "exceptions.json" in shown.output

    ok = qam(runner, world, "audit", run_id[:8])
    assert ok.exit_code == 0, ok.output
    out = ok.output.splitlines()
    assert out[0].startswith(
        f"Audit of run {run_id} (weekly {WEEK}): re-derived from the data as it stood at "
    )
    assert out[1].split() == ["input", "recorded", "re-read", "rows", "result"]
    assert out[-1] == f"OK: all 7 output files of run {run_id} re-derive byte for byte."

    world.sql("UPDATE case_scores SET outcomes = '{}' WHERE pk = (SELECT MIN(pk) FROM case_scores)")
    failed = qam(runner, world, "audit", run_id)
    assert failed.exit_code == 4, failed.output
    assert failed.output.splitlines()[-1].startswith("FAILED: ")
    assert "aggregates.csv   " in failed.output and "DIFFERS" in failed.output

    unknown = qam(runner, world, "audit", "ffffffff")
    assert unknown.exit_code == 2 and "Error: no run 'ffffffff'" in unknown.output


# --------------------------------------------------------------------------- PEEL and scoring runs

PEEL_FROM, PEEL_TO = dt.date(2026, 10, 1), dt.date(2026, 12, 31)
PEEL_FILES = (
    "aggregates.csv",
    "aggregates.parquet",
    "incident_metrics.csv",
    "incident_metrics.parquet",
    "compare.csv",
    "exceptions.json",
    "manifest.json",
    "peel.pdf",
)


def peel_run(world: World) -> Any:
    world.weekly()  # the original scores compare.csv reads
    return api.peel(world.settings, PEEL_FROM, PEEL_TO, out=world.out, compare_original=True).run


def load_incidents(world: World, first_monday: dt.date, weeks: int, seed: int) -> int:
    mondays = [first_monday + dt.timedelta(weeks=w) for w in range(weeks)]
    path = world.out.parent / f"incidents-{seed}.csv"
    rows = list(generate_incidents(api.force(world.settings).places, mondays, per_week=24, seed=seed))
    path.write_text(incidents_csv(rows), encoding="utf-8")
    assert api.load_incidents_extract(world.settings, path).new == len(rows)
    return len(rows)


def test_a_peel_run_re_derives_byte_for_byte_whatever_was_submitted_since(world: World) -> None:
    read = load_incidents(world, dt.date(2026, 10, 5), 6, seed=1)
    run = peel_run(world)
    world.submit(stop_search(2, place="BLK", no_bwv=True), at=SUBMITTED_AT.replace(year=2030))
    api.score(world.settings)  # scored now, so today's data would read and compare them
    late = load_incidents(world, dt.date(2026, 12, 7), 1, seed=2)

    report = world.audit(run.run_id[:8])

    assert report.ok, report.summary
    assert report.kind == "peel" and report.derived_run_id == run.run_id
    assert statuses(report) == dict.fromkeys((*PEEL_FILES, "exceptions-2026-Q4.json"), "match")
    assert [i.rows for i in report.inputs] == [27, read] and report.scores_checked == 27
    assert (report.changes.assessments_added, report.changes.incidents_loaded) == (2, late)


def test_an_amendment_after_a_compare_original_peel_run_is_left_out_by_the_cut_off(world: World) -> None:
    run = peel_run(world)
    with world.database.session() as session:
        first = assessments.list_assessments(session)[0]
        amended = {c: "" if v is None else str(v) for c, v in first.raw.items()}
    amended["bwv_activated"] = "no" if amended.get("bwv_activated") == "yes" else "yes"
    world.submit([amended], at=SUBMITTED_AT.replace(year=2030), amend=True)
    api.score(world.settings)  # the new revision gets its own (later) official score

    report = world.audit(run.run_id[:8])

    assert report.ok, report.summary
    assert report.changes.assessments_amended == 1


@sqlite_only
def test_a_tampered_stored_score_fails_a_peel_audit_with_exit_4(runner: CliRunner, world: World) -> None:
    run = peel_run(world)
    with world.database.session() as session:
        score = session.scalars(select(CaseScore).order_by(CaseScore.pk).limit(1)).one()
        outcomes, victim = dict(score.outcomes), score.pk
    assert outcomes["SS03"] == "pass"
    world.sql(
        "UPDATE case_scores SET outcomes = :o WHERE pk = :pk",
        o=json.dumps(outcomes | {"SS03": "fail"}),
        pk=victim,
    )

    failed = qam(runner, world, "audit", run.run_id)

    assert failed.exit_code == 4, failed.output
    assert failed.output.splitlines()[0].startswith(
        f"Audit of run {run.run_id} (peel peel-{PEEL_FROM}-{PEEL_TO}): re-derived from the data as it stood at "
    )
    assert "Stored scores: 1 criterion outcome in 1 assessment differs" in failed.output
    shown = {line.split()[0]: line.split()[-1] for line in failed.output.splitlines() if line.split()[:1]}
    assert shown["aggregates.csv"] == "DIFFERS" and shown["peel.pdf"] == "DIFFERS"
    assert failed.output.splitlines()[-1].startswith("FAILED: ")


def test_a_scoring_run_audits_its_versions_and_the_scores_under_them(runner: CliRunner, world: World) -> None:
    summary = api.score(world.settings)
    assert summary.run_id and summary.total == 27

    report = world.audit(summary.run_id)

    assert report.ok, report.summary
    assert (report.kind, report.period, report.files, report.inputs) == ("score", "all dates", (), ())
    assert report.scores_checked == 27 and not report.score_mismatches
    assert report.summary == (
        f"OK: run {summary.run_id} wrote no files; its ruleset versions are intact and its stored scores "
        "re-score the same."
    )
    shown = qam(runner, world, "audit", summary.run_id)
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[0].startswith(f"Audit of run {summary.run_id} (score all dates): ")
    assert any(line.split()[:2] == ["stop-search-legitimacy", "1.0.3"] for line in shown.output.splitlines())
    with world.database.session() as session:
        first, second = session.scalars(select(CaseScore).order_by(CaseScore.pk).limit(2)).all()
        flipped = dict(second.outcomes) | {"SS03": "fail"}
    world.sql("UPDATE case_scores SET outcomes = :o WHERE pk = :pk", o="{}", pk=first.pk)
    world.sql("UPDATE case_scores SET outcomes = :o WHERE pk = :pk", o=json.dumps(flipped), pk=second.pk)

    tampered = world.audit(summary.run_id)

    assert tampered.scores_emptied == 1 and [m.criterion for m in tampered.score_mismatches] == ["SS03"]
    assert tampered.summary.startswith("FAILED: 1 stored score outcome altered; 1 stored score emptied")
