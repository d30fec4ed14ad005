"""Run manifests read back and audited, and ruleset dry runs (engine/runs/audit.py, engine/runs/dry_run.py, the
`qam runs`, `qam audit` and `qam rulesets dry-run` commands): an untouched weekly or PEEL run re-derives
byte for byte, later submissions are left out by the data cut-off, a hand-edited score is caught (exit 4),
a scoring run's versions and scores are checked,
and a dry run lists exactly the findings an edited criterion changes without writing official rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from engine import api, registry
from engine.cli import app
from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, Settings
from engine.core.errors import StorageError, UsageError
from engine.core.hashing import hash_days
from engine.core.periods import parse_week
from engine.demo.factories import build_row
from engine.demo.incidents import generate_incidents, incidents_csv
from engine.inputs.submission_files import RawRow
from engine.inputs.submissions import validate_rows
from engine.runs.audit import audit_run
from engine.runs.gather import gather
from engine.store import assessments
from engine.store import db as dbm
from engine.store.db import CaseScore, Run

REPO = Path(__file__).resolve().parents[2]
WEEK = "2026-W47"
PUBLISHED_AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
SUBMITTED_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
SS_FILE = Path("priority4") / "stop-search-legitimacy.yaml"


@dataclasses.dataclass
class World:
    """A migrated database with the repo's rulesets published from a temporary copy."""

    database: dbm.Database
    settings: Settings
    out: Path

    def submit(self, rows: Sequence[dict[str, str]], *, at: dt.datetime, amend: bool = False) -> None:
        raw = [RawRow("qa.csv", i + 2, row, header_row=1) for i, row in enumerate(rows)]
        valid, problems = validate_rows(raw, api.forms(self.settings), api.force(self.settings).place_codes)
        assert not problems, [str(p) for p in problems]
        with self.database.session() as session:
            assessments.store_assessments(session, valid, amend=amend, submitted_at=at)

    def weekly(self) -> str:
        return api.weekly(self.settings, WEEK, out=self.out).run_id

    def audit(self, run_id: str) -> Any:
        return audit_run(
            self.database,
            run_id,
            force=api.force(self.settings),
            forms=api.forms(self.settings),
            rulesets_dir=self.settings.rulesets_dir,
        )

    def sql(self, statement: str, **params: Any) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(text(statement), params)


def stop_search(n: int, **traits: Any) -> list[dict[str, str]]:
    """``n`` searches assessed in WEEK (Wednesday 2026-11-18), spread over the places."""
    return [build_row("stop_search", case_date="2026-11-16", assess_delay=2, **traits) for _ in range(n)]


@pytest.fixture
def world(database: dbm.Database, database_url: str, tmp_path: Path) -> World:
    rulesets = tmp_path / "rulesets"
    shutil.copytree(REPO / "rulesets", rulesets)
    settings = Settings(
        database_url=database_url,
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=rulesets,
        forms_dir=DEFAULT_FORMS_DIR,
    )
    registry.publish(
        database,
        rulesets,
        api.fields_by_case_type(settings),
        author="qa.lead",
        note="first",
        now=PUBLISHED_AT,
    )
    w = World(database, settings, tmp_path / "out")
    # 24 good searches, and grounds missing in three more at BLK: a below-standard exception and BLK.pdf
    w.submit(stop_search(24) + stop_search(3, grounds_missing=True, place="BLK"), at=SUBMITTED_AT)
    return w


#: for tests of the command line and of messages: the database behaviour is covered on both backends above
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def statuses(report: Any) -> dict[str, str]:
    return {f.name: f.status for f in report.files}


# --------------------------------------------------------------------------- audit


def test_an_untouched_run_re_derives_byte_for_byte(world: World) -> None:
    run_id = world.weekly()
    report = world.audit(run_id[:8])
    assert report.run_id == run_id and report.derived_run_id == run_id
    assert statuses(report) == dict.fromkeys(
        ("BLK.pdf", "aggregates.csv", "exceptions.json", "force.pdf"), "match"
    )
    assert all(i.ok for i in report.inputs) and report.inputs[0].rows == 27
    assert report.scores_checked == 27 and not report.score_mismatches and not report.registry_problems
    assert report.ok and report.summary.startswith("OK: all 4 output files")


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
    assert report.summary.startswith("FAILED: 1 of 4 output files differ; 1 stored score outcome altered")


def test_a_ruleset_version_edited_in_the_registry_stops_the_audit(world: World) -> None:
    run_id = world.weekly()
    world.sql(
        "UPDATE ruleset_versions SET content = REPLACE(content, 'The object of the search was recorded', "
        "'The object was recorded') WHERE ruleset_id = 'stop-search-legitimacy'"
    )
    with pytest.raises(StorageError, match="stop-search-legitimacy 1.0.0") as caught:
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


# --------------------------------------------------------------------------- dry run


def edit_ss03(rulesets: Path) -> None:
    """SS03 ('the object of the search was recorded') now also requires the object to be found."""
    path = rulesets / SS_FILE
    source = path.read_text(encoding="utf-8")
    edited = source.replace("version: 1.0.0", "version: 1.1.0", 1).replace(
        "    pass: object_recorded == 'yes'\n",
        "    pass: object_recorded == 'yes' and object_found == 'yes'\n",
        1,
    )
    assert edited.count("object_recorded == 'yes' and object_found == 'yes'") == 1
    path.write_text(edited, encoding="utf-8")


def official_rows(database: dbm.Database) -> tuple[int, int]:
    with database.session() as session:
        scores = session.scalar(select(func.count()).select_from(CaseScore).where(CaseScore.draft.is_(False)))
        runs = session.scalar(select(func.count()).select_from(Run))
    return int(scores or 0), int(runs or 0)


