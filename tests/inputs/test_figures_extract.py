"""Reading the tidy figures extract: a valid file of every kind, and every refusal named at its
file:row:column, all of a file's problems at once (nothing is returned unless the whole file is valid)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.core.errors import ExtractError
from engine.core.periods import parse_grain_period
from engine.inputs.figures import read_figures
from engine.rules.catalogue import MEASURE_IDS
from tests.inputs.figure_texts import GOOD, HEADER, definitions

PLACES = ("DLW", "BLK")


def _read(tmp_path: Path, text: str, name: str = "figures.csv") -> list[str] | list[object]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    try:
        return list(read_figures(path, definitions(tmp_path), PLACES, MEASURE_IDS).rows)
    except ExtractError as exc:
        return [str(p) for p in exc.problems]


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "figures.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExtractError) as caught:
        read_figures(path, definitions(tmp_path), PLACES, MEASURE_IDS)
    assert str(caught.value).splitlines()[0].endswith("; nothing was loaded")
    return [str(p).removeprefix(f"{path}:") for p in caught.value.problems]


def test_a_valid_file_of_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "figures.csv"
    path.write_text(GOOD, encoding="utf-8")
    figures = read_figures(path, definitions(tmp_path), PLACES, MEASURE_IDS)
    by_metric: dict[str, list] = {}
    for row in figures.rows:
        by_metric.setdefault(row.metric, []).append(row)
    assert [(r.team, r.numerator, r.denominator) for r in by_metric["attendance_rate"]] == [
        ("Response A", 1880, 2000),
        ("Response B", 1790, 1900),
        ("", 470, 500),
    ]
    week = by_metric["attendance_rate"][2]
    assert (week.period, week.period_start, week.period_end) == (
        "2026-W44",
        dt.date(2026, 10, 26),
        dt.date(2026, 11, 1),
    )
    share, counted = by_metric["feel_valued"]
    assert (share.value, share.count, share.numerator) == (0.62, 410, None)
    assert (counted.numerator, counted.denominator, counted.value) == (240, 400, None)
    # a time metric's rows of one place and period pool: two rows of 41 days are one bin of count 2
    assert [(r.value, r.count, r.line) for r in by_metric["days_to_fill"]] == [(41, 2, 7), (55.5, 3, 9)]
    (grievances,) = by_metric["grievances"]
    assert (grievances.numerator, grievances.denominator, grievances.period_end) == (
        4,
        180.5,
        dt.date(2026, 9, 30),
    )
    (case,) = by_metric["misconduct_case"]
    assert (case.event_ref, case.event_on, case.detail) == (
        "GM-0042",
        dt.date(2026, 10, 14),
        "Officer arrested for assault off duty",
    )
    (burglaries,) = by_metric["burglaries"]
    assert (burglaries.numerator, burglaries.denominator, burglaries.item, burglaries.extract) == (
        27,
        None,
        "M4",
        "outcomes",
    )
    assert len(figures.sha256) == 64


def test_a_repeated_row_with_the_same_figures_is_read_once(tmp_path: Path) -> None:
    row = "M4,charge_rate,DLW,,2026-10,38,412,,,,,\n"
    rows = _read(tmp_path, HEADER + row + row.replace("412", "412.0"))
    assert len(rows) == 1


def test_columns_may_come_in_any_order_and_others_are_ignored(tmp_path: Path) -> None:
    text = "period,place,metric,item,denominator,numerator,source_system\n2026-10,DLW,charge_rate,M4,412,38,Niche\n"
    (row,) = _read(tmp_path, text)
    assert (row.metric, row.team, row.numerator, row.denominator) == ("charge_rate", "", 38, 412)  # type: ignore[attr-defined]


R = "M1,attendance_rate,DLW,,2026-10,1880,2000,,,,,\n"
SURVEY = "M1,feel_valued,DLW,,2026-Q3,,,0.62,410,,,\n"
EVENT = "M1,misconduct_case,DLW,,2026-10-14,,,,,GM-1,2026-10-14,Arrest\n"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(R.replace("M1,", "M13,"), "2:item: unknown item 'M13'", id="unknown-item"),
        pytest.param(
            R.replace("attendance_rate", "attendence_rate"),
            "2:metric: unknown metric 'attendence_rate' (did you mean 'attendance_rate'?)",
            id="unknown-metric",
        ),
        pytest.param(
            R.replace("M1,", "M4,"),
            "2:item: metric attendance_rate is a metric of item M1, not M4",
            id="other-item",
        ),
        pytest.param(
            R.replace("M1,attendance_rate", "M2,call101_answer_seconds"),
            "2:metric: metric call101_answer_seconds is computed by QAM from the incidents extract "
            "(qam extracts load incidents), not loaded as a figure",
            id="computed-metric",
        ),
        pytest.param(
            R.replace("DLW", "XYZ"), "2:place: unknown place 'XYZ' (known: BLK, DLW)", id="unknown-place"
        ),
        pytest.param(
            R.replace("2026-10", "2026-Q4"),
            "2:period: '2026-Q4' is a quarter, but metric attendance_rate is declared for week or month "
            "periods only",
            id="undeclared-period",
        ),
        pytest.param(
            R.replace("2026-10", "2026/10"),
            "2:period: '2026/10' is not a period: write 2026-11-16 (day), 2026-W47 (ISO week), 2026-11 "
            "(month), 2026-Q3 (quarter) or 2026 (year)",
            id="malformed-period",
        ),
        pytest.param(
            R.replace("2026-10", "2026-13"), "2:period: '2026-13' is not a month that exists", id="no-month"
        ),
        pytest.param(
            R.replace("2026-10", "2026-W54"), "2:period: '2026-W54' is not a week that exists", id="no-week"
        ),
        pytest.param(
            R.replace("1880,2000", "2001,2000"),
            "2:numerator: 2001 is more than the denominator 2000",
            id="over",
        ),
        pytest.param(R.replace("1880", "-3"), "2:numerator: -3 is negative", id="negative"),
        pytest.param(R.replace("1880", "18.5"), "2:numerator: 18.5 is not a whole number", id="fraction"),
        pytest.param(R.replace("1880", "1,880"), "", id="thousands-separator"),
        pytest.param(
            R.replace("2000", "0").replace("1880", "0"), "2:denominator: must be greater than 0", id="zero"
        ),
        pytest.param(R.replace("1880", "nan"), "2:numerator: 'nan' is not a finite number", id="nan"),
        pytest.param(R.replace("1880", "lots"), "2:numerator: 'lots' is not a number", id="not-a-number"),
        pytest.param(
            R.replace(",,,,,\n", ",0.9,,,,\n"),
            "2:value: must be blank for a proportion metric (attendance_rate uses numerator, denominator)",
            id="stray-value",
        ),
        pytest.param(
            SURVEY.replace(",410,", ",,"),
            "2:count: is blank: a survey share needs its sample size (the respondents) in count",
            id="survey-without-sample",
        ),
        pytest.param(
            SURVEY.replace("0.62", "62"), "2:value: 62 is not a share between 0 and 1", id="percent"
        ),
        pytest.param(
            SURVEY.replace(",,,0.62", ",240,400,0.62"),
            "2:value: give numerator and denominator, or value and count, not both",
            id="survey-both",
        ),
        pytest.param(
            "M1,days_to_fill,DLW,,2026-10,,,41,,,,\n",
            "2:count: is blank: a time metric needs it",
            id="time-without-count",
        ),
        pytest.param(
            "M1,grievances,DLW,,2026-Q3,4,,,,,,\n",
            "2:denominator: is blank: a count metric needs it",
            id="no-exposure",
        ),
        pytest.param(
            "M4,burglaries,DLW,,2026-10,27,5000,,,,,\n",
            "2:denominator: must be blank: metric burglaries has no exposure",
            id="exposure-none",
        ),
        pytest.param(
            EVENT.replace("2026-10-14,Arrest", "2026-10-15,Arrest"),
            "2:event_on: 2026-10-15 is not inside the period 2026-10-14",
            id="event-outside-period",
        ),
        pytest.param(
            EVENT.replace(",Arrest", ","),
            "2:detail: is blank: an event needs its reference, date and a short description",
            id="event-without-detail",
        ),
        pytest.param(
            EVENT.replace("2026-10-14,Arrest", "14/10/2026,Arrest"),
            "2:event_on: '14/10/2026' is not a date (use YYYY-MM-DD)",
            id="event-date",
        ),
        pytest.param(R.replace(",,\n", ",\n"), "2: 11 fields, but the header has 12", id="short-row"),
    ],
)
def test_each_refusal_names_its_row_and_column(tmp_path: Path, row: str, expected: str) -> None:
    problems = _problems(tmp_path, HEADER + row)
    if not expected:  # "1,880" splits into two fields
        assert problems == ["2: 13 fields, but the header has 12"]
        return
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_every_problem_of_the_file_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        HEADER
        + R
        + R.replace("1880", "1870")  # repeats row 2's key with other figures
        + R.replace("DLW", "XYZ").replace("1880,2000", "9,8")
        + SURVEY.replace(",410,", ",,")
    )
    assert _problems(tmp_path, text) == [
        "3: repeats the figure of row 2 (metric attendance_rate, place DLW, period 2026-10) with different figures",
        "4:place: unknown place 'XYZ' (known: BLK, DLW)",
        "4:numerator: 9 is more than the denominator 8",
        "5:count: is blank: a survey share needs its sample size (the respondents) in count",
    ]


def test_a_column_the_files_metrics_need_is_named_once_at_the_header(tmp_path: Path) -> None:
    text = "item,metric,place,period,numerator,denominator\n" + (
        "M1,attendance_rate,DLW,2026-10,1880,2000\nM1,days_to_fill,DLW,2026-10,,\nM1,days_to_fill,BLK,2026-10,,\n"
    )
    assert _problems(tmp_path, text) == [
        "1: missing column value, which metric days_to_fill needs (first at row 3)",
        "1: missing column count, which metric days_to_fill needs (first at row 3)",
    ]


def test_a_header_without_the_key_columns_is_refused(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "item,metric,numerator,denominator\nM4,charge_rate,1,2\n")
    assert problem.startswith("1: missing columns place, period (a figures extract has item, metric, place")


def test_a_file_that_is_not_utf8_is_refused_at_its_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "figures.csv"
    path.write_bytes((HEADER + "M1,attendance_rate,DLW,Équipe,2026-10,1,2,,,,,\n").encode("latin-1"))
    with pytest.raises(ExtractError) as caught:
        read_figures(path, definitions(tmp_path), PLACES, MEASURE_IDS)
    assert str(caught.value.problems[0]).startswith(f"{path}:2: column 4 (team): not UTF-8 (byte 0xc9)")


def test_an_input_that_is_not_a_file_is_refused(tmp_path: Path, not_a_file: Path) -> None:
    with pytest.raises(ExtractError, match="not a regular file"):
        read_figures(not_a_file, definitions(tmp_path), PLACES, MEASURE_IDS)


@pytest.mark.parametrize(
    ("label", "grain", "start", "end"),
    [
        ("2026-11-16", "day", dt.date(2026, 11, 16), dt.date(2026, 11, 16)),
        ("2026-W47", "week", dt.date(2026, 11, 16), dt.date(2026, 11, 22)),
        ("2026-W53", "week", dt.date(2026, 12, 28), dt.date(2027, 1, 3)),
        ("2024-02", "month", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2026-12", "month", dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ("2026-Q4", "quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("2026", "year", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ],
)
def test_periods_of_every_grain(label: str, grain: str, start: dt.date, end: dt.date) -> None:
    period = parse_grain_period(label)
    assert (period.grain, period.start, period.end, period.label) == (grain, start, end, label)


@pytest.mark.parametrize("label", ["2025-W53", "2026-Q0", "2026-02-30", "0999", "26", "2026-1", " 2026"])
def test_periods_that_do_not_exist_are_refused(label: str) -> None:
    with pytest.raises(ValueError, match=f"'{label}'"):
        parse_grain_period(label)


#: cells of every sort a figure column may hold: blank, spaces, whole, fraction, negative, not finite, not a number
CELLS = ("", " ", "-0", " 12", "12.0", "0.5", "-3", "inf", "x")


@pytest.mark.parametrize(
    "template",
    [
        "M1,attendance_rate,DLW,{t},2026-10,{a},{b},{c},{d},,,",
        "M1,feel_valued,DLW,{t},2026-Q3,{a},{b},{c},{d},,,",
        "M1,days_to_fill,DLW,{t},2026-10,{a},{b},{c},{d},,,",
        "M1,grievances,DLW,{t},2026-Q3,{a},{b},{c},{d},,,",
        "M4,burglaries,DLW,{t},2026-10,{a},{b},{c},{d},,,",
    ],
)
def test_the_quick_path_takes_exactly_what_the_full_checks_take(tmp_path: Path, template: str) -> None:
    """Plainly valid rows are read without the full checks: every row either path reads must come
    out the same, and every row the full checks refuse must be refused."""
    import itertools

    from engine.inputs import figures as figures_module

    reader = figures_module._Reader("f.csv", definitions(tmp_path), PLACES, MEASURE_IDS)
    reader.read(HEADER)  # the header, and the quick path's look-ups
    quick_row = reader.quick_reader(tuple(reader.header.get(c) for c in figures_module.KEY_COLUMNS))
    columns = [(c, reader.header.get(c)) for c in figures_module.COLUMNS]
    taken = 0
    for a, b, c, d in itertools.product(CELLS, repeat=4):
        for team in ("", " Team A"):
            record = template.format(t=team, a=a, b=b, c=c, d=d).split(",")
            quick = quick_row(record, 2)
            values = {name: (record[i].strip() if i is not None else "") for name, i in columns}
            before = len(reader.problems)
            full = reader.row(values, 2)
            if quick is not None:
                taken += 1
                assert full == quick and len(reader.problems) == before, record
    assert taken > 0


def test_periods_of_one_place_and_team_that_overlap_are_refused(tmp_path: Path) -> None:
    """attendance_rate comes weekly or monthly: a week inside a month of the same place and team
    would count its days twice."""
    text = HEADER + (
        "M1,attendance_rate,DLW,Response A,2026-10,1880,2000,,,,,\n"
        "M1,attendance_rate,DLW,Response B,2026-W42,470,500,,,,,\n"  # another team: fine
        "M1,attendance_rate,DLW,Response A,2026-W44,470,500,,,,,\n"  # 26 October to 1 November
        "M1,attendance_rate,DLW,Response A,2026-W46,470,500,,,,,\n"  # November: fine
    )
    assert _problems(tmp_path, text) == [
        "4:period: 2026-W44 overlaps 2026-10 of row 2 (metric attendance_rate, place DLW, team Response A): "
        "a metric's figures for one place and team are for periods that do not overlap"
    ]
