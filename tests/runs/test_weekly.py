"""The weekly batch end to end, on SQLite and PostgreSQL: a factory-built week in, exactly the
expected exceptions and briefings out, reruns byte-identical, official runs on published rulesets only."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings
from engine.core.errors import RulesetError
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from tests.runs.spreadsheet_cells import evil_row, formula_cells, is_number, plain_rows

WEEK = "2026-W47"
MONDAY = "2026-11-16"


def _rows() -> list[dict[str, str]]:
    """Harbourside: grounds missing in 24 of 30 searches; Kingsgate: one high-risk DA case with no
    MARAC referral; Blackwater: 30 good searches (nothing to report)."""
    rows = []
    for i in range(30):
        rows.append(
            build_row(
                "stop_search",
                assessment_id=f"QA-HRB-{i:03d}",
                case_ref=f"SS-HRB-{i:03d}",
                place="HRB",
                assessed_on=MONDAY,
                case_date="2026-11-01",
                grounds_missing=i < 24,
            )
        )
        rows.append(
            build_row(
                "stop_search",
                assessment_id=f"QA-BLK-{i:03d}",
                case_ref=f"SS-BLK-{i:03d}",
                place="BLK",
                assessed_on=MONDAY,
                case_date="2026-11-01",
            )
        )
    rows.append(
        build_row(
            "domestic_abuse",
            assessment_id="QA-KNG-DA1",
            case_ref="DA-KNG-001",
            place="KNG",
            assessed_on="2026-11-18",
            case_date="2026-11-10",
            high_risk_no_marac=True,
            notes='<b>not bold</b> =HYPERLINK("x")',
        )
    )
    return rows


@pytest.fixture
def week_db(published: Settings, tmp_path: Path) -> Settings:
    """An initialised database with the repo's rulesets published and the scenario submitted."""
    api.submit(published, [write_submission_csv(tmp_path / "week.csv", _rows())])
    return published


def test_weekly_raises_exactly_the_expected_exceptions(week_db: Settings, tmp_path: Path) -> None:
    result = api.weekly(week_db, WEEK, out=tmp_path / "out")
    folder = tmp_path / "out" / WEEK
    data = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))
    assert data["period"] == {"from": "2026-11-16", "to": "2026-11-22", "label": WEEK}
    found = {(e["kind"], e["place"], e["criterion"]) for e in data["exceptions"]}
    assert found == {
        ("critical", "KNG", "DA02"),
        ("below_standard", "HRB", "SS01"),
        ("below_standard", "HRB", "SS02"),
    }
    ss01 = next(e for e in data["exceptions"] if e["criterion"] == "SS01")
    assert (ss01["n"], ss01["passed"], ss01["standard"]) == (30, 6, 0.9)
    assert ss01["ci_high"] < 0.9
    assert sorted(ss01["cases"]) == [f"SS-HRB-{i:03d}" for i in range(24)]
    assert {r["id"] for r in data["rulesets"]} >= {"stop-search-legitimacy", "domestic-abuse-safeguarding"}
    assert data["run_id"] == result.run_id
    # one PDF per place with exceptions, plus force.pdf; good news is silence
    assert sorted(p.name for p in folder.glob("*.pdf")) == ["HRB.pdf", "KNG.pdf", "force.pdf"]
    assert (folder / "aggregates.csv").exists()
    assert result.cases_reviewed == 61


def test_a_briefing_names_only_its_own_cases_and_prints_notes_literally(
    week_db: Settings, tmp_path: Path
) -> None:
    api.weekly(week_db, WEEK, out=tmp_path / "out")
    folder = tmp_path / "out" / WEEK
    hrb = " ".join(p.extract_text() for p in PdfReader(folder / "HRB.pdf").pages)
    kng = " ".join(p.extract_text() for p in PdfReader(folder / "KNG.pdf").pages)
    assert "SS-HRB-000" in hrb and "DA-KNG-001" not in hrb
    assert "DA-KNG-001" in kng and "SS-HRB" not in kng
    assert "<b>not bold</b>" in kng.replace("\n", " ")
    force = " ".join(p.extract_text() for p in PdfReader(folder / "force.pdf").pages)
    assert "Blackwater" in force  # named among the places with no exceptions


