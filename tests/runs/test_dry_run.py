"""Ruleset dry runs (engine/runs/dry_run.py, `qam rulesets dry-run`): a dry run lists exactly the
findings an edited criterion changes without writing official rows, and says so when nothing would
change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from engine import api
from engine.core.models import ExceptionKind, PerformanceException
from engine.core.periods import parse_week
from engine.runs.dry_run import CaseChange, DryRunReport, compare_exceptions, write_changes_csv
from engine.store import assessments
from engine.store import db as dbm
from engine.store.db import CaseScore, Run
from tests.runs.world import SUBMITTED_AT, WEEK, World, edit_ss03, qam, sqlite_only, stop_search


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
    assert [r.text for r in report.rulesets] == ["stop-search-legitimacy 1.0.3 -> draft 1.1.0"]
    assert report.exceptions and {(e.change, e.criterion) for e in report.exceptions} == {("appears", "SS03")}
    assert official_rows(world.database) == before  # no official score, no run recorded
    assert not world.out.joinpath(f"dry-run-{WEEK}").exists()


@sqlite_only
def test_dry_run_with_unchanged_rulesets_says_nothing_would_change(world: World) -> None:
    report = api.dry_run(world.settings, week=WEEK)
    assert not report.rulesets and not report.cases
    assert report.summary == "The working tree's rulesets are the published ones: nothing would change."


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
    assert lines[1] == "Rulesets that differ: stop-search-legitimacy 1.0.3 -> draft 1.1.0"
    assert lines[3].split()[:3] == ["ruleset", "criterion", "change"]
    assert lines[4].split()[:6] == ["stop-search-legitimacy", "SS03", "pass", "->", "fail", "27"]
    rows = (tmp_path / "dry" / f"dry-run-{WEEK}" / "changes.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "record,ruleset,criterion,place,case_ref,assessed_on,kind,published,draft,team"
    assert sum(r.startswith("finding,stop-search-legitimacy,SS03,") for r in rows) == 27

    both = qam(runner, world, "rulesets", "dry-run", "--against", WEEK, "--from", "2026-11-16")
    assert both.exit_code == 2 and "not both" in both.output


def test_changes_csv_writes_refs_that_start_like_formulas_as_text(tmp_path: Path) -> None:
    case = CaseChange("stop-search-legitimacy", "SS03", "=CR1", "BLK", dt.date(2026, 11, 18), "pass", "fail")
    report = DryRunReport(parse_week(WEEK), 1, (), (), (case,), ())
    write_changes_csv(report, tmp_path / "changes.csv")
    assert (tmp_path / "changes.csv").read_text(encoding="utf-8").splitlines()[1] == (
        "finding,stop-search-legitimacy,SS03,BLK,'=CR1,2026-11-18,,pass,fail,"
    )


def test_a_team_exception_the_draft_raises_is_listed_with_its_team(tmp_path: Path) -> None:
    # a draft that puts a team below the standard, its place still within it: the inspector sees the
    # team exception appear (it was not compared before), in the table and in changes.csv
    place = exception("ASH", "", "place below standard, both sides")
    team = exception("ASH", "Response B", "Response B's victims updated late in 6 of 9 cases")
    changes = compare_exceptions([place], [place, team])
    assert [(e.change, e.place, e.team, e.criterion) for e in changes] == [
        ("appears", "ASH", "Response B", "VC03")
    ]
    assert changes[0].to_table_row()[:3] == ("appears", "ASH", "Response B")
    report = DryRunReport(parse_week(WEEK), 9, (), (), (), tuple(changes))
    write_changes_csv(report, tmp_path / "changes.csv")
    row = (tmp_path / "changes.csv").read_text(encoding="utf-8").splitlines()[1]
    assert row.startswith("exception,victims-code-compliance,VC03,ASH,,,below_standard,,")
    assert row.endswith(",Response B")


def exception(place: str, team: str, reason: str) -> PerformanceException:
    return PerformanceException(
        place=place, priority=1, measure="M4", peel="Effectiveness", iserve=("Investigation",),
        ruleset="victims-code-compliance", criterion="VC03", kind=ExceptionKind.BELOW_STANDARD,
        reason=reason, n=9, passed=3, rate=3 / 9, ci_low=0.12, ci_high=0.65, standard=0.9, cases=(),
        team=team,
    )  # fmt: skip
