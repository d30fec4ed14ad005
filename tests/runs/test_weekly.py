"""The weekly batch end to end, on SQLite and PostgreSQL: a factory-built week in, exactly the
expected exceptions and briefings out, reruns byte-identical, official runs on published rulesets only."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from engine import api
from engine.analysis.coverage import COVERAGE_COLUMNS
from engine.analysis.daily import INCIDENT_METRIC_COLUMNS
from engine.cli import app
from engine.core.config import Settings
from engine.core.errors import RulesetError
from engine.demo.factories import build_row
from engine.demo.incidents import generate_incidents, incidents_csv
from engine.inputs.submission_files import write_submission_csv
from engine.reports.cases_csv import CASES_CSV_COLUMNS
from engine.rules.catalogue import load_measure_catalogue
from engine.runs import weekly as weekly_run
from engine.store.db import Incident
from tests.runs.spreadsheet_cells import evil_row, formula_cells, is_number, plain, plain_rows

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
        path.read_text(encoding="utf-8").replace("version: 1.0.3", "version: 1.0.4"), encoding="utf-8"
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
    assert first.endswith(f"9 files written to {folder} (run {old})")
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
        f"9 files written to {folder} (run {new}), replacing the briefings of run {old} "
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

    # the cases CSV beside each briefing: refs written as text, the same cases as with plain refs
    def cases(run: str) -> list[list[str]]:
        """HRB-cases.csv's rows, refs plain, notes left out (the evil ones start with a tab or return),
        entry numbers too (team entries are numbered in the order of the teams' names, here changed)"""
        rows = _read_csv(tmp_path / run / WEEK / "HRB-cases.csv")
        return sorted([plain(v) for k, v in r.items() if k not in ("reviewer_note", "entry")] for r in rows)

    evil_cases = _read_csv(tmp_path / "evil" / WEEK / "HRB-cases.csv")
    assert {r[c][:2] for r in evil_cases for c in ("case_ref", "team", "officer")} <= {"'=", "'+", "'-", "'@"}
    assert {r["reviewer_note"][:2] for r in evil_cases} <= {"'\t", "'\r"}
    # the 24 failing cases under the place's issue, and each again under its team's (team exceptions)
    assert cases("evil") == cases("clean") and len(evil_cases) == 48
    assert sorted(r["case_ref"] for r in evil_cases) == sorted(2 * [r["case_ref"] for r in evil_cases[:24]])
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
        path.read_text(encoding="utf-8").replace("version: 1.0.3", "version: 1.0.4"), encoding="utf-8"
    )
    weekly = ["--database", week_db.database_url, "weekly", "--week", WEEK, "--out", str(tmp_path / "out")]
    refused = runner.invoke(app, weekly, env={"QAM_RULESETS": str(week_db.rulesets_dir)})
    assert refused.exit_code == 3
    with api.database_for(week_db) as database:
        shown_url = database.display_url
    assert refused.stderr.splitlines() == [
        "Error: 1 ruleset change is not published; official runs use published rulesets only",
        "rulesets/priority4/stop-search-legitimacy.yaml: has unpublished edits: differs from the published "
        "stop-search-legitimacy 1.0.3 (version 1.0.4 is not published yet)",
        f"Official runs compare the rulesets folder {week_db.rulesets_dir.resolve()} with what the database "
        f"{shown_url} published, and refuse while they differ.",
        "Publish the changes (`qam rulesets publish`), point QAM_RULESETS=<folder> at the rulesets this "
        "database publishes from, or use --draft for a dry run.",
    ]
    assert not (tmp_path / "out" / WEEK).exists()
    # the way forward it names: the folder this database publishes from
    elsewhere = runner.invoke(app, weekly, env={"QAM_RULESETS": str(clean)})
    assert elsewhere.exit_code == 0, elsewhere.output


@pytest.fixture
def incidents_db(week_db: Settings, tmp_path: Path) -> Settings:
    """The scenario with the incidents extract of 2026-W46 and W47 loaded for every place but
    Kingsgate (whose calls are not in the extract)."""
    places = [p for p in api.force(week_db).places if p.code != "KNG"]
    mondays = [dt.date(2026, 11, 9), dt.date(2026, 11, 16)]
    extract = tmp_path / "incidents.csv"
    extract.write_text(incidents_csv(list(generate_incidents(places, mondays, per_week=240, seed=7))))
    assert api.load_incidents_extract(week_db, extract).new > 0
    return week_db


