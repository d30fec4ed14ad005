"""PEEL reruns (`qam peel`, engine/runs/peel.py) on SQLite and PostgreSQL: byte-identical reruns, --as-of
picking the ruleset versions in force, reproducing the original scores across a real criterion
change, compare-original attributing moved findings to that change, quarters, the CLI, and Ctrl-C
leaving nothing half-written."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import statistics
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select
from typer.testing import CliRunner

from engine import api, registry
from engine.cli import app
from engine.core import parallel
from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings
from engine.core.hashing import hash_days, hash_inputs
from engine.demo.factories import build_row
from engine.demo.incidents import generate_incidents, incidents_csv
from engine.inputs.submission_files import write_submission_csv
from engine.reports.wording import plain_number
from engine.store import case_scores, runs
from engine.store import db as dbm
from engine.store.db import Assessment, CaseScore, DaySummary, Incident
from tests.runs.spreadsheet_cells import evil_row, formula_cells, is_number, plain_rows

T1 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # the bundled versions of every ruleset published
T2 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)  # stop-search-legitimacy 1.1.0: SS03 stricter
BEFORE, AFTER = dt.date(2026, 6, 30), dt.date(2026, 9, 1)
START, END = dt.date(2026, 4, 1), dt.date(2026, 9, 30)
SS_FILE = Path("priority4") / "stop-search-legitimacy.yaml"
SS03_PASS = "    pass: object_recorded == 'yes'\n"


def _rows() -> list[dict[str, str]]:
    """21 weeks (2026-04-06 to 2026-08-24): 3 searches at Harbourside (a quarter without grounds) and
    3 at Blackwater (a few without body-worn video) each week; one high-risk DA case at Kingsgate
    without a MARAC referral. Weekly rates vary, as real ones do."""
    rows = []
    for w in range(21):
        day = (dt.date(2026, 4, 6) + dt.timedelta(weeks=w)).isoformat()
        for place in ("HRB", "BLK"):
            for i in range(3):
                rows.append(
                    build_row(
                        "stop_search",
                        assessment_id=f"QA-{place}-{w:02d}-{i}",
                        case_ref=f"SS-{place}-{w:02d}-{i}",
                        place=place,
                        assessed_on=day,
                        case_date="2026-03-30",
                        grounds_missing=place == "HRB" and (w + i) % 4 == 0,
                        no_bwv=place == "BLK" and (3 * w + i) % 7 == 0,
                    )
                )
    rows.append(
        build_row(
            "domestic_abuse",
            assessment_id="QA-KNG-DA1",
            case_ref="DA-KNG-001",
            place="KNG",
            assessed_on="2026-05-20",
            case_date="2026-05-10",
            high_risk_no_marac=True,
            notes="<b>not bold</b> & =cmd",
        )
    )
    return rows


#: built once: the factories' sequences (teams, officers) move on with every call
ROWS = _rows()
N_SEARCHES = 21 * 6


def _publish(settings: Settings, when: dt.datetime, note: str) -> None:
    with api.database_for(settings) as database:
        registry.publish(
            database,
            settings.rulesets_dir,
            api.fields_by_case_type(settings),
            author="qa",
            note=note,
            now=when,
            documents=registry.DocumentPaths.of(settings),
        )


def _change_ss03(settings: Settings) -> None:
    """A real criterion change: SS03 passes only when the object was recorded *and* found."""
    path = settings.rulesets_dir / SS_FILE
    text = path.read_text(encoding="utf-8")
    assert text.count(SS03_PASS) == 1 and text.count("version: 1.0.3\n") == 1
    text = text.replace(SS03_PASS, "    pass: object_recorded == 'yes' and object_found == 'yes'\n")
    path.write_text(text.replace("version: 1.0.3\n", "version: 1.1.0\n"), encoding="utf-8")


def _prepare(
    settings: Settings, tmp: Path, *, score_original: bool, rows: Sequence[dict[str, str]] = ROWS
) -> Settings:
    """v1 published at T1, the rows submitted (and scored, as the weekly runs would have), then the
    SS03 change published at T2 as stop-search-legitimacy 1.1.0."""
    rulesets = tmp / "rulesets"
    shutil.copytree(settings.rulesets_dir, rulesets)
    settings = replace(settings, rulesets_dir=rulesets)
    api.init_database(settings)
    _publish(settings, T1, "first publication")
    api.submit(settings, [write_submission_csv(tmp / "qa.csv", rows)])
    places = api.force(settings).places
    mondays = [dt.date(2026, 4, 6) + dt.timedelta(weeks=w) for w in range(21)]
    incidents = tmp / "incidents.csv"
    incidents.write_text(incidents_csv(list(generate_incidents(places, mondays, per_week=36, seed=5))))
    assert api.load_incidents_extract(settings, incidents).new == 21 * 36
    if score_original:
        assert api.score(settings).total == N_SEARCHES + 1
    _change_ss03(settings)
    _publish(settings, T2, "SS03: the object must also be found")
    return settings


@pytest.fixture
def peel_db(settings: Settings, database: dbm.Database, tmp_path: Path) -> Settings:
    return _prepare(settings, tmp_path, score_original=True)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _outcomes(settings: Settings, version: str) -> dict[str, dict[str, str]]:
    """assessment id -> stop-search outcomes stored under one version."""
    with api.database_for(settings) as database, database.session() as session:
        rows = session.execute(
            select(Assessment.assessment_id, CaseScore.outcomes)
            .join(CaseScore, CaseScore.assessment_pk == Assessment.pk)
            .where(CaseScore.ruleset_id == "stop-search-legitimacy", CaseScore.ruleset_version == version)
        )
        return {aid: dict(outcomes) for aid, outcomes in rows}


def test_reruns_are_byte_identical_and_as_of_picks_the_versions_in_force(
    peel_db: Settings, tmp_path: Path
) -> None:
    first = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "a")
    folder = tmp_path / "a" / "peel-2026-04-01-2026-09-30"
    assert first.run.folder == folder
    written = _files(folder)
    assert set(written) == {
        "aggregates.csv",
        "aggregates.parquet",
        "incident_metrics.csv",
        "incident_metrics.parquet",
        "exceptions-2026-Q2.json",
        "exceptions-2026-Q3.json",
        "exceptions.json",
        "manifest.json",
        "peel.pdf",
    }
    again = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "a")
    elsewhere = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "b")
    assert again.run.run_id == elsewhere.run.run_id == first.run.run_id
    assert _files(folder) == written == _files(tmp_path / "b" / folder.name)
    assert first.run.scored.total == N_SEARCHES and again.run.scored.total == 0  # stored scores reused

    data = json.loads(written["exceptions.json"])
    assert data["period"] == {"from": "2026-04-01", "to": "2026-09-30", "label": "peel-2026-04-01-2026-09-30"}
    ss = next(r for r in data["rulesets"] if r["id"] == "stop-search-legitimacy")
    assert ss["version"] == "1.1.0"
    found = {(e["kind"], e["place"], e["criterion"]) for e in data["exceptions"]}
    # SS03 now fails every search (no object was found), SS01/SS02 fail 1 in 3 at Harbourside
    assert {("below_standard", p, "SS03") for p in ("HRB", "BLK")} <= found
    assert ("critical", "KNG", "DA02") in found
    q2 = json.loads(written["exceptions-2026-Q2.json"])
    assert q2["period"] == {"from": "2026-04-01", "to": "2026-06-30", "label": "2026-Q2"}
    assert ("critical", "KNG", "DA02") in {(e["kind"], e["place"], e["criterion"]) for e in q2["exceptions"]}
    q3 = json.loads(written["exceptions-2026-Q3.json"])
    assert "DA02" not in {e["criterion"] for e in q3["exceptions"]}  # the DA case was in May

    manifest = json.loads(written["manifest.json"])
    assert manifest["kind"] == "peel" and manifest["run_id"] == first.run.run_id
    assert manifest["as_of"] == "2026-09-01T23:59:59.999999+00:00"
    assert set(manifest["outputs"]) == set(written) - {"manifest.json"}
    with api.database_for(peel_db) as database, database.session() as session:
        recorded = runs.run(session, first.run.run_id)
        assert recorded is not None and recorded.kind == "peel"
        assert len(runs.run_executions(session, first.run.run_id)) == 3  # a, a again, b

    before = api.peel(peel_db, START, END, as_of=BEFORE, out=tmp_path / "c")
    data = json.loads((before.run.folder / "exceptions.json").read_text(encoding="utf-8"))
    assert next(r for r in data["rulesets"] if r["id"] == "stop-search-legitimacy")["version"] == "1.0.3"
    assert "SS03" not in {e["criterion"] for e in data["exceptions"]}
    assert before.run.run_id != first.run.run_id

    text = " ".join(p.extract_text() for p in PdfReader(folder / "peel.pdf").pages)
    for heading in ("PEEL pillar: Legitimacy", "PEEL pillar: Effectiveness", "D11", "2026-Q2", "2026-Q3"):
        assert heading in text


def test_as_of_before_a_change_reproduces_the_original_scores_exactly(tmp_path: Path) -> None:
    # two SQLite databases: one that scored as the weekly runs did, one that never scored anything
    sqlite = Settings(
        database_url=f"sqlite:///{tmp_path / 'orig.db'}",
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=DEFAULT_RULESETS_DIR,
        forms_dir=DEFAULT_FORMS_DIR,
    )
    (tmp_path / "orig").mkdir()
    (tmp_path / "fresh").mkdir()
    original = _prepare(sqlite, tmp_path / "orig", score_original=True)
    first_scores = _outcomes(original, "1.0.3")
    assert len(first_scores) == N_SEARCHES
    # a second database that never scored anything: the rerun scores from the registry's v1 content
    fresh = replace(sqlite, database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh = _prepare(fresh, tmp_path / "fresh", score_original=False)
    a = api.peel(original, START, END, as_of=BEFORE, out=tmp_path / "a")
    b = api.peel(fresh, START, END, as_of=BEFORE, out=tmp_path / "b")
    assert a.run.scored.total == 0 and b.run.scored.total == N_SEARCHES + 1
    assert _outcomes(fresh, "1.0.3") == first_scores
    assert a.run.run_id == b.run.run_id
    assert _files(a.run.folder) == _files(b.run.folder)
    # and under the new version the same cases do differ, on SS03 only
    api.peel(fresh, START, END, as_of=AFTER, out=tmp_path / "b")
    changed = _outcomes(fresh, "1.1.0")
    moved = {c for aid, o in changed.items() for c in o if o[c] != first_scores[aid][c]}
    assert moved == {"SS03"}


def test_compare_original_attributes_moved_findings_to_the_criterion_change(
    peel_db: Settings, tmp_path: Path
) -> None:
    result = api.peel(peel_db, START, END, out=tmp_path, compare_original=True)
    c = result.comparison
    assert c is not None
    assert c.compared == N_SEARCHES + 1 and c.same_version == 1 and c.changed == N_SEARCHES
    assert len(c.summary) == 1
    s = c.summary[0]
    assert (s.ruleset, s.original_version, s.rerun_version, s.criterion) == (
        "stop-search-legitimacy",
        "1.0.3",
        "1.1.0",
        "SS03",
    )
    assert s.cause == "SS03 changed (pass)"
    assert s.findings == N_SEARCHES and s.moves == (("pass -> fail", N_SEARCHES),)
    assert s.places == (("BLK", N_SEARCHES // 2), ("HRB", N_SEARCHES // 2))
    with (result.run.folder / "compare.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == N_SEARCHES
    assert {(r["criterion"], r["original_outcome"], r["rerun_outcome"]) for r in rows} == {
        ("SS03", "pass", "fail")
    }
    assert rows[0]["original_score"] != rows[0]["rerun_score"]
    text = " ".join(p.extract_text() for p in PdfReader(result.run.folder / "peel.pdf").pages)
    assert "Compared with the scores first recorded" in text and "SS03 changed (pass)" in text


def test_refs_that_start_like_formulas_are_written_as_text_and_the_numbers_are_unchanged(
    peel_db: Settings, tmp_path: Path
) -> None:
    """Every CSV of a PEEL rerun (aggregates, incident metrics, compare) writes a ref starting with
    = + - @ with a leading ', so Excel shows it as text; the counts, rates and scores do not move."""
    evil_db = replace(
        peel_db, database_url=f"sqlite:///{tmp_path / 'evil.db'}", rulesets_dir=DEFAULT_RULESETS_DIR
    )
    evil = _prepare(evil_db, tmp_path / "e", score_original=True, rows=[evil_row(r) for r in ROWS])
    plain_run = api.peel(peel_db, START, END, out=tmp_path / "clean", compare_original=True).run.folder
    evil_run = api.peel(evil, START, END, out=tmp_path / "evil", compare_original=True).run.folder
    names = sorted(p.name for p in evil_run.glob("*.csv"))
    assert names == ["aggregates.csv", "compare.csv", "incident_metrics.csv"]
    with (evil_run / "compare.csv").open(encoding="utf-8", newline="") as fh:
        moved = list(csv.DictReader(fh))
    assert {r["case_ref"][:2] for r in moved} == {"'=", "'+", "'-", "'@"}
    assert all(is_number(r[c]) for r in moved for c in ("original_score", "rerun_score"))
    assert formula_cells(evil_run) == []
    for name in names:
        assert plain_rows(evil_run / name) == plain_rows(plain_run / name), name


