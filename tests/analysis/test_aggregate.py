"""engine.analysis.aggregate: compliance by level and dimension (N/A out of the denominator, "no data" for
unfed measures), the BI CSV, weekly series for SPC, and incident metrics from the extract."""

from __future__ import annotations

import csv
import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.analysis import aggregate as agg
from engine.analysis import daily
from engine.analysis.stats import wilson_interval
from engine.inputs.extracts import IncidentRow, ResponseSettings
from engine.rules.catalogue import MEASURE_IDS, load_measures

MEASURES = list(load_measures().values())
SS = "stop-search-legitimacy"
CRITERIA: list[dict[str, Any]] = [
    {"ruleset": SS, "criterion": "SS01", "text": "Grounds recorded", "measure": "D11", "minimum": 0.9},
    {
        "ruleset": SS,
        "criterion": "SS02",
        "text": "Strip search authorised",
        "measure": "D11",
        "critical": True,
    },
    {
        "ruleset": SS,
        "criterion": "SS03",
        "text": "BWV activated",
        "measure": "D11",
        "iserve": ("integrity", "evidence"),
    },
    {
        "ruleset": "victims-code-compliance",
        "criterion": "VC01",
        "text": "Written confirmation",
        "measure": "M8",
    },
]
DAY = date(2026, 11, 17)


def row(place: str, criterion: str, outcome: str, case: str, **kw: Any) -> dict[str, Any]:
    ruleset = kw.pop("ruleset", SS if criterion.startswith("SS") else "victims-code-compliance")
    base = {
        "case_ref": case,
        "case_type": "stop_search" if ruleset == SS else "victim_care",
        "place": place,
        "division": {"BLK": "West", "RVS": "West", "HLM": "East"}[place],
        "team": "Response 1",
        "officer": "PC 1",
        "assessed_on": DAY,
        "ruleset": ruleset,
        "criterion": criterion,
        "outcome": outcome,
    }
    return {**base, **kw}


def frame(rows: list[dict[str, Any]]) -> agg.Outcomes:
    return agg.outcomes_frame(rows, CRITERIA, MEASURES)


def pick(table: pd.DataFrame, **where: str) -> pd.DataFrame:
    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        mask &= table[column] == value
    return table[mask]


def one(table: pd.DataFrame, **where: str) -> dict[str, Any]:
    found = pick(table, **where)
    assert len(found) == 1, found
    return found.iloc[0].to_dict()


def test_na_outcomes_leave_the_denominator() -> None:
    rows = [row("BLK", "SS01", "pass", f"C{i}") for i in range(8)]
    rows += [row("BLK", "SS01", "fail", f"F{i}") for i in range(2)]
    rows += [row("BLK", "SS01", "na", f"N{i}") for i in range(40)]
    cell = one(
        agg.aggregate(frame(rows), "2026-W47"), level="place", dimension="criterion", dimension_key="SS01"
    )
    assert (cell["n"], cell["passes"], cell["fails"]) == (10, 8, 2)
    assert cell["rate"] == pytest.approx(0.8)
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(wilson_interval(8, 10))


def test_every_level_counts_its_own_rows() -> None:
    rows = [
        row("BLK", "SS01", "pass", "A", team="Response 1", officer="PC 1"),
        row("BLK", "SS01", "fail", "B", team="Response 2", officer="PC 2"),
        row("RVS", "SS01", "pass", "C", team="Response 1", officer="PC 1"),
        row("HLM", "SS01", "fail", "D", team="Response 1", officer="PC 3"),
    ]
    t = pick(agg.aggregate(frame(rows), "2026-W47"), dimension="criterion")
    counts = {(r["level"], r["place"], r["key"]): (r["n"], r["passes"]) for r in agg.records(t)}
    assert counts == {
        ("force", "", "FORCE"): (4, 2),
        ("division", "", "East"): (1, 0),
        ("division", "", "West"): (3, 2),
        ("place", "BLK", "BLK"): (2, 1),
        ("place", "HLM", "HLM"): (1, 0),
        ("place", "RVS", "RVS"): (1, 1),
        # teams and officers are grouped within their place: "Response 1" at BLK is not RVS's
        ("team", "BLK", "Response 1"): (1, 1),
        ("team", "BLK", "Response 2"): (1, 0),
        ("team", "HLM", "Response 1"): (1, 0),
        ("team", "RVS", "Response 1"): (1, 1),
        ("officer", "BLK", "PC 1"): (1, 1),
        ("officer", "BLK", "PC 2"): (1, 0),
        ("officer", "HLM", "PC 3"): (1, 0),
        ("officer", "RVS", "PC 1"): (1, 1),
    }


