"""`qam review --quarter`: the Learning Review calendar's problems at file:line, the pack written with
its sections, its figures recomputed from the stored rows, stories marked on the form (and only
those), and the same figures as `qam peel` over the quarter. Small seeded data, SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from typer.testing import CliRunner

from engine import api
from engine.analysis.review import persistence, quarter_weeks
from engine.analysis.stats import wilson_interval
from engine.cli import app
from engine.core.config import DEFAULT_CATALOGUE_FILE, DEFAULT_REVIEWS_FILE, Settings, load_settings
from engine.core.errors import ConfigError
from engine.core.models import ExceptionKind, PerformanceException
from engine.core.reviews import ReviewsError, check_themes, load_calendar
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from engine.rules.catalogue import load_measure_catalogue
from engine.runs.review import review_run
from engine.store import actions
from engine.store.db import open_database
from tests.conftest import PostgresSchemas, _pg_url_with_schema

QUARTER, START, END = "2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)
CALENDAR = """format: 1
version: 2.0.0
quarters:
  2026-Q3:
    title: Safeguarding and stop and search
    items: [D7, D11]
    meeting: 2026-10-21
"""
#: mid-quarter: the weeks 2026-W27 to 2026-W32 are over and worked out, the last four W29 to W32
WRITTEN = dt.datetime(2026, 8, 10, 9, 0, tzinfo=dt.UTC)
GOOD = "Officer spotted the <b>children</b> & referred them the same hour"
LEARN = "MARAC referral missed; =HYPERLINK() risk high"
PLAIN = "Unmarked note: nothing special"


def _rows() -> list[dict[str, str]]:
    """Stop searches in Harbourside (two teams) and Kingsgate over the quarter's weeks, some without
    grounds; domestic abuse cases, one marked good practice, one learning, one note unmarked; one
    high-risk case without a MARAC referral in Harbourside in 2026-W27 (a critical exception that
    clears) and one in Kingsgate in 2026-W31 (persists)."""
    rows: list[dict[str, str]] = []
    day = dt.date(2026, 6, 29)  # the Monday of 2026-W27
    for week in range(13):
        monday = day + dt.timedelta(weeks=week)
        on = (monday + dt.timedelta(days=2)).isoformat()
        for i in range(4):
            place, team = (
                ("HRB", "Response A") if i < 2 else ("HRB", "Response B") if i == 2 else ("KNG", "CID")
            )
            rows.append(
                build_row("stop_search", assessment_id=f"SS-{week}-{i}", case_ref=f"SS/{week}/{i}", place=place,
                          team=team, assessed_on=on, case_date=on, grounds_missing=(week + i) % 5 == 0)
            )  # fmt: skip
        extra: dict[str, Any] = {}
        if week == 2:
            extra = {"notes": GOOD, "note_kind": "good_practice"}
        elif week == 3:
            extra = {"notes": PLAIN}
        elif week in (0, 4):  # 2026-W27: cleared by W29; 2026-W31: persists
            extra = {"high_risk_no_marac": True, "notes": LEARN, "note_kind": "learning"}
        rows.append(
            build_row("domestic_abuse", assessment_id=f"DA-{week}", case_ref=f"DA/{week}", place="HRB" if week == 0 else "KNG",
                      team="Response C", assessed_on=on, case_date=on, **extra)
        )  # fmt: skip
    return rows


@dataclasses.dataclass(frozen=True)
class Built:
    settings: Settings
    pack: Path
    peel: Path


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """One database per backend with the rows submitted, the review pack and the PEEL rerun of the
    quarter written once for the module's tests."""
    tmp = tmp_path_factory.mktemp("review")
    schemas: PostgresSchemas | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'qam.db'}"
    else:
        schemas = request.getfixturevalue("postgres_schemas")
        name = schemas.create()
        url = _pg_url_with_schema(name)
    try:
        settings = load_settings(database_url=url, environ={})
        shutil.copytree(settings.rulesets_dir, tmp / "rulesets")
        (tmp / "reviews.yaml").write_text(CALENDAR, encoding="utf-8")
        settings = dataclasses.replace(
            settings, rulesets_dir=tmp / "rulesets", reviews_file=tmp / "reviews.yaml"
        )
        api.init_database(settings)
        api.publish_rulesets(settings, author="test", note="initial")
        api.submit(settings, [write_submission_csv(tmp / "cases.csv", _rows())])
        _actions(settings)
        pack = review_run(settings, QUARTER, tmp / "out", now=lambda: WRITTEN).folder
        peel = api.peel(settings, START, END, out=tmp / "peel").run.folder
        yield Built(settings, pack, peel)
    finally:
        if schemas is not None:
            schemas.drop(name)