def _utc(stamp: dt.datetime) -> dt.datetime:
    return stamp.astimezone(dt.UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_week_folder_holds_the_incident_figures_worked_out_from_the_stored_incidents(
    incidents_db: Settings, tmp_path: Path
) -> None:
    api.weekly(incidents_db, WEEK, out=tmp_path / "out")
    rows = _read_csv(tmp_path / "out" / WEEK / "incident_metrics.csv")
    assert rows and list(rows[0]) == list(INCIDENT_METRIC_COLUMNS)
    got = {(r["key"], r["criterion"]): r for r in rows}
    assert {r["period"] for r in rows} == {WEEK}  # the week before is not in it
    setting = {p.code: p.setting for p in api.force(incidents_db).places}
    with api.database_for(incidents_db) as database, database.session() as session:
        stored = session.execute(select(Incident.place, Incident.grade, Incident.channel, Incident.received_at,
                                        Incident.answered_at, Incident.arrived_at)).all()  # fmt: skip
    week = [
        (r, _utc(r.received_at))
        for r in stored
        if dt.date(2026, 11, 16) <= _utc(r.received_at).date() <= dt.date(2026, 11, 22)
    ]
    assert 0 < len(week) < len(stored)

    def within(received: dt.datetime, stamp: dt.datetime | None, seconds: float) -> bool:
        return stamp is not None and (_utc(stamp) - received).total_seconds() <= seconds

    # (applies, passes) per response standard: Grade 1 in 15 min urban / 20 rural, Grade 2 in 60, 999 in 10 s
    standards = {
        "RS01": (lambda r: r.grade == 1, lambda r, at: within(at, r.arrived_at, (20 if setting[r.place] == "rural" else 15) * 60)),
        "RS02": (lambda r: r.grade == 2, lambda r, at: within(at, r.arrived_at, 60 * 60)),
        "RS03": (lambda r: r.channel == "999", lambda r, at: within(at, r.answered_at, 10)),
    }  # fmt: skip
    for key in ["FORCE", *sorted(setting)]:
        mine = [(r, at) for r, at in week if key in ("FORCE", r.place)]
        for criterion, (applies, passes) in standards.items():
            counted = [(r, at) for r, at in mine if applies(r)]
            row = got.get((key, criterion))
            if not counted:
                assert row is None, (key, criterion)
                continue
            assert row is not None and row["metric"] and row["ruleset"] == "response-standards"
            assert (row["n"], row["passes"]) == (
                str(len(counted)),
                str(sum(passes(r, at) for r, at in counted)),
            )
            assert float(row["rate"]) == pytest.approx(
                sum(passes(r, at) for r, at in counted) / len(counted), abs=1e-6
            )
        seconds = [(_utc(r.answered_at) - at).total_seconds() for r, at in mine
                   if r.channel == "101" and r.answered_at is not None]  # fmt: skip
        if seconds:
            rs04 = got[(key, "RS04")]
            assert (rs04["n"], rs04["passes"], rs04["rate"]) == (str(len(seconds)), "", "")
            assert float(rs04["median"]) == pytest.approx(statistics.median(seconds), abs=1e-6)
    assert not [k for k in got if k[0] == "KNG"]  # no incidents, no rows: the figures are not zero
    # aggregates.csv keeps to what was reviewed: M2 is fed by the extract alone (docs/outputs.md)
    m2 = [r for r in _read_csv(tmp_path / "out" / WEEK / "aggregates.csv") if r["dimension_key"] == "M2"]
    assert m2 and {r["n"] for r in m2} == {"0"}


def test_coverage_names_what_had_no_data_and_the_briefings_get_it(
    incidents_db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passed: dict[str, Any] = {}
    place_briefings, force_summary = weekly_run.build_place_briefings, weekly_run.build_force_summary

    def places(*args: Any, **kwargs: Any) -> Any:
        passed["run"], passed["by_place"] = args[3], kwargs["not_measured_by_place"]
        return place_briefings(*args, **kwargs)

    def force(*args: Any, **kwargs: Any) -> Any:
        passed["force"] = kwargs["not_measured"]
        return force_summary(*args, **kwargs)

    monkeypatch.setattr(weekly_run, "build_place_briefings", places)
    monkeypatch.setattr(weekly_run, "build_force_summary", force)
    api.weekly(incidents_db, WEEK, out=tmp_path / "out")
    rows = _read_csv(tmp_path / "out" / WEEK / "coverage.csv")
    catalogue = load_measure_catalogue()
    assert list(rows[0]) == list(COVERAGE_COLUMNS)
    codes = [p.code for p in api.force(incidents_db).places]
    assert [r["place"] for r in rows] == [c for c in ["FORCE", *codes] for _ in catalogue.measures]
    cell = {(r["place"], r["measure"]): r for r in rows}
    # Harbourside: stop-searches reviewed, and its calls in the extract; Kingsgate: one DA case only
    aggregates = {
        (r["key"], r["dimension_key"]): r["n"]
        for r in _read_csv(tmp_path / "out" / WEEK / "aggregates.csv")
        if r["level"] in ("force", "place") and r["dimension"] == "measure"
    }
    assert all(r["cases"] == aggregates.get((r["place"], r["measure"]), "0") for r in rows)
    assert (cell[("HRB", "D11")]["measured"], cell[("HRB", "D11")]["source"]) == ("yes", "reviewed cases")
    assert (cell[("HRB", "M2")]["measured"], cell[("HRB", "M2")]["source"]) == ("yes", "incidents")
    assert cell[("KNG", "M2")]["measured"] == "no" and cell[("KNG", "D7")]["measured"] == "yes"
    # M1 is declared by the HR extract definition, but no figures were loaded: not measured
    assert (cell[("HRB", "M1")]["measured"], cell[("HRB", "M1")]["source"]) == ("no", "extracts")
    assert (cell[("HRB", "M3")]["measured"], cell[("HRB", "M3")]["source"]) == ("no", "not defined")
    not_measured = {
        place: tuple(
            r["measure"]
            for r in rows
            if r["place"] == place and r["measured"] == "no" and r["source"] != "not defined"
        )
        for place in ["FORCE", *codes]
    }
    assert passed["force"] == not_measured.pop("FORCE")
    assert passed["by_place"] == not_measured
    # Kingsgate had no data on any item of priority 4 (nor on priority 1's M2): all named
    assert set(catalogue.of_priority(4)) | {"M2"} <= set(passed["by_place"]["KNG"])
    assert passed["run"].measure_priorities == {m.id: m.priority for m in catalogue.measures.values()}


def test_each_briefing_has_a_cases_csv_listing_every_failing_case_of_its_place(
    week_db: Settings, tmp_path: Path
) -> None:
    api.weekly(week_db, WEEK, out=tmp_path / "out")
    folder = tmp_path / "out" / WEEK
    assert sorted(p.name for p in folder.glob("*-cases.csv")) == ["HRB-cases.csv", "KNG-cases.csv"]
    failing: dict[str, set[str]] = {}
    for r in _read_csv(folder / "aggregates.csv"):
        if r["level"] == "place" and r["dimension"] == "criterion" and r["cases"]:
            failing.setdefault(r["key"], set()).update(r["cases"].split(";"))
    exceptions = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))["exceptions"]
    for place in ("HRB", "KNG"):
        rows = _read_csv(folder / f"{place}-cases.csv")
        assert list(rows[0]) == list(CASES_CSV_COLUMNS)
        assert {r["place"] for r in rows} == {place}
        listed = {r["case_ref"] for r in rows}
        assert listed == failing[place]
        assert listed == {c for e in exceptions if e["place"] == place for c in e["cases"]}
    hrb = _read_csv(folder / "HRB-cases.csv")
    assert {r["measure"] for r in hrb} == {"D11"}
    # each case once in the place's issue (entry 1), and once again in its team's (team exceptions)
    assert len([r for r in hrb if r["entry"] == "1"]) == 24 and len(hrb) == 48
    assert sorted(r["case_ref"] for r in hrb if r["entry"] != "1") == sorted(r["case_ref"] for r in hrb[:24])
    (kng,) = _read_csv(folder / "KNG-cases.csv")
    assert (kng["case_ref"], kng["critical"], kng["failed_criteria"]) == ("DA-KNG-001", "yes", "DA02")
    assert kng["reviewer_note"] == '<b>not bold</b> =HYPERLINK("x")'  # in full, as text


def test_the_new_files_are_byte_identical_on_rerun(incidents_db: Settings, tmp_path: Path) -> None:
    first = api.weekly(incidents_db, WEEK, out=tmp_path / "a")
    second = api.weekly(incidents_db, WEEK, out=tmp_path / "b")
    assert {"incident_metrics.csv", "coverage.csv", "HRB-cases.csv", "KNG-cases.csv"} <= set(first.files)
    assert first.run_id == second.run_id and first.files == second.files
    for name in first.files:
        assert (tmp_path / "a" / WEEK / name).read_bytes() == (tmp_path / "b" / WEEK / name).read_bytes()
    # the run's manifest holds their hashes, and an audit re-derives them byte for byte
    report = api.audit(incidents_db, first.run_id)
    assert {f.name: f.status for f in report.files} == dict.fromkeys(first.files, "match")
    assert report.ok