def test_dimensions_roll_criteria_up_by_their_tags() -> None:
    rows = [
        row("BLK", "SS01", "pass", "A"),
        row("BLK", "SS03", "fail", "A"),
        row("BLK", "VC01", "pass", "V"),
    ]
    t = pick(agg.aggregate(frame(rows), "2026-W47"), level="force")
    by = {(r["dimension"], r["dimension_key"]): (r["n"], r["passes"]) for r in agg.records(t) if r["n"]}
    assert by == {
        ("criterion", "SS01"): (1, 1),
        ("criterion", "SS03"): (1, 0),
        ("criterion", "VC01"): (1, 1),
        ("measure", "D11"): (2, 1),
        ("measure", "M8"): (1, 1),
        ("priority", "3"): (1, 1),
        ("priority", "4"): (2, 1),
        ("peel", "effectiveness"): (1, 1),
        ("peel", "legitimacy"): (2, 1),
        # SS03's own strands replace D11's; a criterion in two strands counts in both
        ("iserve", "engagement"): (1, 1),
        ("iserve", "evidence"): (1, 0),
        ("iserve", "integrity"): (2, 1),
        ("iserve", "victims"): (1, 1),
    }
    assert one(t, dimension="criterion", dimension_key="SS01")["ruleset"] == SS


def test_all_24_measures_appear_and_unfed_ones_have_no_data_not_zero() -> None:
    t = agg.aggregate(frame([row("BLK", "SS01", "fail", "A")]), "2026-W47")
    for level in ("force", "division", "place"):
        measures = pick(t, level=level, dimension="measure")
        assert list(measures["dimension_key"]) == list(MEASURE_IDS)
        unfed = measures[measures["dimension_key"] != "D11"]
        assert (unfed["n"] == 0).all()
        assert unfed["rate"].isna().all() and unfed["ci_low"].isna().all() and unfed["ci_high"].isna().all()
    assert one(t, level="force", dimension="measure", dimension_key="D11")["rate"] == 0.0
    assert list(pick(t, level="force", dimension="priority")["dimension_key"]) == ["1", "2", "3", "4"]
    # teams and officers list only what they were assessed on
    assert list(pick(t, level="team", dimension="measure")["dimension_key"]) == ["D11"]


def test_failing_case_refs_per_aggregate() -> None:
    rows = [
        row("BLK", "SS01", "fail", "SS-2"),
        row("BLK", "SS03", "fail", "SS-2"),
        row("BLK", "SS01", "fail", "SS-1"),
        row("BLK", "SS01", "pass", "SS-3"),
    ]
    t = agg.aggregate(frame(rows), "2026-W47", with_cases=True)
    assert one(t, level="place", dimension="criterion", dimension_key="SS01")["cases"] == ("SS-1", "SS-2")
    assert one(t, level="force", dimension="measure", dimension_key="D11")["cases"] == ("SS-1", "SS-2")
    assert one(t, level="force", dimension="measure", dimension_key="M8")["cases"] == ()
    assert "cases" not in agg.aggregate(frame(rows), "2026-W47").columns


def test_rows_are_in_a_fixed_reading_order() -> None:
    rows = [row(p, c, "pass", f"{p}{c}") for p in ("RVS", "BLK") for c in ("SS03", "SS01")]
    t = agg.aggregate(frame(rows), "2026-W47")
    assert list(dict.fromkeys(t["level"])) == list(agg.LEVELS)
    assert list(dict.fromkeys(t["dimension"])) == list(agg.DIMENSIONS)
    places = pick(t, level="place", dimension="criterion")
    assert list(zip(places["place"], places["dimension_key"], strict=True)) == [
        ("BLK", "SS01"),
        ("BLK", "SS03"),
        ("RVS", "SS01"),
        ("RVS", "SS03"),
    ]


def test_csv_for_bi_tools(tmp_path: Path) -> None:
    rows = [row("BLK", "SS01", "pass", "A"), row("BLK", "SS01", "fail", "B")]
    table = agg.aggregate(frame(rows), "2026-W47", with_cases=True)
    out = tmp_path / "aggregates.csv"
    agg.write_aggregates_csv(table, out)
    first = out.read_bytes()
    agg.write_aggregates_csv(table, out)
    assert out.read_bytes() == first
    with open(out, encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert list(lines[0]) == [*agg.AGGREGATE_COLUMNS, "cases"]
    assert lines[0] == {
        "period": "2026-W47",
        "level": "force",
        "place": "",
        "key": "FORCE",
        "dimension": "criterion",
        "ruleset": SS,
        "dimension_key": "SS01",
        "n": "2",
        "passes": "1",
        "fails": "1",
        "rate": "0.500000",
        "ci_low": "0.094531",
        "ci_high": "0.905469",
        "cases": "B",
    }
    no_data = next(r for r in lines if r["dimension"] == "measure" and r["dimension_key"] == "M1")
    assert (no_data["n"], no_data["rate"], no_data["ci_low"]) == ("0", "", "")


def test_unknown_criterion_or_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="no criteria metadata for stop-search-legitimacy/SS99"):
        frame([row("BLK", "SS99", "pass", "A")])
    with pytest.raises(ValueError, match="unknown outcome value"):
        frame([row("BLK", "SS01", "yes", "A")])
    with pytest.raises(ValueError, match="lack column"):
        agg.outcomes_frame([{"case_ref": "A"}], CRITERIA, MEASURES)