def test_rerun_is_byte_identical_with_the_same_run_id(week_db: Settings, tmp_path: Path) -> None:
    first = api.weekly(week_db, WEEK, out=tmp_path / "a")
    second = api.weekly(week_db, WEEK, out=tmp_path / "b")
    assert first.run_id == second.run_id
    assert second.scored.total == 0  # rescoring is idempotent
    for name, digest in first.files.items():
        assert second.files[name] == digest, name
        assert (tmp_path / "a" / WEEK / name).read_bytes() == (tmp_path / "b" / WEEK / name).read_bytes()


def test_official_runs_refuse_unpublished_edits_and_draft_is_marked(
    week_db: Settings, tmp_path: Path
) -> None:
    path = week_db.rulesets_dir / "priority4" / "stop-search-legitimacy.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("version: 1.0.2", "version: 1.0.3"), encoding="utf-8"
    )
    with pytest.raises(RulesetError, match="unpublished"):
        api.weekly(week_db, WEEK, out=tmp_path / "out")
    assert not (tmp_path / "out" / WEEK).exists()
    draft = api.weekly(week_db, WEEK, out=tmp_path / "out", draft=True)
    assert draft.draft
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "out" / WEEK / "HRB.pdf").pages)
    assert "DRAFT" in text


def test_cli_exit_codes_and_summary(week_db: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--database", week_db.database_url]
    env = {"QAM_RULESETS": str(week_db.rulesets_dir)}
    ok = runner.invoke(app, [*base, "weekly", "--week", WEEK, "--out", str(tmp_path / "o")], env=env)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(
        f"{WEEK}: 61 cases reviewed, 61 newly scored; 3 exceptions (1 critical, 2 below"
    )
    failing = runner.invoke(
        app, [*base, "weekly", "--week", WEEK, "--out", str(tmp_path / "o"), "--fail-on-exceptions"], env=env
    )
    assert failing.exit_code == 1
    (tmp_path / "a-file").write_text("not a folder")
    unwritable = runner.invoke(
        app, [*base, "weekly", "--week", WEEK, "--out", str(tmp_path / "a-file")], env=env
    )
    assert unwritable.exit_code == 4
    assert unwritable.stderr.startswith(f"Error: cannot write outputs to {tmp_path / 'a-file' / WEEK}")
    assert "Traceback" not in unwritable.output
    bad = runner.invoke(app, [*base, "weekly", "--week", "2026-47"], env=env)
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: invalid week '2026-47': use the ISO form YYYY-Www")


def test_a_rerun_says_what_it_replaced_and_keeps_the_replaced_runs_exceptions(
    week_db: Settings, tmp_path: Path, runner: CliRunner
) -> None:
    base = ["--database", week_db.database_url]
    env = {"QAM_RULESETS": str(week_db.rulesets_dir)}
    weekly = [*base, "weekly", "--week", WEEK, "--out", str(tmp_path / "out")]
    folder = tmp_path / "out" / WEEK

    def run() -> tuple[str, str]:
        result = runner.invoke(app, weekly, env=env)
        assert result.exit_code == 0, result.output
        written = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))["run_id"]
        return result.output.strip(), written

    def files() -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    first, old = run()
    assert first.endswith(f"5 files written to {folder} (run {old})")
    old_exceptions = (folder / "exceptions.json").read_bytes()
    # the same data again: the same run, the same bytes, nothing kept
    before = files()
    again, same = run()
    assert same == old and again.endswith(f"(run {old}), unchanged: an identical rerun")
    assert files() == before
    # a late submission: another run replaces the briefings, and says whose
    late = build_row("stop_search", assessment_id="QA-BLK-LATE", place="BLK", assessed_on=MONDAY)
    api.submit(week_db, [write_submission_csv(tmp_path / "late.csv", [late])])
    rerun, new = run()
    assert new != old
    assert rerun.endswith(
        f"5 files written to {folder} (run {new}), replacing the briefings of run {old} "
        f"(qam runs show {old}; its exceptions.json is kept as previous/exceptions-{old}.json)"
    )
    kept = files()
    assert kept[f"previous/exceptions-{old}.json"] == old_exceptions
    assert sorted(kept) == sorted([*before, f"previous/exceptions-{old}.json"])
    # the replaced run's record stays in the database
    shown = runner.invoke(app, [*base, "runs", "show", old], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith(f"run: {old}\n")
    # an identical rerun of the new run adds no copy
    last, same = run()
    assert same == new and last.endswith(", unchanged: an identical rerun")
    assert files() == kept


def test_refs_that_start_like_formulas_are_written_as_text_and_the_numbers_are_unchanged(
    published: Settings, tmp_path: Path
) -> None:
    """A team, officer or case ref starting with = + - @ (and notes with a tab or return first) never
    reaches aggregates.csv as a cell Excel would run: it gets a leading ', and the numbers do not move."""
    clean = _rows()
    evil = replace(published, database_url=f"sqlite:///{tmp_path / 'evil.db'}")
    api.init_database(evil)
    api.publish_rulesets(evil, author="test", note="initial")
    api.submit(published, [write_submission_csv(tmp_path / "clean.csv", clean)])
    api.submit(evil, [write_submission_csv(tmp_path / "evil.csv", [evil_row(r) for r in clean])])
    plain_run = api.weekly(published, WEEK, out=tmp_path / "clean")
    evil_run = api.weekly(evil, WEEK, out=tmp_path / "evil")
    table = tmp_path / "evil" / WEEK / "aggregates.csv"
    with table.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["key"].lstrip("'")[0] for r in rows if r["level"] in ("team", "officer")} == set("=+-@")
    assert formula_cells(tmp_path / "evil") == []
    numeric = ("n", "passes", "fails", "rate", "ci_low", "ci_high")
    assert all(is_number(r[c]) for r in rows for c in numeric if r[c])
    # the same counts, rates and intervals as with plain refs, row for row
    assert plain_rows(table) == plain_rows(tmp_path / "clean" / WEEK / "aggregates.csv")
    assert len(evil_run.exceptions) == len(plain_run.exceptions)


