"""engine.inputs.submissions: validating reviewer submissions (CSV, XLSX, JSON): each bad input of issue 3
gets a clear file:row:column message, every problem of every file is reported at once, and the same
content in any format or encoding normalises to the same row and hash. Reading the files is tested in
test_submission_files.py, storage elsewhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.errors import Location, Problem, SubmissionError
from engine.core.models import COMMON_COLUMNS, AnswerType
from engine.inputs.canonical_questions import CANONICAL_CASE_TYPES
from engine.inputs.forms import Form
from engine.inputs.submission_files import RawRow
from engine.inputs.submissions import (
    canonical_content,
    content_hash,
    validate_rows,
)
from tests.factories import DEMO_PLACE_CODES, TRAITS, build_row
from tests.inputs.submission_rows import (
    FORMS,
    load,
    problems_of,
    ss_rows,
    write_csv,
    write_json,
    write_xlsx,
)

# --------------------------------------------------------------------------- valid input


@pytest.mark.parametrize(
    ("case_type", "trait"),
    [(ct, None) for ct in CANONICAL_CASE_TYPES]
    + [(ct, t) for ct in CANONICAL_CASE_TYPES for t in TRAITS[ct]],
)
def test_every_factory_and_trait_builds_a_valid_row(
    tmp_path: Path, case_type: str, trait: str | None
) -> None:
    row = build_row(case_type, **({trait: True} if trait else {}))
    [valid] = load([write_csv(tmp_path / "one.csv", [row])])
    assert valid.case_type == case_type
    assert valid.answers == {
        k: (int(v) if k == "dash_yes_count" else v) for k, v in row.items() if k not in COMMON_COLUMNS and v
    }


def test_a_valid_row_keeps_raw_normalised_source_and_hash(tmp_path: Path) -> None:
    row = build_row(
        "stop_search", assessment_id=" SS-1 ", grounds_recorded="Yes ", place="blk", notes="  ok "
    )
    path = write_csv(tmp_path / "ss_week47.csv", [row])
    [valid] = load([path])
    assert (valid.assessment_id, valid.place, valid.answers["grounds_recorded"]) == ("SS-1", "BLK", "yes")
    assert valid.answers["notes"] == "  ok "
    assert valid.raw["grounds_recorded"] == "Yes " and valid.raw["assessment_id"] == " SS-1 "
    assert (valid.source_file, valid.source_row) == (str(path), 2)
    assert valid.assessed_on == dt.date(2026, 12, 7) and valid.case_date == dt.date(2026, 11, 16)
    assert valid.content_hash == content_hash(valid.canonical())
    assert valid.form_version == "1.0.0"


def test_same_content_in_every_format_and_encoding_gives_the_same_hash(tmp_path: Path) -> None:
    rows = [
        build_row("domestic_abuse", assessment_id="DA-1", notes="Cost £5 at the café", high_risk=True),
        build_row("victim_care", assessment_id="VC-1", notes="<b>bold</b>"),
    ]
    columns = list(dict.fromkeys([c for r in rows for c in r]))
    files = [
        write_csv(tmp_path / "a.csv", rows, columns),
        write_csv(tmp_path / "b.csv", rows, columns, encoding="utf-16"),
        write_csv(tmp_path / "c.csv", rows, columns, encoding="utf-8-sig"),
        write_xlsx(tmp_path / "d.xlsx", rows, columns),
        write_json(tmp_path / "e.json", rows),
    ]
    hashes = [[v.content_hash for v in load([f])] for f in files]
    assert all(h == hashes[0] for h in hashes)
    assert load([files[1]])[0].answers["notes"] == "Cost £5 at the café"


def test_hash_rebuilt_from_stored_columns_matches(tmp_path: Path) -> None:
    [a] = load([write_csv(tmp_path / "a.csv", [build_row("stop_search", assessment_id="X")])])
    stored = {c: getattr(a, c) for c in COMMON_COLUMNS}
    assert content_hash(canonical_content(stored, {**a.answers, "notes": None})) == a.content_hash
    [b] = load([write_csv(tmp_path / "b.csv", [build_row("stop_search", assessment_id="X", no_bwv=True)])])
    assert b.content_hash != a.content_hash


def test_trailing_spaces_and_mixed_case_answers_are_normalised(tmp_path: Path) -> None:
    row = build_row(
        "stop_search",
        power=" S60 ",
        authorisation_recorded="Yes ",
        strip_search="NO",
        strip_search_authorised=" N/A",
        case_type=" Stop_Search ",
        reviewer=" QA Reviewer 1  ",
    )
    [valid] = load([write_csv(tmp_path / "case.csv", [row])])
    assert valid.answers["power"] == "s60" and valid.answers["authorisation_recorded"] == "yes"
    assert valid.answers["strip_search_authorised"] == "na"
    assert (valid.case_type, valid.reviewer) == ("stop_search", "QA Reviewer 1")


# --------------------------------------------------------------------------- row and column problems


def test_the_issue_example_message(tmp_path: Path) -> None:
    rows = ss_rows(13)
    rows[12]["grounds_recorded"] = "Y"
    path = write_csv(tmp_path / "ss_week47.csv", rows)
    assert problems_of([path]) == [f"{path}:14:grounds_recorded: 'Y' is not one of yes, no"]


def test_duplicate_assessment_id_in_one_file_names_both_rows(tmp_path: Path) -> None:
    rows = ss_rows(3)
    rows[2]["assessment_id"] = "SS-0001"
    path = write_csv(tmp_path / "dup.csv", rows)
    assert problems_of([path]) == [
        f"{path}:4:assessment_id: duplicate assessment_id 'SS-0001': also at {path} row 2"
    ]


def test_duplicate_assessment_id_across_files_of_one_invocation(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", ss_rows(1))
    b = write_json(tmp_path / "b.json", [build_row("stop_search", assessment_id="SS-0001 ")])
    assert problems_of([a, b]) == [
        f"{b}:1:assessment_id: duplicate assessment_id 'SS-0001': also at {a} row 2"
    ]


def test_unknown_case_type_and_unknown_place(tmp_path: Path) -> None:
    rows = ss_rows(2)
    rows[0]["case_type"] = "stop_serch"
    rows[1]["place"] = "XYZ"
    path = write_csv(tmp_path / "bad.csv", rows)
    assert problems_of([path]) == [
        f"{path}:2:case_type: 'stop_serch' is not a case type (did you mean 'stop_search'?)",
        f"{path}:3:place: 'XYZ' is not a place of this force (known: {', '.join(DEMO_PLACE_CODES)})",
    ]


def test_missing_required_column_is_one_problem_not_one_per_row(tmp_path: Path) -> None:
    rows = ss_rows(5)
    columns = [c for c in rows[0] if c not in ("reviewer", "power")]
    path = write_csv(tmp_path / "cols.csv", rows, columns)
    assert problems_of([path]) == [
        f"{path}:1:reviewer: missing required column",
        f"{path}:1:power: missing column required by the stop_search form",
    ]


def test_optional_or_conditional_columns_may_be_left_out(tmp_path: Path) -> None:
    rows = ss_rows(2)
    columns = [c for c in rows[0] if c not in ("notes", "authorisation_recorded", "strip_search_authorised")]
    assert len(load([write_csv(tmp_path / "short.csv", rows, columns)])) == 2


def test_extra_unknown_column_suggests_the_nearest_name(tmp_path: Path) -> None:
    rows = [{**r, "grounds_recorderd": "yes", "colour": "red"} for r in ss_rows(2)]
    path = write_csv(tmp_path / "extra.csv", rows)
    assert problems_of([path]) == [
        f"{path}:1:grounds_recorderd: unknown column (did you mean 'grounds_recorded'?)",
        f"{path}:1:colour: unknown column",
    ]


def test_answer_to_another_forms_question_is_a_problem(tmp_path: Path) -> None:
    da = build_row("domestic_abuse")
    ss = {**build_row("stop_search"), "dash_risk": "high"}
    columns = list(dict.fromkeys([*ss, *da]))
    path = write_csv(tmp_path / "mixed.csv", [ss, da], columns)
    assert problems_of([path]) == [
        f"{path}:2:dash_risk: is not a question of the stop_search form (leave it blank)"
    ]


def test_all_problems_of_all_files_at_once_and_nothing_returned(tmp_path: Path) -> None:
    a_rows = ss_rows(3)
    a_rows[0]["grounds_recorded"] = "maybe"
    a_rows[2]["case_date"] = "16/11/2026"
    b_rows = [build_row("domestic_abuse", assessment_id="DA-1", dash_yes_count="30")]
    a = write_csv(tmp_path / "a.csv", a_rows)
    b = write_json(tmp_path / "b.json", b_rows)
    with pytest.raises(SubmissionError) as info:
        load([a, b])
    assert [str(p) for p in info.value.problems] == [
        f"{a}:2:grounds_recorded: 'maybe' is not one of yes, no",
        f"{a}:4:case_date: '16/11/2026' is not a date (use YYYY-MM-DD)",
        f"{b}:1:dash_yes_count: 30 is above the maximum 27",
    ]
    assert str(info.value).startswith("nothing stored: 3 problems in 2 files")


def test_many_problems_are_capped_with_a_count(tmp_path: Path) -> None:
    rows = ss_rows(80, bwv_activated="maybe")
    with pytest.raises(SubmissionError) as info:
        load([write_csv(tmp_path / "many.csv", rows)])
    assert len(info.value.problems) == 80
    assert "... and 30 more problems" in str(info.value)


# --------------------------------------------------------------------------- notes kept exactly

NASTY_NOTES = [
    "<b>bold</b><script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","click")',
    "+44 7700 900123",
    "-2+3",
    "@SUM(A1)",
    'line one\nline two, "quoted"',
    "  leading and trailing  ",
]


@pytest.mark.parametrize("writer", [write_csv, write_xlsx, write_json])
def test_notes_with_markup_and_formula_prefixes_are_kept_exactly(tmp_path: Path, writer: Any) -> None:
    rows = [build_row("stop_search", assessment_id=f"N{i}", notes=n) for i, n in enumerate(NASTY_NOTES)]
    suffix = {write_csv: ".csv", write_xlsx: ".xlsx", write_json: ".json"}[writer]
    valid = load([writer(tmp_path / f"notes{suffix}", rows)])
    assert [v.answers["notes"] for v in valid] == NASTY_NOTES
    assert [v.raw["notes"] for v in valid] == NASTY_NOTES


# --------------------------------------------------------------------------- a 50 MB file


@pytest.mark.slow
def test_a_50_mb_csv_is_read_and_validated(tmp_path: Path) -> None:
    form = FORMS["stop_search"]
    columns = list(form.columns)
    path = tmp_path / "big.csv"
    # Realistic reviewer notes (~400 characters) so the file is 50 MB of rows, not of padding.
    note = "Searched after a report of a man with a knife near the station; grounds were the description " * 4
    base = build_row("stop_search", notes=note)
    values = [base.get(c, "") for c in columns]  # note_kind: optional, blank
    id_col, ref_col, place_col = (
        columns.index("assessment_id"),
        columns.index("case_ref"),
        columns.index("place"),
    )
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        n = 0
        while fh.tell() < 50_000_000:
            values[id_col], values[ref_col] = f"SS-{n:07d}", f"SS/{n:07d}/26"
            values[place_col] = DEMO_PLACE_CODES[n % len(DEMO_PLACE_CODES)]
            writer.writerow(values)
            n += 1
    assert path.stat().st_size >= 50_000_000
    valid = load([path])
    assert len(valid) == n
    assert valid[-1].source_row == n + 1 and valid[-1].answers["notes"] == note


# --------------------------------------------------------------------------- fuzzing the validator

_BAD_CLOSED = ["Y", "maybe", "yes please", "1", "true", "nope", "0", "-", "?", "na na", "é"]
_BAD_DATES = ["16/11/2026", "2026-02-30", "yesterday", "20261116", "1850-01-01", "2026-11", True, -3.0]
_BAD_INTEGERS = ["-1", "28", "many", "3.5", "1e3", True, 99]


_SAMPLE_DAYS = [dt.date(2000, 1, 1), dt.date(2024, 2, 29), dt.date(2026, 11, 16), dt.date(2099, 12, 31)]


def _date_options(day: dt.date) -> list[tuple[Any, str]]:
    serial = (day - dt.date(1899, 12, 30)).days
    iso = day.isoformat()
    shown = [
        iso,
        f" {iso} ",
        f"{iso} 00:00:00",
        serial,
        float(serial),
        str(serial),
        dt.datetime.combine(day, dt.time()),
    ]
    return [(s, iso) for s in shown]


@functools.cache
def _valid_answers(
    case_type: str, qid: str, condition_holds: bool | None
) -> st.SearchStrategy[tuple[Any, Any]]:
    """(presented value, expected normalised value) pairs that are valid for the question.

    ``condition_holds`` is None for unconditional questions. Strategies are built once: building
    them per draw costs more than the validation being tested.
    """
    q = FORMS[case_type].question(qid)
    blank: list[tuple[Any, Any]] = [("", None), (None, None), ("   ", None)]
    if condition_holds is False:
        return st.sampled_from(blank + ([("na", "na"), ("N/A ", "na"), ("NA", "na")] if q.allows_na else []))
    optional = not q.required and not q.required_when
    options: list[tuple[Any, Any]] = blank if optional else []
    if q.type in (AnswerType.JUDGEMENT, AnswerType.CHOICE):
        assert q.allowed is not None
        for value in q.allowed:
            if not (condition_holds and value == "na"):
                options += [
                    (value, value),
                    (value.upper(), value),
                    (f" {value.title()} ", value),
                    (f"{value}\t", value),
                ]
    elif q.type is AnswerType.DATE:
        for day in _SAMPLE_DAYS:
            options += _date_options(day)
    elif q.type is AnswerType.INTEGER:
        lo, hi = q.minimum or 0, q.maximum if q.maximum is not None else 1000
        for number in range(lo, hi + 1):
            options += [
                (str(number), number),
                (number, number),
                (float(number), number),
                (f" {number} ", number),
            ]
    else:
        return st.text(max_size=20).map(lambda t: (t, t if t.strip() else None))
    return st.sampled_from(options)


_BAD_CLOSED = ["Y", "maybe", "yes please", "1", "true", "nope", "0", "-", "?", "na na", "é", True, 1.5]
_BAD_DATES = ["16/11/2026", "2026-02-30", "yesterday", "20261116", "1850-01-01", "2026-11", True, -3.0, "nan"]
_BAD_INTEGERS = ["-1", "28", "many", "3.5", "1e3", True, 99, -0.5]
_BAD_COMMON: dict[str, Any] = {
    "assessment_id": "  ",
    "case_type": "stop search",
    "case_ref": "",
    "place": "ZZZ",
    "team": "t" * 201,
    "officer": None,
    "reviewer": "",
    "assessed_on": "2026-13-01",
    "case_date": "2099-12-31",  # after assessed_on: that is where the problem is reported
}


@functools.cache
def _base_row(case_type: str) -> dict[str, str]:
    return build_row(case_type)


@st.composite
def _case(
    draw: st.DrawFn, form: Form, index: int
) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """A row, its expected answers when valid, and the column made invalid (None if valid)."""
    row: dict[str, Any] = {**_base_row(form.case_type), "assessment_id": f"F-{index}"}
    row["place"] = draw(st.sampled_from(["BLK", " crn ", "Fen"]))
    expected: dict[str, Any] = {}
    holds: dict[str, bool | None] = {}
    for q in form.questions:
        holds[q.id] = all(expected.get(c) in v for c, v in q.required_when) if q.required_when else None
        shown, value = draw(_valid_answers(form.case_type, q.id, holds[q.id]))
        row[q.id] = shown
        if value is not None:
            expected[q.id] = value
    column = draw(st.sampled_from([None] * len(form.columns) + list(form.columns)))
    if column is None:
        return row, expected, None
    if column in _BAD_COMMON:
        row[column] = _BAD_COMMON[column]
        return row, None, "assessed_on" if column == "case_date" else column
    q = form.question(column)
    if q.type is AnswerType.TEXT:
        return row, expected, None  # free text cannot be wrong
    if q.required_when and holds[q.id] is False and q.allowed is not None:
        row[column] = draw(
            st.sampled_from([a for a in q.allowed if a != "na"])
        )  # answered when it must not be
    elif q.required_when and holds[q.id] or q.required:
        row[column] = draw(st.sampled_from(["", "na"] if q.allows_na and q.required_when else [""]))
    elif q.type in (AnswerType.JUDGEMENT, AnswerType.CHOICE):
        row[column] = draw(st.sampled_from(_BAD_CLOSED))
    elif q.type is AnswerType.DATE:
        row[column] = draw(st.sampled_from(_BAD_DATES))
    else:
        row[column] = draw(st.sampled_from(_BAD_INTEGERS))
    return row, None, column


@st.composite
def _batch(draw: st.DrawFn, form: Form) -> list[tuple[dict[str, Any], dict[str, Any] | None, str | None]]:
    return [draw(_case(form, i)) for i in range(40)]


@pytest.mark.parametrize("case_type", CANONICAL_CASE_TYPES)
@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_fuzzed_rows_never_crash_valid_round_trip_invalid_are_named(
    case_type: str, data: st.DataObject
) -> None:
    form = FORMS[case_type]
    cases = data.draw(_batch(form))
    raws = [RawRow("fuzz.csv", i + 2, row, 1) for i, (row, _, _) in enumerate(cases)]
    valid, problems = validate_rows(raws, FORMS, DEMO_PLACE_CODES)
    assert all(isinstance(p, Problem) for p in problems)
    by_row: dict[int, set[str | None]] = {}
    for p in problems:
        assert p.location.file == "fuzz.csv" and p.location.line is not None
        by_row.setdefault(p.location.line, set()).add(p.location.field)
    valid_by_id = {v.assessment_id: v for v in valid}
    for i, (row, expected, bad_column) in enumerate(cases):
        number = i + 2
        if bad_column is None:
            assert number not in by_row, (row, by_row.get(number))
            assert valid_by_id[f"F-{i}"].answers == expected
        else:
            assert bad_column in by_row.get(number, set()), (bad_column, row[bad_column], by_row.get(number))
            assert f"F-{i}" not in valid_by_id
    assert len(valid) == sum(1 for _, _, bad in cases if bad is None)


def test_problem_locations_render_as_file_row_column() -> None:
    assert str(Problem(Location("a.csv", 3, "notes"), "x")) == "a.csv:3:notes: x"
