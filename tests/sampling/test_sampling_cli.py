"""The sampling and calibration commands as a QA lead runs them: load the frame, draw, follow up."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings


def test_load_cases_draw_a_sample_and_follow_it_up(settings: Settings, tmp_path: Path) -> None:
    api.init_database(settings)
    cases = tmp_path / "cases.csv"
    lines = ["case_ref,case_type,place,team,officer,case_date,crime_type"]
    lines += [
        f"SS-{i:03d},stop_search,BLK,Response A,PC 1,2026-11-{16 + i % 5:02d},{'drugs' if i % 3 else 'weapons'}"
        for i in range(40)
    ]
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reviewers = tmp_path / "reviewers.txt"
    reviewers.write_text("Ann Smith\nBob Jones\n", encoding="utf-8")
    runner = CliRunner()
    base = ["--database", settings.database_url]

    loaded = runner.invoke(app, [*base, "extracts", "load", "cases", str(cases)])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.startswith(f"Loaded 40 cases from {cases}: 40 new")

    out = tmp_path / "worklists"
    args = [
        *base,
        "sample",
        "--week",
        "2026-W47",
        "--seed",
        "7",
        "--reviewers",
        str(reviewers),
        "--out",
        str(out),
    ]
    drawn = runner.invoke(app, args)
    assert drawn.exit_code == 0, drawn.output
    assert "Sample for 2026-W47 (seed 7" in drawn.output
    assert "eligible (40 in the week)" in drawn.output
    worklists = sorted(p.name for p in out.glob("*.xlsx"))
    assert worklists == ["2026-W47-ann-smith-stop_search.xlsx", "2026-W47-bob-jones-stop_search.xlsx"]

    again = runner.invoke(app, args)  # the same seed and frame: the recorded sample, unchanged
    assert again.exit_code == 0 and "the recorded sample is unchanged" in again.output

    status = runner.invoke(app, [*base, "sample", "status", "--week", "2026-W47"])
    assert status.exit_code == 0, status.output
    assert " drawn, 0 submitted, " in status.output

    bad_week = runner.invoke(app, [*base, "sample", "--week", "2026-47", "--seed", "1"])
    assert bad_week.exit_code == 2


def test_calibration_set_submissions_and_report(settings: Settings, tmp_path: Path) -> None:
    import csv

    from engine.demo.factories import build_row

    api.init_database(settings)
    cases = tmp_path / "cases.csv"
    rows = ["case_ref,case_type,place,team,officer,case_date"]
    rows += [f"SS-{i:03d},stop_search,BLK,Response A,PC 1,2026-11-16" for i in range(4)]
    cases.write_text("\n".join(rows) + "\n", encoding="utf-8")
    reviewers = tmp_path / "reviewers.txt"
    reviewers.write_text("Ann Smith\nBob Jones\n", encoding="utf-8")
    runner = CliRunner()
    base = ["--database", settings.database_url]
    assert runner.invoke(app, [*base, "extracts", "load", "cases", str(cases)]).exit_code == 0
    created = runner.invoke(
        app,
        [*base, "calibrate", "create", "--name", "grounds-q4", "--type", "stop_search", "--cases", "4",
         "--reviewers", str(reviewers), "--out", str(tmp_path / "wl")],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Calibration set grounds-q4 created: 4 stop_search cases" in created.output

    submitted = []
    for reviewer, disagree in (("Ann Smith", False), ("Bob Jones", True)):
        for i in range(4):
            submitted.append(
                build_row(
                    "stop_search",
                    assessment_id=f"CAL-{reviewer[:3]}-{i}",
                    case_ref=f"SS-{i:03d}",
                    place="BLK",
                    team="Response A",
                    officer="PC 1",
                    reviewer=reviewer,
                    case_date="2026-11-16",
                    assessed_on="2026-11-20",
                    grounds_reasonable="partly" if disagree and i % 2 else "yes",
                )
            )
    path = tmp_path / "cal.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(submitted[0]))
        writer.writeheader()
        writer.writerows(submitted)
    stored = runner.invoke(app, [*base, "submit", "--calibration", "grounds-q4", str(path)])
    assert stored.exit_code == 0, stored.output
    assert api.list_assessments(settings) == []  # calibration never counts toward performance

    report = runner.invoke(app, [*base, "calibrate", "report", "grounds-q4", "--out", str(tmp_path / "cal")])
    assert report.exit_code == 0, report.output
    assert "Calibration grounds-q4 (stop_search): 4 cases, 4 assessed by all 2 reviewers" in report.output
    assert (tmp_path / "cal" / "grounds-q4.pdf").exists()
    assert (tmp_path / "cal" / "grounds-q4-agreement.csv").read_text(encoding="utf-8").count(
        "grounds_reasonable"
    ) == 1