def test_the_refusal_names_the_rulesets_folder_and_the_ways_forward(
    week_db: Settings, tmp_path: Path, runner: CliRunner
) -> None:
    # a clean copy of what this database published, before the working tree is edited
    clean = tmp_path / "clean-rulesets"
    shutil.copytree(week_db.rulesets_dir, clean)
    path = week_db.rulesets_dir / "priority4" / "stop-search-legitimacy.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("version: 1.0.2", "version: 1.0.3"), encoding="utf-8"
    )
    weekly = ["--database", week_db.database_url, "weekly", "--week", WEEK, "--out", str(tmp_path / "out")]
    refused = runner.invoke(app, weekly, env={"QAM_RULESETS": str(week_db.rulesets_dir)})
    assert refused.exit_code == 3
    with api.database_for(week_db) as database:
        shown_url = database.display_url
    assert refused.stderr.splitlines() == [
        "Error: 1 ruleset change is not published; official runs use published rulesets only",
        "rulesets/priority4/stop-search-legitimacy.yaml: has unpublished edits: differs from the published "
        "stop-search-legitimacy 1.0.2 (version 1.0.3 is not published yet)",
        f"Official runs compare the rulesets folder {week_db.rulesets_dir.resolve()} with what the database "
        f"{shown_url} published, and refuse while they differ.",
        "Publish the changes (`qam rulesets publish`), point QAM_RULESETS=<folder> at the rulesets this "
        "database publishes from, or use --draft for a dry run.",
    ]
    assert not (tmp_path / "out" / WEEK).exists()
    # the way forward it names: the folder this database publishes from
    elsewhere = runner.invoke(app, weekly, env={"QAM_RULESETS": str(clean)})
    assert elsewhere.exit_code == 0, elsewhere.output