def test_the_cli_prints_the_run_and_the_comparison(
    peel_db: Settings, tmp_path: Path, runner: CliRunner
) -> None:
    base = ["--database", peel_db.database_url, "peel", "--from", "2026-04-01", "--to", "2026-09-30"]
    out = ["--out", str(tmp_path)]
    # the CLI reads rulesets from the registry only, never the working tree: any folder will do
    result = runner.invoke(app, [*base, "--as-of", "2026-09-01", "--compare-original", *out])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("peel-2026-04-01-2026-09-30 (rulesets as of 2026-09-01): 127 cases reviewed")
    assert "by quarter 2026-Q2: " in lines[0] and "10 files written to" in lines[0]
    assert lines[2].startswith(
        "stop-search-legitimacy 1.0.3 -> 1.1.0, SS03 changed (pass): 126 findings moved"
    )
    both = runner.invoke(app, [*base, "--as-of", "2026-09-01", "--published", *out])
    assert both.exit_code == 2 and "not both" in both.output
    backwards = runner.invoke(
        app, ["--database", peel_db.database_url, "peel", "--from", "2026-09-30", "--to", "2026-04-01"]
    )
    assert backwards.exit_code == 2 and "before --from" in backwards.output
    too_early = runner.invoke(app, [*base, "--as-of", "2026-01-01", *out])
    assert too_early.exit_code == 3 and "no ruleset was published by 2026-01-01T23:59:59" in too_early.output