def _actions(settings: Settings) -> None:
    """#1 open and overdue on the day the pack is written, #2 open, #3 closed in the quarter, #4
    closed before it (not shown)."""
    db = open_database(settings.database_url)
    try:
        for i, (due, closed) in enumerate(
            [
                ("2026-08-01", None),
                ("2026-12-31", None),
                ("2026-07-20", "2026-07-25"),
                ("2026-06-10", "2026-06-20"),
            ]
        ):
            a = actions.add_action(
                db, item="D7", place="KNG", owner=f"Insp {i + 1}", due=dt.date.fromisoformat(due),
                text=f"Action {i + 1} <b>text</b>", raised_on=dt.date(2026, 6, 1), review="2026-Q2",
                created_at=WRITTEN,
            )  # fmt: skip
            if closed:
                actions.close_action(db, a.id, closed_on=dt.date.fromisoformat(closed), note=f"done {i + 1}")
    finally:
        db.close()


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


def test_calendar_problems_are_named_at_their_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "reviews.yaml"
    path.write_text(
        "format: 1\nversion: 1.0.0\nquarters:\n"
        "  2026-Q5:\n    title: No such quarter\n    priority: 1\n"  # line 4
        "  2026-Q3:\n    title: Both\n    priority: 3\n    items: [D7]\n"  # line 7
        "  2026-Q4:\n    title: Bad day\n    items: [D7, D7]\n    meeting: someday\n    colour: x\n",  # 11-15
        encoding="utf-8",
    )
    with pytest.raises(ReviewsError) as raised:
        load_calendar(path)
    found = sorted(str(p) for p in raised.value.problems)
    assert found == sorted(
        [
            f"{path}:4: '2026-Q5' is not a quarter: write it as YYYY-Qn, e.g. 2026-Q3",
            f"{path}:7: 2026-Q3: give the theme as 'priority: N' or 'items: [..]', one of the two",
            f"{path}:13: 2026-Q4: item 'D7' is listed twice",
            f"{path}:14: 2026-Q4: 'meeting' must be a date YYYY-MM-DD",
            f"{path}:15: 2026-Q4: unknown key 'colour' (known: items, meeting, priority, title)",
        ]
    )
    path.write_text(
        CALENDAR.replace("[D7, D11]", "[D7,\n      D71]").replace("items", "items", 1), encoding="utf-8"
    )
    with pytest.raises(ReviewsError) as raised:
        check_themes(load_calendar(path), {1, 2, 3, 4}, {"D7", "D11", "M8"})
    assert [str(p) for p in raised.value.problems] == [
        f"{path}:7: 2026-Q3: item 'D71' is not in the catalogue (did you mean 'D7'?)"
    ]


