"""`qam audit` of a run that read the tidy figures extract (issue 17 point 2): figures replaced
with --replace after the run are left out by the run's cut-off (the replaced rows are kept with the
load that superseded them), so the run re-derives byte for byte, while a new run reads the new
figures; a figure edited by hand in the database shows as the figures input no longer hashing the
same."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from sqlalchemy import text

from engine import api
from engine.core.config import Settings
from engine.store.db import open_database
from tests.runs.test_figure_numbers import WEEK, figures_db

__all__ = ["figures_db"]  # the fixture, imported for pytest


def _october_attendance(folder: Path) -> tuple[int, int]:
    """Harbourside's October attendance as the week's exceptions.json gives it: (n, passed)."""
    found = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))["exceptions"]
    (t,) = [e for e in found if (e["kind"], e["place"], e["criterion"]) == ("threshold", "HRB", "TW01")]
    return t["n"], t["passed"]


def _sql(settings: Settings, statement: str) -> list[tuple[object, ...]]:
    db = open_database(settings.database_url)
    try:
        with db.engine.begin() as conn:
            result = conn.execute(text(statement))
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        db.close()


def _lower_october(tmp_path: Path) -> Path:
    """A corrected extract: Harbourside's two teams' October attendance, 1,700 and 1,750 of 2,000."""
    fix = tmp_path / "fix.csv"
    with open(fix, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["item", "metric", "place", "team", "period", "numerator", "denominator", "value",
                      "count", "event_ref", "event_on", "detail"])  # fmt: skip
        out.writerow(["M1", "attendance_rate", "HRB", "Response A", "2026-10", 1700, 2000] + [""] * 5)
        out.writerow(["M1", "attendance_rate", "HRB", "Response B", "2026-10", 1750, 2000] + [""] * 5)
    return fix


def test_an_audit_after_figures_were_replaced_re_derives_the_run(
    figures_db: Settings, tmp_path: Path
) -> None:
    first = api.weekly(figures_db, WEEK, out=tmp_path / "first")
    assert _october_attendance(first.folder) == (4000, 3610)

    # October's attendance at Harbourside sent again, lower, and stored with --replace
    fix = _lower_october(tmp_path)
    loaded = api.load_figures_extract(figures_db, fix, replace=True)
    assert loaded.by_metric["attendance_rate"].replaced == 2
    # the replaced rows stay, not current, naming the load that superseded them
    kept = _sql(
        figures_db,
        "SELECT numerator, superseded_by FROM figures WHERE metric = 'attendance_rate' AND place = 'HRB' "
        "AND period = '2026-10' AND NOT is_current ORDER BY numerator",
    )
    assert kept == [(1800.0, loaded.load), (1810.0, loaded.load)]

    report = api.audit(figures_db, first.run_id)

    assert report.ok, report.summary
    assert report.derived_run_id == first.run_id
    assert "Since the run, 1 figures load stored 2 figure rows and replaced 2 stored figure rows" in " ".join(
        report.notes
    )
    assert {f.status for f in report.files} == {"match"} and len(report.files) == 8
    figures = next(i for i in report.inputs if i.name == "figures")
    assert figures.ok and figures.rows == len(
        _sql(figures_db, "SELECT pk FROM figures WHERE load_pk = 1")
    )  # every figure of the first load is read again: none was loaded before the run but the first

    # a new run of the same week reads the replacement
    again = api.weekly(figures_db, WEEK, out=tmp_path / "again")
    assert again.run_id != first.run_id
    assert _october_attendance(again.folder) == (4000, 3450)


def test_a_figure_edited_by_hand_fails_the_audit(figures_db: Settings, tmp_path: Path) -> None:
    run = api.weekly(figures_db, WEEK, out=tmp_path / "out")
    _sql(
        figures_db,
        "UPDATE figures SET numerator = 1900 WHERE metric = 'attendance_rate' AND place = 'HRB' "
        "AND period = '2026-10' AND team = 'Response A'",
    )

    report = api.audit(figures_db, run.run_id)

    assert not report.ok
    figures = next(i for i in report.inputs if i.name == "figures")
    assert not figures.ok
    assert "the inputs as they stood at the run no longer hash the same" in report.summary


def test_a_peel_run_audited_after_figures_were_replaced_re_derives(
    figures_db: Settings, tmp_path: Path
) -> None:
    run = api.peel(figures_db, dt.date(2026, 8, 1), dt.date(2026, 10, 31), out=tmp_path / "peel").run
    api.load_figures_extract(figures_db, _lower_october(tmp_path), replace=True)

    report = api.audit(figures_db, run.run_id)

    assert report.ok, report.summary
    assert report.derived_run_id == run.run_id and {f.status for f in report.files} == {"match"}
    assert next(i for i in report.inputs if i.name == "figures").ok