def test_a_rerun_into_another_runs_folder_says_so_and_keeps_its_exceptions(
    peel_db: Settings, tmp_path: Path, runner: CliRunner
) -> None:
    base = ["--database", peel_db.database_url, "peel", "--from", "2026-04-01", "--to", "2026-09-30"]
    folder = tmp_path / "peel-2026-04-01-2026-09-30"

    def run(as_of: str) -> str:
        result = runner.invoke(app, [*base, "--as-of", as_of, "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        return result.output.splitlines()[0]

    run("2026-09-01")
    old = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["run_id"]
    old_exceptions = (folder / "exceptions.json").read_bytes()
    written = _files(folder)
    assert run("2026-09-01").endswith(f"(run {old}), unchanged: an identical rerun")
    assert _files(folder) == written
    line = run("2026-06-30")
    new = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["run_id"]
    assert new != old
    assert line.endswith(
        f"(run {new}), replacing the PEEL report of run {old} "
        f"(qam runs show {old}; its exceptions.json is kept as previous/exceptions-{old}.json)"
    )
    assert (folder / "previous" / f"exceptions-{old}.json").read_bytes() == old_exceptions
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "previous" not in manifest["outputs"]


def test_ctrl_c_leaves_no_folder_and_only_whole_rulesets_scored(
    peel_db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*_args: object) -> None:
        raise KeyboardInterrupt

    store_scores = case_scores.store_scores

    def stored_then_interrupted(session: Any, rows: Any, **kwargs: Any) -> int:
        n = store_scores(session, rows, **kwargs)
        if rows[0]["ruleset_id"] == "stop-search-legitimacy":  # inside its transaction
            raise KeyboardInterrupt
        return n

    with monkeypatch.context() as patched:
        patched.setattr(case_scores, "store_scores", stored_then_interrupted)
        with pytest.raises(KeyboardInterrupt):
            api.peel(peel_db, START, END, out=tmp_path)
    assert _outcomes(peel_db, "1.1.0") == {}  # rolled back: nothing half-stored
    monkeypatch.setattr("engine.reports.peel_pdf.peel_pdf", interrupt)
    with pytest.raises(KeyboardInterrupt):
        api.peel(peel_db, START, END, out=tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # no output folder, no temporary folder
    assert len(_outcomes(peel_db, "1.1.0")) == N_SEARCHES  # whole rulesets were stored


def _forget_day_summaries(settings: Settings) -> None:
    with api.database_for(settings) as database, database.session() as session:
        session.execute(delete(DaySummary))


def test_incidents_summarised_in_chunks_in_a_worker_or_from_stored_summaries_give_the_same_files(
    peel_db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "whole")
    reused = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "reused")  # the stored summaries
    monkeypatch.setattr("engine.store.rows.FETCH_ROWS", 100)  # 756 incidents summarised in 8 chunks
    _forget_day_summaries(peel_db)
    alone = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "alone")
    monkeypatch.setattr(parallel, "PEEL_INCIDENTS_PARALLEL_FROM", 1)
    monkeypatch.setattr(parallel, "PEEL_TABLES_PARALLEL_FROM", 1)  # peel.pdf written by a worker too
    _forget_day_summaries(peel_db)
    both = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "both", workers=2)
    folders = (whole, reused, alone, both)
    assert all(_files(r.run.folder) == _files(whole.run.folder) for r in folders)
    manifest = json.loads((both.run.folder / "manifest.json").read_text(encoding="utf-8"))
    by_day: dict[dt.date, list[str]] = {}
    with api.database_for(peel_db) as database, database.session() as session:
        for received, digest in session.execute(select(Incident.received_at, Incident.content_hash)):
            by_day.setdefault(received.date(), []).append(digest)
    assert sum(len(h) for h in by_day.values()) == 21 * 36  # none lost
    assert manifest["inputs"]["incidents"] == hash_days((d, hash_inputs(h)) for d, h in by_day.items())