def test_a_quarter_without_a_theme_is_refused_with_exit_3(runner: CliRunner, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'qam.db'}"
    result = runner.invoke(
        app, ["--database", database, "review", "--quarter", "2025-Q1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 3, result.output
    assert "no Learning Review theme for 2025-Q1 (the calendar has 2026-Q3, 2026-Q4, 2027-Q1, 2027-Q2)" in (
        result.output
    )
    assert not (tmp_path / "review-2025-Q1").exists()
    with pytest.raises(ConfigError, match="'2026-3' is not a quarter"):
        load_calendar(DEFAULT_REVIEWS_FILE).theme("2026-3")


def _stored(settings: Settings) -> list[tuple[str, str, str, str, dict[str, str]]]:
    """(place, team, case_ref, ruleset, outcomes) of every current official score of the quarter."""
    db = open_database(settings.database_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT a.place, a.team, a.case_ref, s.ruleset_id, s.outcomes FROM assessments a "
                    "JOIN case_scores s ON s.assessment_pk = a.pk "
                    "WHERE a.is_current AND NOT s.draft AND a.assessed_on BETWEEN :a AND :b"
                ),
                {"a": START.isoformat(), "b": END.isoformat()},
            ).all()
    finally:
        db.close()
    return [(*r[:4], r[4] if isinstance(r[4], dict) else json.loads(r[4])) for r in rows]


def test_the_pack_holds_its_sections_and_figures_recomputed_from_the_stored_rows(built: Built) -> None:
    review_db, pack = built.settings, built.pack
    assert sorted(p.name for p in pack.iterdir()) == ["manifest.json", "review.csv", "review.pdf"]
    measure = {(r.id, c.id): c.measure for r in api.check_rulesets(review_db) for c in r.criteria}
    cases: dict[tuple[str, str, str], list[bool]] = defaultdict(list)  # (item, level key) -> passed per case
    for place, team, _ref, ruleset, outcomes in _stored(review_db):
        for item in ("D7", "D11"):
            mine = [o for c, o in outcomes.items() if measure[(ruleset, c)] == item and o != "na"]
            if mine:
                passed = "fail" not in mine
                for key in (("force", "FORCE", ""), ("place", place, ""), ("team", place, team)):
                    cases[(item, *key)].append(passed)
    rows = [r for r in _csv(pack / "review.csv") if r["source"] == "reviewed cases"]
    assert {(r["item"], r["level"], r["place"], r["team"]) for r in rows} == set(cases)
    for r in rows:
        got = cases[(r["item"], r["level"], r["place"], r["team"])]
        n, k = len(got), sum(got)
        low, high = wilson_interval(k, n)
        assert (int(r["n"]), int(r["passes"])) == (n, k), r
        assert float(r["value"]) == pytest.approx(k / n) and float(r["ci_low"]) == pytest.approx(low)
        assert float(r["ci_high"]) == pytest.approx(high)
    text_ = _pdf_text(pack / "review.pdf")
    for heading in ("Learning Review 2026-Q3: Safeguarding and stop and search", "D7 Safeguarding",
                    "D11 Stop and search", "Teams within places", "Exceptions raised in the quarter's weeks",
                    "Improvements", "Real stories", "Actions", "Review meeting 2026-10-21"):  # fmt: skip
        assert heading in text_, heading
    # Harbourside's critical DA case of 2026-W27 cleared; Kingsgate's of 2026-W31 (the last four weeks) persisted
    assert "HRB D7 DA02 A high-risk victim" in text_ and "Critical failure 2026-W27 cleared" in text_
    assert "KNG D7 DA02 A high-risk victim" in text_ and "Critical failure 2026-W31 persisted" in text_
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "review" and manifest["arguments"]["items"] == ["D7", "D11"]
    assert (
        manifest["arguments"]["as_of"] == "2026-08-10" and len(manifest["arguments"]["actions_sha256"]) == 64
    )
    assert manifest["calendar"]["version"] == "2.0.0" and set(manifest["outputs"]) == {
        "review.csv",
        "review.pdf",
    }


def test_only_notes_marked_on_the_form_are_real_stories(built: Built) -> None:
    text_ = _pdf_text(built.pack / "review.pdf")
    assert "Good practice (1)" in text_ and "Learning (2)" in text_
    assert GOOD in text_  # escaped: the markup shows as typed, not as bold
    assert LEARN in text_ and "DA/4" in text_ and "DA/2" in text_
    assert PLAIN not in text_


def test_the_pack_lists_open_overdue_and_this_quarters_closed_actions(built: Built) -> None:
    text_ = _pdf_text(built.pack / "review.pdf")
    assert "due before 2026-08-10 (1 overdue)" in text_
    assert "#1 D7, KNG Insp 1 2026-08-01 overdue Action 1 <b>text</b>" in text_
    assert "#2 D7, KNG Insp 2 2026-12-31 open Action 2" in text_
    assert "#3 D7, KNG Insp 3 2026-07-20 closed 2026-07-25 Action 3 <b>text</b> Closed: done 3" in text_
    assert "Action 4" not in text_


def test_the_pack_and_qam_peel_cite_the_same_figures(built: Built) -> None:
    pack, peel = built.pack, built.peel
    label = f"peel-{START.isoformat()}-{END.isoformat()}"
    theirs = {
        (r["dimension_key"], r["level"], r["place"] if r["level"] == "team" else r["key"],
         r["key"] if r["level"] == "team" else ""): r
        for r in _csv(peel / "aggregates.csv")
        if r["period"] == label and r["dimension"] == "measure" and r["level"] in ("force", "place", "team")
    }  # fmt: skip
    ours = [r for r in _csv(pack / "review.csv") if r["source"] == "reviewed cases"]
    assert len(ours) > 5
    for r in ours:
        key = (r["item"], r["level"], r["place"] if r["level"] != "force" else "FORCE", r["team"])
        peel_row = theirs[key]
        assert (r["n"], r["passes"]) == (peel_row["n"], peel_row["passes"]), key
        for ours_col, peel_col in (("value", "rate"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            assert float(r[ours_col]) == pytest.approx(float(peel_row[peel_col]), abs=1e-12), (key, ours_col)


def test_a_quarters_weeks_are_those_ending_in_it() -> None:
    assert [w.label for w in quarter_weeks(START, END)] == [f"2026-W{n}" for n in range(27, 40)]
    q4 = quarter_weeks(dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert (q4[0].start, q4[-1].label, q4[-1].end) == (
        dt.date(2026, 9, 28),
        "2026-W52",
        dt.date(2026, 12, 27),
    )


def test_a_team_exception_persists_or_clears_apart_from_its_places() -> None:
    def raised(place: str, team: str = "") -> PerformanceException:
        return PerformanceException(
            place=place, priority=3, measure="M8", peel="legitimacy", iserve=("engagement",), ruleset="vc",
            criterion="VC05", kind=ExceptionKind.BELOW_STANDARD, reason="r", n=30, passed=5, rate=0.17,
            ci_low=0.07, ci_high=0.34, standard=0.9, cases=(), criterion_text="told of the suspect event", team=team,
        )  # fmt: skip

    weeks = [(f"2026-W{n}", []) for n in range(40, 46)]
    weeks[0] = ("2026-W40", [raised("ASH")])
    # Ashford Vale's Response B team in the last weeks; Kingsgate's D11 is not of the theme
    weeks[5] = ("2026-W45", [raised("ASH", "Response B"), dataclasses.replace(raised("KNG"), measure="D11")])
    found = persistence(weeks, {"M8"})
    assert [(r.place, r.team, r.weeks, r.persisted) for r in found] == [
        ("ASH", "Response B", ("2026-W45",), True),
        ("ASH", "", ("2026-W40",), False),
    ]


def test_the_bundled_calendar_names_four_quarters_of_the_bundled_catalogue() -> None:
    calendar = load_calendar(DEFAULT_REVIEWS_FILE)
    catalogue = load_measure_catalogue()
    check_themes(calendar, catalogue.priorities, catalogue.measures)
    assert list(calendar.themes) == ["2026-Q3", "2026-Q4", "2027-Q1", "2027-Q2"]
    assert [t.priority for t in calendar.themes.values()] == [4, 3, 1, 2]
    assert calendar.theme("2026-Q4").item_ids(catalogue.of_priority) == ("M7", "M8", "D7")


def test_a_config_folders_own_calendar_wins(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(DEFAULT_CATALOGUE_FILE, folder / "catalogue.yaml")
    assert load_settings(config_dir=folder, environ={}).reviews_file == DEFAULT_REVIEWS_FILE
    (folder / "reviews.yaml").write_text(CALENDAR, encoding="utf-8")
    assert load_settings(config_dir=folder, environ={}).reviews_file == folder / "reviews.yaml"
