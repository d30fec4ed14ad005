"""Sampling: the cases extract (validation, idempotent loading), the sample-size formula, proportional
allocation, reproducible stratified draws, exclusion of reviewed cases, recorded frame sizes,
worklists and the status of a week's sample, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.config import DEFAULT_FORMS_DIR
from engine.core.errors import EngineError, ExtractError, ProblemsError, UsageError
from engine.core.periods import parse_week
from engine.inputs.cases import case_fields, read_cases
from engine.inputs.forms import load_forms
from engine.inputs.submission_files import read_submission
from engine.sampling.draw import FrameCase, SampleParameters, draw_sample, frame_sizes, plan_sample
from engine.sampling.population import load_cases
from engine.sampling.sample_size import allocate, sample_size
from engine.sampling.worklists import read_reviewers, sample_status, write_worklists
from engine.store.db import Database
from tests.assessment_rows import SUBMITTED_AT, StoredRow, store_rows

PLACES = ("BLK", "CRN", "FEN")
CASE_TYPES = tuple(load_forms(DEFAULT_FORMS_DIR))
W47 = parse_week("2026-W47")  # Monday 2026-11-16 .. Sunday 2026-11-22
NOW = SUBMITTED_AT
HEADER = "case_ref,case_type,place,team,officer,case_date,crime_type"


def write_cases(path: Path, n: int, *, seed: int = 1, start: dt.date = W47.start) -> Path:
    rng = random.Random(seed)
    lines = [HEADER]
    for i in range(n):
        day = start + dt.timedelta(days=i % 7)
        place = PLACES[i % 3]
        crime = rng.choice(["drugs", "weapons", "theft"])
        lines.append(f"SS/{i:05d},stop_search,{place},Team {i % 4},PC {i % 40},{day.isoformat()},{crime}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def loaded(database: Database, tmp_path: Path, n: int = 300) -> Database:
    load_cases(database, read_cases(write_cases(tmp_path / "cases.csv", n), PLACES, CASE_TYPES), NOW)
    return database


# --------------------------------------------------------------------------- the formula


@pytest.mark.parametrize(
    ("frame", "kwargs", "n0", "corrected", "size"),
    [
        # z = 1.95996: n0 = 3.84146 * 0.25 / 0.01 = 96.04; 96.04 / (1 + 95.04 / 212) = 66.31 -> 67, then the cap
        (212, {}, 96.04, 66.31, 60),
        (212, {"cap": 100}, 96.04, 66.31, 67),
        # 96.04 / (1 + 95.04 / 30) = 23.04 -> 24
        (30, {}, 96.04, 23.04, 24),
        # expected rate 0.9: n0 = 3.84146 * 0.09 / 0.01 = 34.57; 34.57 / (1 + 33.57 / 1000) = 33.45 -> 34
        (1000, {"expected_rate": 0.9}, 34.57, 33.45, 34),
        # margin 0.05: n0 = 384.15; 384.15 / (1 + 383.15 / 10000) = 369.97 -> 370
        (10000, {"margin": 0.05, "cap": 1000}, 384.15, 369.97, 370),
        # 99 %: z = 2.5758, n0 = 165.87; 165.87 / (1 + 164.87 / 500) = 124.74 -> 125, then the cap
        (500, {"confidence": 0.99}, 165.87, 124.74, 60),
        # small frames: the minimum, never more than the frame
        (12, {"margin": 0.3}, 10.67, 5.91, 10),
        (7, {}, 96.04, 6.59, 7),
        (0, {}, 96.04, 0.0, 0),
    ],
)
def test_sample_size_matches_hand_computed_values(
    frame: int, kwargs: dict[str, float], n0: float, corrected: float, size: int
) -> None:
    result = sample_size(frame, **kwargs)  # type: ignore[arg-type]
    assert result.n0 == pytest.approx(n0, abs=0.01)
    assert result.corrected == pytest.approx(corrected, abs=0.01)
    assert result.size == size


def test_sample_size_says_what_limited_it() -> None:
    assert sample_size(212).limited_by == "cap"
    assert sample_size(12, margin=0.3).limited_by == "minimum"
    assert sample_size(30).limited_by == ""


@pytest.mark.parametrize(
    ("sizes", "n", "expected"),
    [
        # quotas 7, 2.5, 0.5: b and c tie on remainder, b wins by name, then c is lifted to 1 from b
        ({"a": 70, "b": 25, "c": 5}, 10, {"a": 7, "b": 2, "c": 1}),
        ({"a": 50, "b": 50}, 9, {"a": 5, "b": 4}),
        ({"a": 1, "b": 1, "c": 1}, 2, {"a": 1, "b": 1, "c": 0}),  # too small for one each
        ({"a": 98, "b": 1, "c": 1}, 3, {"a": 1, "b": 1, "c": 1}),
        ({"a": 10, "empty": 0}, 4, {"a": 4, "empty": 0}),
    ],
)
def test_allocation_is_proportional_by_largest_remainder(
    sizes: dict[str, int], n: int, expected: dict[str, int]
) -> None:
    assert allocate(sizes, n) == expected


@settings(deadline=None, max_examples=60)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8), st.data())
def test_allocation_invariants(counts: list[int], data: st.DataObject) -> None:
    sizes = {f"s{i}": c for i, c in enumerate(counts)}
    n = data.draw(st.integers(min_value=0, max_value=sum(counts)))
    alloc = allocate(sizes, n)
    assert sum(alloc.values()) == n
    assert all(0 <= alloc[k] <= sizes[k] for k in sizes)
    non_empty = [k for k in sizes if sizes[k]]
    if n >= len(non_empty):
        assert all(alloc[k] >= 1 for k in non_empty)


def test_allocation_refuses_more_than_the_frame() -> None:
    with pytest.raises(ValueError, match="cannot draw 5 from 4"):
        allocate({"a": 4}, 5)


# --------------------------------------------------------------------------- drawing (pure)


def frame_of(n: int, *, seed: int = 1) -> list[FrameCase]:
    rng = random.Random(seed)
    return [
        FrameCase(
            f"SS/{i:05d}",
            "stop_search",
            PLACES[i % 3],
            "Team",
            "PC",
            W47.start,
            strata={"crime_type": rng.choice(["drugs", "weapons", "theft"])},
        )
        for i in range(n)
    ]


def test_same_seed_and_frame_give_the_same_sample_in_any_order() -> None:
    frame = frame_of(600)
    params = SampleParameters(seed=7, reviewers=("Ann", "Bob"))
    _, first = plan_sample(frame, params, W47)
    shuffled = list(frame)
    random.Random(99).shuffle(shuffled)
    _, again = plan_sample(shuffled, params, W47)
    _, other = plan_sample(frame, dataclasses.replace(params, seed=8), W47)
    assert first == again
    assert {i.case_ref for i in first} != {i.case_ref for i in other}
    assert len(first) == 180  # 60 per place: 200 cases each, 96.04 / (1 + 95.04 / 200) = 65.1 -> 66, capped


def test_strata_get_proportional_shares_within_each_place() -> None:
    frame = [
        FrameCase(f"C{i:03d}", "investigation", "BLK", "T", "O", W47.start, strata={"crime_type": crime})
        for i, crime in enumerate(["burglary"] * 70 + ["robbery"] * 25 + ["arson"] * 5)
    ]
    groups, items = plan_sample(frame, SampleParameters(seed=1), W47)
    # N = 100: 96.04 / (1 + 95.04 / 100) = 49.2 -> 50, split 35 / 12.5 / 2.5
    (group,) = groups
    drawn = {s.name: s.drawn for s in group.strata}
    assert drawn == {"crime_type=arson": 3, "crime_type=burglary": 35, "crime_type=robbery": 12}
    by_stratum = {s: sum(i.stratum == s for i in items) for s in drawn}
    assert by_stratum == drawn


def test_reviewers_share_the_work_round_robin() -> None:
    _, items = plan_sample(frame_of(90), SampleParameters(seed=3, reviewers=("Ann", "Bob", "Cy")), W47)
    counts = {r: sum(i.reviewer == r for i in items) for r in ("Ann", "Bob", "Cy")}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert sum(counts.values()) == len(items) == 72  # 30 per place: 96.04 / (1 + 95.04 / 30) = 23.04 -> 24


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 0}, "margin must be between 0 and 1"),
        ({"confidence": 1.5}, "confidence must be between 0 and 1"),
        ({"expected_rate": 1.0}, "expected rate must be between 0 and 1"),
        ({"minimum": 80}, "minimum \\(80\\) must be from 0 to the cap \\(60\\)"),
        ({"seed": -1}, "seed must be a whole number"),
    ],
)
def test_bad_parameters_are_usage_errors(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        SampleParameters(**{"seed": 1, **kwargs})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the cases extract


def test_every_problem_in_the_cases_extract_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "case_ref,case_type,place,team,officer,case_date,Crime Type\n"
        "SS/1,stop_search,BLK,Team,PC 1,2026-11-16,drugs\n"
        "SS/2,stop_serch,BLK,Team,PC 1,2026-11-16,drugs\n"
        "SS/3,stop_search,XYZ,Team,PC 1,2026-11-16,drugs\n"
        "SS/1,stop_search,CRN,Team,PC 1,2026-11-17,drugs\n"
        "SS/4,stop_search,BLK,Team,PC 1,2026-02-30,drugs\n"
        "SS/5,stop_search,BLK,,PC 1,16/11/2026,drugs\n",
        encoding="utf-8",
    )
    with pytest.raises(ExtractError) as info:
        read_cases(path, PLACES, CASE_TYPES)
    found = {(p.location.line, p.location.field): p.message for p in info.value.problems}
    assert found[(1, "crime type")].startswith("a strata column name must be lower-case")
    assert found[(3, "case_type")] == "'stop_serch' is not a case type (did you mean 'stop_search'?)"
    assert found[(4, "place")].startswith("'XYZ' is not a place of this force")
    assert found[(5, "case_ref")] == "'SS/1' appears again for stop_search (first at row 2)"
    assert found[(6, "case_date")] == "'2026-02-30' is not a real date"
    assert found[(7, "team")] == "a value is required"
    assert "not a date (use YYYY-MM-DD)" in found[(7, "case_date")]
    assert len(found) == 7
    assert str(path) in str(info.value)


def test_missing_columns_are_named_once(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("case_ref,case_type,place,reviewer\nSS/1,stop_search,BLK,Ann\nSS/2,stop_search,BLK,Ann\n")
    with pytest.raises(ExtractError) as info:
        read_cases(path, PLACES, CASE_TYPES)
    messages = sorted((p.location.field or "", p.message) for p in info.value.problems)
    assert messages == [
        ("case_date", "missing required column"),
        ("officer", "missing required column"),
        ("reviewer", "is a submission column, not part of the cases extract (remove it)"),
        ("team", "missing required column"),
    ]


def test_an_xlsx_extract_reads_like_a_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Case_Ref", "case_type", "place", "team", "officer", "case_date"])
    sheet.append([12345, "Stop_Search", "blk", "Team", "PC 1", dt.datetime(2026, 11, 16)])
    book.save(tmp_path / "cases.xlsx")
    (row,) = read_cases(tmp_path / "cases.xlsx", PLACES, CASE_TYPES)
    assert (row.case_ref, row.case_type, row.place, row.case_date) == (
        "12345",
        "stop_search",
        "BLK",
        W47.start,
    )


def test_loading_cases_is_idempotent_and_takes_corrections(database: Database, tmp_path: Path) -> None:
    path = write_cases(tmp_path / "cases.csv", 30)
    first = load_cases(database, read_cases(path, PLACES, CASE_TYPES), NOW)
    again = load_cases(database, read_cases(path, PLACES, CASE_TYPES), NOW)
    assert (first.inserted, first.updated, first.unchanged) == (30, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 30)
    path.write_text(
        path.read_text().replace(
            "SS/00003,stop_search,BLK,Team 3,PC 3", "SS/00003,stop_search,BLK,Team 3,PC 99"
        )
    )
    corrected = load_cases(database, read_cases(path, PLACES, CASE_TYPES), NOW)
    assert (corrected.inserted, corrected.updated, corrected.unchanged) == (0, 1, 29)
    assert corrected.summary() == f"Loaded 30 cases from {path}: 0 new, 1 updated, 29 unchanged."


# --------------------------------------------------------------------------- drawing and recording


def test_draw_records_the_sample_and_its_frame_sizes(database: Database, tmp_path: Path) -> None:
    loaded(database, tmp_path, 300)
    result = draw_sample(database, W47, seed=7, now=NOW, reviewers=["Ann", "Bob"])
    assert result.drawn == 3 * 50  # 100 per place: 96.04 / (1 + 95.04 / 100) = 49.2 -> 50
    assert frame_sizes(database, W47) == {
        ("BLK", "stop_search"): 100,
        ("CRN", "stop_search"): 100,
        ("FEN", "stop_search"): 100,
    }
    assert frame_sizes(database, "2026-W48") == {}
    assert result.per_reviewer() == {"Ann": 75, "Bob": 75}
    assert "150 cases drawn from 300 eligible (300 in the week)" in result.summary()


def test_the_same_draw_again_returns_the_recorded_sample(database: Database, tmp_path: Path) -> None:
    loaded(database, tmp_path, 120)
    first = draw_sample(database, W47, seed=7, now=NOW, reviewers=["Ann", "Bob"])
    later = NOW + dt.timedelta(days=1)
    again = draw_sample(database, W47, seed=7, now=later, reviewers=["Ann", "Bob"])
    assert again.already_drawn and not first.already_drawn
    assert sorted(again.items, key=lambda i: i.case_ref) == sorted(first.items, key=lambda i: i.case_ref)
    assert again.groups == first.groups
    assert again.summary().startswith("Already drawn on 2026-11-23 09:00")
    with pytest.raises(
        UsageError,
        match="a sample for 2026-W47 \\(all case types\\) was already drawn on 2026-11-23 with seed 7",
    ):
        draw_sample(database, W47, seed=8, now=later, reviewers=["Ann", "Bob"])
    with pytest.raises(UsageError, match="already drawn"):
        draw_sample(database, W47, seed=7, now=later, case_type="stop_search", reviewers=["Ann", "Bob"])


def test_the_same_seed_draws_the_same_sample_in_another_database(database: Database, tmp_path: Path) -> None:
    loaded(database, tmp_path, 240)
    here = draw_sample(database, W47, seed=11, now=NOW)
    frame = [
        FrameCase(**case_fields(r), strata=r.strata)
        for r in read_cases(tmp_path / "cases.csv", PLACES, CASE_TYPES)
    ]
    _, there = plan_sample(frame, SampleParameters(seed=11), W47)
    assert sorted(i.case_ref for i in here.items) == sorted(i.case_ref for i in there)


def test_reviewed_cases_are_excluded_but_calibration_ones_are_not(database: Database, tmp_path: Path) -> None:
    loaded(database, tmp_path, 45)
    reviewed = [f"SS/{i:05d}" for i in range(0, 45, 3)]  # the 15 BLK cases: 10 reviewed, 5 calibrated
    store_rows(database, [StoredRow(f"QA-{ref}", ref) for ref in reviewed[:10]])
    store_rows(
        database,
        [StoredRow(f"CAL-{ref}", ref, reviewer="Bob") for ref in reviewed[10:]],
        calibration_set="CAL-1",
    )
    result = draw_sample(database, W47, seed=1, now=NOW)
    blk = next(g for g in result.groups if g.place == "BLK")
    assert (blk.population, blk.reviewed, blk.size.frame, blk.size.size) == (15, 10, 5, 5)
    drawn = {i.case_ref for i in result.items}
    assert not drawn & set(reviewed[:10])
    assert set(reviewed[10:]) <= drawn  # calibration assessments never count, so those cases stay eligible


def test_a_week_without_cases_is_a_clear_error(database: Database, tmp_path: Path) -> None:
    loaded(database, tmp_path, 30)
    with pytest.raises(
        EngineError, match=r"no cases dated 2026-11-23 to 2026-11-29 \(2026-W48\) in the cases extract"
    ):
        draw_sample(database, parse_week("2026-W48"), seed=1, now=NOW)
    with pytest.raises(EngineError, match="no victim_care cases dated"):
        draw_sample(database, W47, seed=1, now=NOW, case_type="victim_care")
    with pytest.raises(
        UsageError, match=r"no strata column crime in the cases extract for 2026-W47 \(it has: crime_type\)"
    ):
        draw_sample(database, W47, seed=1, now=NOW, strata=["crime"])


def test_status_shows_submitted_outstanding_and_overdue(database: Database, tmp_path: Path) -> None:
    loaded(database, tmp_path, 36)  # 12 per place: 96.04 / (1 + 95.04 / 12) = 10.8 -> 11 drawn
    result = draw_sample(database, W47, seed=5, now=NOW, reviewers=["Ann", "Bob"], due_days=3)
    ann_blk = [i for i in result.items if i.reviewer == "Ann" and i.place == "BLK"]
    store_rows(
        database, [StoredRow(f"QA-{i.case_ref}", i.case_ref, reviewer="Someone else") for i in ann_blk[:4]]
    )
    # a calibration assessment is not a submission for the sample
    store_rows(
        database, [StoredRow(f"CAL-{ann_blk[4].case_ref}", ann_blk[4].case_ref)], calibration_set="CAL-1"
    )

    before_due = sample_status(database, W47, dt.date(2026, 11, 25))  # due 2026-11-25: not yet overdue
    row = next(r for r in before_due.rows if (r.reviewer, r.place) == ("Ann", "BLK"))
    assert (row.drawn, row.submitted, row.outstanding, row.overdue) == (len(ann_blk), 4, len(ann_blk) - 4, 0)
    assert before_due.overdue == ()

    late = sample_status(database, W47, dt.date(2026, 11, 26))
    row = next(r for r in late.rows if (r.reviewer, r.place) == ("Ann", "BLK"))
    assert (row.drawn, row.submitted, row.outstanding, row.overdue) == (
        len(ann_blk),
        4,
        len(ann_blk) - 4,
        len(ann_blk) - 4,
    )
    assert result.drawn == 33 and len(late.overdue) == 33 - 4
    assert {i.case_ref for i in late.overdue if i.reviewer == "Ann" and i.place == "BLK"} == {
        i.case_ref for i in ann_blk[4:]
    }
    assert late.summary().startswith(
        "Sample 2026-W47 on 2026-11-26: 33 drawn, 4 submitted, 29 outstanding, 29 overdue."
    )
    with pytest.raises(EngineError, match="no sample has been drawn for 2026-W48"):
        sample_status(database, parse_week("2026-W48"), dt.date(2026, 12, 1))


# --------------------------------------------------------------------------- worklists and reviewers


def test_worklists_are_prefilled_templates_per_reviewer(database: Database, tmp_path: Path) -> None:
    loaded(database, tmp_path, 30)
    result = draw_sample(database, W47, seed=2, now=NOW, reviewers=["Ann Smith", "Bob O'Neil"])
    forms = load_forms(DEFAULT_FORMS_DIR)
    out = tmp_path / "worklists"
    files = write_worklists(result.items, forms, out, label=W47.label, place_codes=PLACES)
    assert [p.name for p in files.written] == [
        "2026-W47-ann-smith-stop_search.xlsx",
        "2026-W47-bob-o-neil-stop_search.xlsx",
    ]
    rows = read_submission(out / "2026-W47-ann-smith-stop_search.xlsx")
    mine = sorted(
        (i for i in result.items if i.reviewer == "Ann Smith"),
        key=lambda i: (i.place, i.case_date, i.case_ref),
    )
    assert [r.values["case_ref"] for r in rows] == [i.case_ref for i in mine]
    first = rows[0].values
    assert (first["case_type"], first["place"], first["reviewer"], first["assessment_id"]) == (
        "stop_search",
        mine[0].place,
        "Ann Smith",
        None,
    )
    # a reviewer may already be filling a worklist in: it is never overwritten
    again = write_worklists(result.items, forms, out, label=W47.label, place_codes=PLACES)
    assert again.written == () and len(again.kept) == 2


def test_a_reviewers_file_that_is_not_utf8_is_refused_at_its_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "reviewers.csv"
    path.write_bytes("name\nZoë Brown\n".encode() + "René Caré\n".encode("cp1252"))
    with pytest.raises(ProblemsError, match="not UTF-8") as info:
        read_reviewers(path)
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{path}:3:") and "byte 0xe9" in str(problem)
    path.write_text("name\nZoë Brown\nRené Caré\n", encoding="utf-8-sig")
    assert read_reviewers(path) == ("Zoë Brown", "René Caré")


def test_reviewers_file_reads_names_and_rejects_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "reviewers.csv"
    path.write_text("name,team\n# the QA team\nAnn Smith,North\n\nBob Jones,South\n", encoding="utf-8")
    assert read_reviewers(path) == ("Ann Smith", "Bob Jones")
    path.write_text("Ann Smith\nann smith\nAnn-Smith\n", encoding="utf-8")
    with pytest.raises(ProblemsError) as info:
        read_reviewers(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:2:reviewer: 'ann smith' is listed twice (first at line 1)",
        f"{path}:3:reviewer: 'Ann-Smith' and 'Ann Smith' would share the worklist file name 'ann-smith'",
    ]
