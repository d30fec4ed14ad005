"""Submitting assessments end to end on SQLite and PostgreSQL: stored once, identical rows are
no-ops, changed rows need --amend (both revisions kept), and one bad row stores nothing at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings
from engine.core.errors import SubmissionError
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv


def ss(i: int, **overrides: str) -> dict[str, str]:
    values = {
        "assessment_id": f"QA-{i:03d}",
        "case_ref": f"SS-{i:03d}",
        "place": "BLK",
        "assessed_on": "2026-11-17",
        "case_date": "2026-11-02",
    }
    return build_row("stop_search", **{**values, **overrides})


@pytest.fixture
def ready(settings: Settings) -> Settings:
    api.init_database(settings)
    return settings


def test_identical_resubmission_is_a_no_op(ready: Settings, tmp_path: Path) -> None:
    path = write_submission_csv(tmp_path / "week.csv", [ss(1), ss(2)])
    first = api.submit(ready, [path])
    assert first.summary.totals == (2, 0, 0)
    again = api.submit(ready, [path])
    assert again.summary.totals == (0, 2, 0)
    assert len(api.list_assessments(ready)) == 2


def test_changed_row_is_refused_naming_both_values_then_amended(ready: Settings, tmp_path: Path) -> None:
    api.submit(ready, [write_submission_csv(tmp_path / "a.csv", [ss(1)])])
    changed = write_submission_csv(tmp_path / "b.csv", [ss(1, bwv_activated="no")])
    with pytest.raises(SubmissionError) as info:
        api.submit(ready, [changed])
    text = str(info.value)
    assert f"{changed}:2:assessment_id: assessment QA-001 is already stored (revision 1" in text
    assert "bwv_activated: stored 'yes', submitted 'no'" in text
    assert "--amend" in text
    amended = api.submit(ready, [changed], amend=True)
    assert amended.summary.totals == (0, 0, 1)
    revisions = api.show_assessment(ready, "QA-001")
    assert [(r.revision, r.current) for r in revisions] == [(1, False), (2, True)]
    assert revisions[0].answers["bwv_activated"] == "yes"
    assert revisions[1].answers["bwv_activated"] == "no"


def test_one_bad_row_in_any_file_stores_nothing(ready: Settings, tmp_path: Path) -> None:
    good = write_submission_csv(tmp_path / "good.csv", [ss(1), ss(2)])
    bad = write_submission_csv(tmp_path / "bad.csv", [ss(3, grounds_recorded="Y"), ss(4, place="ZZZ")])
    with pytest.raises(SubmissionError) as info:
        api.submit(ready, [good, bad])
    text = str(info.value)
    assert f"{bad}:2:grounds_recorded: 'Y' is not one of yes, no" in text
    assert f"{bad}:3:place:" in text
    assert api.list_assessments(ready) == []


def test_a_conflict_in_a_later_row_rolls_back_the_earlier_ones(ready: Settings, tmp_path: Path) -> None:
    api.submit(ready, [write_submission_csv(tmp_path / "a.csv", [ss(1)])])
    mixed = write_submission_csv(tmp_path / "b.csv", [ss(2), ss(1, receipt_offered="no")])
    with pytest.raises(SubmissionError):
        api.submit(ready, [mixed])
    assert [a.assessment_id for a in api.list_assessments(ready)] == ["QA-001"]


def test_cli_submit_summary_and_error_exit(ready: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    path = write_submission_csv(tmp_path / "week.csv", [ss(1), ss(2)])
    ok = runner.invoke(app, ["--database", ready.database_url, "submit", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "2 rows in 1 file: 2 stored, 0 unchanged (already stored, nothing to do), 0 amended." in ok.output
    bad = write_submission_csv(tmp_path / "bad.csv", [ss(3, grounds_recorded="maybe")])
    result = runner.invoke(app, ["--database", ready.database_url, "submit", str(bad)])
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: nothing stored: 1 problem in 1 file")
    assert "Traceback" not in result.output


def test_scoring_is_idempotent_and_recorded_as_a_run(ready: Settings, tmp_path: Path) -> None:
    api.publish_rulesets(ready, author="test", note="initial")
    api.submit(ready, [write_submission_csv(tmp_path / "week.csv", [ss(1), ss(2, grounds_recorded="no")])])
    first = api.score(ready)
    assert first.scored["stop-search-legitimacy"] == 2
    assert first.run_id
    again = api.score(ready)
    assert again.total == 0 and again.run_id == ""
    runs = api.list_runs(ready)
    assert [r.run_id for r in runs] == [first.run_id]


def test_a_filled_template_needs_no_case_type(ready: Settings, tmp_path: Path) -> None:
    """`qam forms template stop_search --format xlsx`, filled in as a reviewer would (case_type left
    blank), then `qam submit`: stored as stop_search; a row typed as another case type is refused."""
    template = api.template(ready, "stop_search", "xlsx", tmp_path / "ss.xlsx")
    workbook = openpyxl.load_workbook(template)
    sheet = workbook.worksheets[0]
    header = [str(c.value) for c in sheet[1]]
    for r, row in enumerate([ss(1, case_type=""), ss(2, case_type="")], start=2):
        for c, name in enumerate(header, start=1):
            value = row.get(name, "")
            if value:
                is_date = name in ("assessed_on", "case_date")
                sheet.cell(row=r, column=c, value=dt.date.fromisoformat(value) if is_date else value)
    workbook.save(tmp_path / "ss_week47.xlsx")
    result = api.submit(ready, [tmp_path / "ss_week47.xlsx"])
    assert result.summary.totals == (2, 0, 0)
    assert {a.case_type for a in api.list_assessments(ready)} == {"stop_search"}

    sheet.cell(row=3, column=header.index("case_type") + 1, value="victim_care")
    sheet.cell(row=3, column=header.index("assessment_id") + 1, value="QA-003")
    workbook.save(tmp_path / "mixed.xlsx")
    refused = CliRunner().invoke(
        app, ["--database", ready.database_url, "submit", str(tmp_path / "mixed.xlsx")]
    )
    assert refused.exit_code == 3
    assert (
        f"{tmp_path / 'mixed.xlsx'}:3:case_type: 'victim_care' does not match this sheet, a stop_search "
        "template: leave case_type blank or write stop_search"
    ) in refused.stderr