def _utc(stamp: dt.datetime) -> dt.datetime:
    return stamp.astimezone(dt.UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def test_measures_fed_by_the_incidents_show_each_response_standard(peel_db: Settings, tmp_path: Path) -> None:
    result = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path)
    text = "\n".join(p.extract_text() for p in PdfReader(result.run.folder / "peel.pdf").pages)
    m2 = text[text.index("M2 Response Performance") : text.index("M4 Crime outcomes")]
    sections = {rs: m2[m2.index(f"{rs} ") :] for rs in ("RS01", "RS02", "RS03", "RS04")}
    with api.database_for(peel_db) as database, database.session() as session:
        rows = session.execute(select(Incident.place, Incident.grade, Incident.channel, Incident.received_at,
                                      Incident.answered_at)).all()  # fmt: skip
    received = [(r, _utc(r.received_at)) for r in rows]
    q2_end = dt.date(2026, 6, 30)

    def counts(keep: Any) -> tuple[int, int, int]:
        """(period, Q2, Q3) counts of the incidents ``keep`` picks, by the UTC day received."""
        days = [at.date() for r, at in received if keep(r) and START <= at.date() <= END]
        return len(days), sum(d <= q2_end for d in days), sum(d > q2_end for d in days)

    for rs, keep in (("RS01", lambda r: r.grade == 1), ("RS02", lambda r: r.grade == 2),
                     ("RS03", lambda r: r.channel == "999")):  # fmt: skip
        whole, q2, q3 = counts(keep)
        assert whole == q2 + q3 > 0
        assert f"\npeel-2026-04-01-2026-09-30\n{whole:,}\n" in sections[rs]
        assert f"\n2026-Q2\n{q2:,}\n" in sections[rs] and f"\n2026-Q3\n{q3:,}\n" in sections[rs]
    dalewood = counts(lambda r: r.grade == 1 and r.place == "DLW")[0]
    assert f"Dalewood (DLW)\n{dalewood:,}\n" in sections["RS01"]
    assert "Standard: 90% (response-standards RS01)" in sections["RS01"]

    seconds = sorted(
        (_utc(r.answered_at) - at).total_seconds()
        for r, at in received
        if r.channel == "101" and r.answered_at is not None and START <= at.date() <= END
    )
    answered = (
        f"\npeel-2026-04-01-2026-09-30\n{len(seconds):,}\n{plain_number(statistics.fmean(seconds))} s\n"
    )
    assert answered in sections["RS04"]  # the mean, then its interval, the median and 90th percentile
    assert f"\n{plain_number(statistics.median(seconds))} s\n" in sections["RS04"]
    assert "No standard: watched for special-cause variation only" in sections["RS04"]
    assert "Force weekly mean seconds" in sections["RS04"] and "Force weekly rate" in sections["RS01"]
    # the same figures, tidy, for Power BI
    with (result.run.folder / "incident_metrics.csv").open(encoding="utf-8", newline="") as fh:
        table = {(r["period"], r["key"], r["criterion"]): r for r in csv.DictReader(fh)}
    whole, q2, _ = counts(lambda r: r.grade == 1)
    assert table[("peel-2026-04-01-2026-09-30", "FORCE", "RS01")]["n"] == str(whole)
    assert table[("2026-Q2", "FORCE", "RS01")]["n"] == str(q2)
    assert table[("peel-2026-04-01-2026-09-30", "DLW", "RS01")]["n"] == str(dalewood)
    rs04 = table[("peel-2026-04-01-2026-09-30", "FORCE", "RS04")]
    assert (rs04["n"], rs04["passes"], rs04["rate"]) == (str(len(seconds)), "", "")
    assert float(rs04["median"]) == pytest.approx(statistics.median(seconds), abs=1e-6)
    pillars = text[text.index("Pillars and measures") :].splitlines()
    assert "M2" in pillars[pillars.index("Effectiveness") + 1].split(", ")  # a measure with data


