"""`qam officers` end to end, on SQLite and PostgreSQL: each officer with a role gets one PDF of the
role's key aspects and officers.csv a row per officer and aspect; every figure is recomputed here from
the stored rows with plain SQL; an officer's PDF names only their own cases; too few cases say so."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from typer.testing import CliRunner

from engine import api
from engine.analysis.stats import wilson_interval
from engine.cli import app
from engine.core.config import Settings
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from engine.store.db import open_database

FROM, TO = "2026-11-01", "2026-11-30"
FOLDER = f"officers-{FROM}-{TO}"
ADA, BEN, CARA, DEV, ELI = "PC Ada Byrne", "PC Ben Cole", "PC Cara Dunn", "DC Dev Eze", "PC Eli Fox"


def _rows() -> list[dict[str, str]]:
    """Harbourside's Response A (Ada, Ben), Response B (Cara, 3 searches: too few), Kingsgate's CID
    (Dev), and Eli in Traffic, a team no role matches."""
    rows: list[dict[str, str]] = []

    def add(case_type: str, ref: str, officer: str, team: str, place: str, **traits: Any) -> None:
        rows.append(
            build_row(case_type, assessment_id=f"QA-{ref}", case_ref=ref, officer=officer, team=team,
                      place=place, assessed_on="2026-11-17", case_date="2026-11-02", **traits)
        )  # fmt: skip

    for i in range(10):
        add("stop_search", f"SS-ADA-{i:02d}", ADA, "Response A", "HRB", grounds_missing=i < 3,
            notes=f"Ada's search {i}: <b>grounds</b> thin" if i < 3 else "")  # fmt: skip
    for i in range(6):
        add("domestic_abuse", f"DA-ADA-{i:02d}", ADA, "Response A", "HRB", no_dash=i < 2,
            notes="DASH not done" if i < 2 else "")  # fmt: skip
    for i in range(8):
        add("stop_search", f"SS-BEN-{i:02d}", BEN, "Response A", "HRB", grounds_missing=i < 2,
            notes="Ben's grounds" if i < 2 else "")  # fmt: skip
    for i in range(3):
        add("stop_search", f"SS-CAR-{i:02d}", CARA, "Response B", "HRB", grounds_missing=i < 1)
    for i in range(6):
        add("investigation", f"IN-DEV-{i:02d}", DEV, "CID", "KNG", no_plan=i < 1, notes="no plan recorded")
    for i in range(5):
        add("stop_search", f"SS-ELI-{i:02d}", ELI, "Traffic", "BLK")
    return rows


@pytest.fixture
def officers_db(published: Settings, tmp_path: Path) -> Settings:
    api.submit(published, [write_submission_csv(tmp_path / "cases.csv", _rows())])
    return published


def _stored(settings: Settings) -> list[tuple[str, str, str, str, str, dict[str, str]]]:
    """(officer, team, place, case_ref, ruleset, outcomes) of every current, official score."""
    db = open_database(settings.database_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT a.officer, a.team, a.place, a.case_ref, s.ruleset_id, s.outcomes FROM assessments a "
                    "JOIN case_scores s ON s.assessment_pk = a.pk "
                    "WHERE a.is_current AND NOT s.draft AND a.assessed_on BETWEEN :a AND :b"
                ),
                {"a": FROM, "b": TO},
            ).all()
    finally:
        db.close()
    return [(*r[:5], r[5] if isinstance(r[5], dict) else json.loads(r[5])) for r in rows]


def _rate(outcomes: list[str]) -> str:
    """A team's or place's rate as officers.csv gives it: blank with fewer than 5 cases."""
    return f"{sum(o == 'pass' for o in outcomes) / len(outcomes):.4f}" if len(outcomes) >= 5 else ""


def _run(settings: Settings, out: Path) -> Path:
    import datetime as dt

    api.officers(settings, dt.date.fromisoformat(FROM), dt.date.fromisoformat(TO), out)
    return out / FOLDER


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def test_every_officer_figure_is_recomputed_from_the_stored_rows(
    officers_db: Settings, tmp_path: Path
) -> None:
    folder = _run(officers_db, tmp_path / "out")
    stored = _stored(officers_db)
    by_officer: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    by_team: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    by_place: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for officer, team, place, _ref, ruleset, outcomes in stored:
        for criterion, outcome in outcomes.items():
            if outcome == "na":
                continue
            key = f"{ruleset}/{criterion}"
            by_officer[officer][key].append(outcome)
            by_team[(place, team)][key].append(outcome)
            by_place[place][key].append(outcome)
    rows = list(csv.DictReader((folder / "officers.csv").read_text(encoding="utf-8").splitlines()))
    assert sorted({r["officer"] for r in rows}) == sorted([ADA, BEN, CARA, DEV])  # Eli: no role
    assert [r["officer"] for r in rows] == sorted(r["officer"] for r in rows)  # alphabetical, not ranked
    checked = 0
    for r in rows:
        if r["n"] == "":  # a metric: measured for teams and places only
            assert r["rate"] == r["team_rate"] == r["place_rate"] == ""
            continue
        mine = by_officer[r["officer"]][r["aspect"]]
        n, passed = len(mine), sum(o == "pass" for o in mine)
        assert (int(r["n"]), int(r["passed"])) == (n, passed), r
        if n >= 5:
            low, high = wilson_interval(passed, n)
            assert (r["rate"], r["ci_low"], r["ci_high"]) == (
                f"{passed / n:.4f}",
                f"{low:.4f}",
                f"{high:.4f}",
            )
        else:
            assert r["rate"] == r["ci_low"] == r["ci_high"] == ""
        team, place = by_team[(r["place"], r["team"])][r["aspect"]], by_place[r["place"]][r["aspect"]]
        assert (int(r["team_n"]), r["team_rate"]) == (len(team), _rate(team)), r
        assert (int(r["place_n"]), r["place_rate"]) == (len(place), _rate(place)), r
        checked += 1
    assert checked >= 10
    ada = {r["aspect"]: r for r in rows if r["officer"] == ADA}
    ss02 = ada["stop-search-legitimacy/SS02"]
    # Ada: 7 of 10; Response A at Harbourside: Ada's 10 and Ben's 8, 13 of 18; Harbourside with Cara's 3,
    # 15 of 21
    assert (ss02["n"], ss02["passed"], ss02["team_n"], ss02["place_n"]) == ("10", "7", "18", "21")
    assert ada["domestic-abuse-safeguarding/DA01"]["passed"] == "4"
    pdf = _pdf_text(folder / "pc-ada-byrne.pdf")
    assert "7 of 10" in pdf and "70% (40% to 89%)" in pdf
    assert "72% of 18" in pdf and "71% of 21" in pdf


def test_an_officers_file_names_only_their_own_cases(officers_db: Settings, tmp_path: Path) -> None:
    folder = _run(officers_db, tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == [
        "dc-dev-eze.pdf", "officers.csv", "pc-ada-byrne.pdf", "pc-ben-cole.pdf", "pc-cara-dunn.pdf",
    ]  # fmt: skip
    refs = {
        officer: {ref for o, _t, _p, ref, _r, _o in _stored(officers_db) if o == officer}
        for officer in (ADA, BEN, CARA, DEV, ELI)
    }
    for name, officer in (
        ("pc-ada-byrne", ADA),
        ("pc-ben-cole", BEN),
        ("pc-cara-dunn", CARA),
        ("dc-dev-eze", DEV),
    ):
        pdf = _pdf_text(folder / f"{name}.pdf")
        for other, theirs in refs.items():
            if other != officer:
                assert other not in pdf, (name, other)
                assert not [r for r in theirs if r in pdf], (name, other)
    ada = _pdf_text(folder / "pc-ada-byrne.pdf")
    # her failing cases with the reviewers' notes, printed literally
    assert "SS-ADA-00" in ada and "Ada's search 0: <b>grounds</b> thin" in ada and "DASH not done" in ada
    assert "SS-ADA-05" not in ada  # a case that met every aspect is not listed
    assert "not a ranking" in ada


def test_too_few_cases_to_say(officers_db: Settings, tmp_path: Path) -> None:
    folder = _run(officers_db, tmp_path / "out")
    cara = _pdf_text(folder / "pc-cara-dunn.pdf")
    assert "too few cases to say" in cara and "2 of 3" in cara
    # no rate of her own, nor her team's: Response B's 3 searches are all hers
    assert "2 of 3 too few cases to say (fewer than 5) too few cases 71% of 21" in cara


def test_a_rerun_writes_the_same_bytes_and_the_cli_says_who_has_no_role(
    officers_db: Settings, tmp_path: Path, runner: CliRunner
) -> None:
    first = {p.name: p.read_bytes() for p in _run(officers_db, tmp_path / "a").iterdir()}
    second = {p.name: p.read_bytes() for p in _run(officers_db, tmp_path / "b").iterdir()}
    assert first == second
    result = runner.invoke(
        app,
        [
            "--database",
            officers_db.database_url,
            "officers",
            "--from",
            FROM,
            "--to",
            TO,
            "--out",
            str(tmp_path / "c"),
        ],
        env={"QAM_RULESETS": str(officers_db.rulesets_dir)},
    )
    assert result.exit_code == 0, result.output
    assert "4 officer summaries" in result.output
    assert "1 officers have no role" in result.output and "Traffic" in result.output
    assert not list(tmp_path.glob("c/.officers-*"))  # no temporary folder left behind