def test_critical_comes_from_the_row_or_else_the_catalogue() -> None:
    o = frame([row("BLK", "SS02", "fail", "A"), row("BLK", "SS01", "fail", "B", critical=True)])
    assert {r["case_ref"] for r in agg.failures(o, critical=True)} == {"A", "B"}


def test_in_period_selects_by_assessment_date() -> None:
    rows = [row("BLK", "SS01", "pass", f"C{d}", assessed_on=DAY + timedelta(days=d)) for d in range(-3, 8)]
    o = agg.in_period(frame(rows), date(2026, 11, 16), date(2026, 11, 22))
    assert sorted(o.frame["case_ref"].astype(str)) == [f"C{d}" for d in range(-1, 6)]


def test_failures_carry_the_case_details() -> None:
    rows = [
        row(
            "BLK",
            "SS01",
            "fail",
            "A",
            trace=("grounds_recorded is 'no'",),
            note="No grounds written",
            reviewer="R1",
        ),
        row("BLK", "SS03", "fail", "B"),
        row("RVS", "SS01", "fail", "C"),
    ]
    got = agg.failures(frame(rows), cells=[("BLK", SS, "SS01")])
    assert got == [
        {
            "place": "BLK",
            "ruleset": SS,
            "criterion": "SS01",
            "criterion_text": "Grounds recorded",
            "measure": "D11",
            "week": "2026-W47",
            "case_ref": "A",
            "case_type": "stop_search",
            "team": "Response 1",
            "officer": "PC 1",
            "reviewer": "R1",
            "assessed_on": "2026-11-17",
            "trace": ("grounds_recorded is 'no'",),
            "note": "No grounds written",
            "critical": False,
        }
    ]
    by_week = agg.failures(frame(rows), measure_weeks=[("BLK", "D11", "2026-W47")])
    assert [r["case_ref"] for r in by_week] == ["A", "B"]


def test_measure_weekly_series_pools_criteria_and_marks_empty_weeks() -> None:
    rows = [
        row("BLK", "SS01", "pass", "A", assessed_on=date(2026, 11, 3)),
        row("BLK", "SS03", "fail", "A", assessed_on=date(2026, 11, 3)),
        row("BLK", "SS01", "na", "B", assessed_on=date(2026, 11, 17)),
        row("BLK", "SS01", "pass", "C", assessed_on=date(2026, 11, 18)),
    ]
    weeks = agg.week_range("2026-W45", "2026-W47")
    assert weeks == ["2026-W45", "2026-W46", "2026-W47"]
    assert daily.measure_weekly_series(daily.outcome_days(frame(rows)), weeks) == {
        ("BLK", "D11"): [(2, 1), (0, 0), (1, 1)]
    }