def _csv_cell(value: object) -> str:
    """A Parquet value as aggregates.csv writes it."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.6f}"
    if not isinstance(value, str) and hasattr(value, "__iter__"):  # a list of case refs
        return ";".join(value)
    return str(value)


def test_parquet_tables_hold_the_csv_rows_and_are_left_out_without_pyarrow(
    peel_db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "with").run.folder
    table = pd.read_parquet(folder / "aggregates.parquet")
    with (folder / "aggregates.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert list(table.columns) == rows[0]
    assert len(table) == len(rows) - 1 > 100
    assert table["n"].dtype.kind == table["passes"].dtype.kind == "i" and table["rate"].dtype.kind == "f"
    failing = table[table["fails"] > 0]
    assert len(failing) and all(len(c) for c in failing["cases"])  # the failing cases' refs, as a list
    as_csv = [[_csv_cell(v) for v in row] for row in table.itertuples(index=False)]
    assert as_csv == rows[1:]
    metrics = pd.read_parquet(folder / "incident_metrics.parquet", dtype_backend="numpy_nullable")
    with (folder / "incident_metrics.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert list(metrics.columns) == rows[0] and len(metrics) == len(rows) - 1 > 20
    assert metrics["passes"].dtype.kind == "i" and metrics["median"].dtype.kind == "f"
    assert [[_csv_cell(v) for v in row] for row in metrics.itertuples(index=False)] == rows[1:]

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if pyarrow were not installed
    without = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path / "without").run.folder
    written = _files(without)
    parquet = {"aggregates.parquet", "incident_metrics.parquet"}
    assert not parquet & set(written) and not parquet & set(json.loads(written["manifest.json"])["outputs"])
    same = {k: v for k, v in _files(folder).items() if k not in {*parquet, "manifest.json"}}
    assert {k: v for k, v in written.items() if k != "manifest.json"} == same