def test_dry_run_lists_exactly_the_findings_an_edited_criterion_changes(world: World) -> None:
    found = stop_search(4, place="HRB", object_found="yes")  # still recorded and found: SS03 unchanged
    world.submit(found, at=SUBMITTED_AT)
    world.weekly()
    before = official_rows(world.database)
    edit_ss03(world.settings.rulesets_dir)

    report = api.dry_run(world.settings, week=WEEK)

    with world.database.session() as session:
        week = assessments.list_assessments(session, case_type="stop_search")
    kept = {r["case_ref"] for r in found}
    expected = {(a.case_ref, a.place) for a in week if a.case_ref not in kept}
    assert len(expected) == 27
    assert {(c.case_ref, c.place) for c in report.cases} == expected
    assert {(c.ruleset, c.criterion, c.published, c.draft) for c in report.cases} == {
        ("stop-search-legitimacy", "SS03", "pass", "fail")
    }
    (finding,) = report.findings
    assert finding.cases == 27 and finding.by_place["BLK"] == 5 and "HRB" in finding.by_place
    assert [r.text for r in report.rulesets] == ["stop-search-legitimacy 1.0.0 -> draft 1.1.0"]
    assert report.exceptions and {(e.change, e.criterion) for e in report.exceptions} == {("appears", "SS03")}
    assert official_rows(world.database) == before  # no official score, no run recorded
    assert not world.out.joinpath(f"dry-run-{WEEK}").exists()


@sqlite_only
def test_dry_run_with_unchanged_rulesets_says_nothing_would_change(world: World) -> None:
    report = api.dry_run(world.settings, week=WEEK)
    assert not report.rulesets and not report.cases
    assert report.summary == "The working tree's rulesets are the published ones: nothing would change."


# --------------------------------------------------------------------------- CLI


def qam(runner: CliRunner, world: World, *args: str) -> Any:
    env = {"QAM_RULESETS": str(world.settings.rulesets_dir)}
    return runner.invoke(app, ["--database", world.settings.database_url, *args], env=env)


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
    assert lines[1].split()[:4] == [run_id, "weekly", WEEK, "6"] and lines[1].split()[-1] == "1"

    shown = qam(runner, world, "runs", "show", run_id[:6])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[:3] == [
        f"run: {run_id}",
        "kind: weekly",
        f"command: qam weekly --week {WEEK}",
    ]
    assert "stop-search-legitimacy       1.0.0" in shown.output and "exceptions.json" in shown.output

    ok = qam(runner, world, "audit", run_id[:8])
    assert ok.exit_code == 0, ok.output
    out = ok.output.splitlines()
    assert out[0].startswith(
        f"Audit of run {run_id} (weekly {WEEK}): re-derived from the data as it stood at "
    )
    assert out[1].split() == ["input", "recorded", "re-read", "rows", "result"]
    assert out[-1] == f"OK: all 4 output files of run {run_id} re-derive byte for byte."

    world.sql("UPDATE case_scores SET outcomes = '{}' WHERE pk = (SELECT MIN(pk) FROM case_scores)")
    failed = qam(runner, world, "audit", run_id)
    assert failed.exit_code == 4, failed.output
    assert failed.output.splitlines()[-1].startswith("FAILED: ")
    assert "aggregates.csv   " in failed.output and "DIFFERS" in failed.output

    unknown = qam(runner, world, "audit", "ffffffff")
    assert unknown.exit_code == 2 and "Error: no run 'ffffffff'" in unknown.output


@sqlite_only
def test_cli_dry_run_prints_the_changes_and_writes_a_csv_only_with_out(
    runner: CliRunner, world: World, tmp_path: Path
) -> None:
    world.weekly()
    edit_ss03(world.settings.rulesets_dir)
    result = qam(runner, world, "rulesets", "dry-run", "--against", WEEK, "--out", str(tmp_path / "dry"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"DRY RUN {WEEK} (2026-11-16 to 2026-11-22): 27 assessments scored under the ")
    assert lines[1] == "Rulesets that differ: stop-search-legitimacy 1.0.0 -> draft 1.1.0"
    assert lines[3].split()[:3] == ["ruleset", "criterion", "change"]
    assert lines[4].split()[:6] == ["stop-search-legitimacy", "SS03", "pass", "->", "fail", "27"]
    rows = (tmp_path / "dry" / f"dry-run-{WEEK}" / "changes.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "record,ruleset,criterion,place,case_ref,assessed_on,kind,published,draft"
    assert sum(r.startswith("finding,stop-search-legitimacy,SS03,") for r in rows) == 27

    both = qam(runner, world, "rulesets", "dry-run", "--against", WEEK, "--from", "2026-11-16")
    assert both.exit_code == 2 and "not both" in both.output


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
    assert any(line.split()[:2] == ["stop-search-legitimacy", "1.0.0"] for line in shown.output.splitlines())
    with world.database.session() as session:
        first, second = session.scalars(select(CaseScore).order_by(CaseScore.pk).limit(2)).all()
        flipped = dict(second.outcomes) | {"SS03": "fail"}
    world.sql("UPDATE case_scores SET outcomes = :o WHERE pk = :pk", o="{}", pk=first.pk)
    world.sql("UPDATE case_scores SET outcomes = :o WHERE pk = :pk", o=json.dumps(flipped), pk=second.pk)

    tampered = world.audit(summary.run_id)

    assert tampered.scores_emptied == 1 and [m.criterion for m in tampered.score_mismatches] == ["SS03"]
    assert tampered.summary.startswith("FAILED: 1 stored score outcome altered; 1 stored score emptied")