def test_iso_week_helpers() -> None:
    assert agg.week_label(date(2026, 11, 16)) == "2026-W47"
    assert agg.week_label(date(2027, 1, 1)) == "2026-W53"  # ISO years have 52 or 53 weeks
    assert agg.week_monday("2026-W47") == date(2026, 11, 16)
    assert agg.week_range("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]


# --------------------------------------------------------------------------- incidents

T0 = datetime(2026, 11, 16, 8, 0, 0)
SETTINGS = {"BLK": "urban", "RVS": "rural"}


def incident(
    ref: str, place: str, grade: int, channel: str, answer_s: float | None, arrive_min: float | None
) -> dict[str, Any]:
    return {
        "incident_ref": ref,
        "place": place,
        "grade": grade,
        "channel": channel,
        "received_at": T0,
        "answered_at": None if answer_s is None else T0 + timedelta(seconds=answer_s),
        "arrived_at": None if arrive_min is None else T0 + timedelta(minutes=arrive_min),
    }


def test_grade_1_standard_depends_on_the_place_setting() -> None:
    rows = [
        incident("U1", "BLK", 1, "999", 5, 15),  # urban, exactly 15 minutes: within
        incident("U2", "BLK", 1, "999", 5, 17),  # urban, 17 minutes: not within 15
        incident("R1", "RVS", 1, "999", 5, 17),  # rural, 17 minutes: within 20
        incident("R2", "RVS", 1, "999", 5, None),  # not attended: not within the standard
    ]
    inc = agg.incidents_frame(rows, SETTINGS)
    assert list(inc["g1_attended_within_standard__passed"]) == [True, False, True, False]
    m = daily.incident_metrics(daily.incident_days(inc))
    got = {
        r["place"]: (r["n"], r["passes"]) for r in agg.records(pick(m, metric="g1_attended_within_standard"))
    }
    assert got == {"BLK": (2, 1), "RVS": (2, 1)}
    stricter = agg.incidents_frame(rows, SETTINGS, ResponseSettings(g1_rural_minutes=16))
    assert list(stricter["g1_attended_within_standard__passed"]) == [True, False, False, False]


def test_call_metrics() -> None:
    rows = [
        incident("A", "BLK", 3, "999", 10, None),  # exactly 10 s: within
        incident("B", "BLK", 3, "999", 10.5, None),
        incident("C", "BLK", 3, "999", None, None),  # not answered: not within 10 s
        incident("D", "BLK", 2, "101", 30, 45),
        incident("E", "BLK", 2, "101", 60, 61),
        incident("F", "BLK", 3, "101", 300, None),
        incident("G", "BLK", 3, "101", None, None),  # unanswered 101: no answer time
        incident("H", "BLK", 3, "online", None, None),
    ]
    m = daily.incident_metrics(daily.incident_days(agg.incidents_frame(rows, SETTINGS)), period="2026-W47")
    c999 = one(m, metric="call999_answered_within_10s")
    assert (c999["n"], c999["passes"], c999["period"]) == (3, 1, "2026-W47")
    assert (c999["ci_low"], c999["ci_high"]) == pytest.approx(wilson_interval(1, 3))
    g2 = one(m, metric="g2_attended_within_60")
    assert (g2["n"], g2["passes"]) == (2, 1)
    c101 = one(m, metric="call101_answer_seconds")
    assert (c101["n"], c101["median"], c101["p90"]) == (3, 60.0, pytest.approx(252.0))
    assert math.isnan(c101["rate"])
    # no Grade 1 incident, so no Grade 1 row
    assert list(m["metric"]) == [
        "g2_attended_within_60",
        "call999_answered_within_10s",
        "call101_answer_seconds",
    ]


def test_incident_weeks_series_and_period() -> None:
    rows = [
        incident("A", "BLK", 3, "999", 5, None),
        {**incident("B", "BLK", 3, "999", 20, None), "received_at": T0 + timedelta(days=14)},
    ]
    rows[1]["answered_at"] = rows[1]["received_at"] + timedelta(seconds=20)
    inc = agg.incidents_frame(rows, SETTINGS)
    assert list(inc["week"].astype(str)) == ["2026-W47", "2026-W49"]
    series = daily.incident_weekly_series(daily.incident_days(inc), agg.week_range("2026-W47", "2026-W49"))
    assert series[("BLK", "call999_answered_within_10s")] == [(1, 1, 1.0), (0, 0, None), (1, 0, 0.0)]
    assert list(daily.between(daily.incident_days(inc), date(2026, 11, 30), date(2026, 12, 6))) == [
        date(2026, 11, 30)
    ]


def test_incidents_from_iso_text_with_time_zones() -> None:
    rows = [
        {
            "incident_ref": "Z",
            "place": "BLK",
            "grade": "1",
            "channel": "999",
            "received_at": "2026-11-16T08:00:00+01:00",
            "answered_at": "2026-11-16T07:00:08+00:00",  # 8 s later
            "arrived_at": "",
        }
    ]
    inc = agg.incidents_frame(rows, SETTINGS)
    assert bool(inc["call999_answered_within_10s__passed"].iloc[0])
    assert not bool(inc["g1_attended_within_standard__passed"].iloc[0])


def test_place_without_a_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="urban/rural setting for place"):
        agg.incidents_frame([incident("A", "HLM", 1, "999", 5, 5)], SETTINGS)


def test_incidents_from_query_tuples_and_incident_rows() -> None:
    received = datetime(2026, 11, 16, 8, 0)
    as_tuple = (  # as a query returns extracts.METRIC_INPUT_COLUMNS
        "BLK",
        1,
        "999",
        received,
        received + timedelta(seconds=4),
        received + timedelta(minutes=9),
    )
    as_row = IncidentRow("T2", "RVS", 2, "101", received, received + timedelta(seconds=40), None, "h" * 64, 2)
    inc = agg.incidents_frame([as_tuple], SETTINGS)
    assert bool(inc["g1_attended_within_standard__passed"].iloc[0])
    inc = agg.incidents_frame([as_row], SETTINGS)
    assert inc["call101_answer_seconds"].iloc[0] == 40.0
