"""engine.analysis.aggregate: compliance by level and dimension (N/A out of the denominator, "no data" for
unfed measures, failing case refs, a fixed reading order)."""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from engine.analysis import aggregate as agg
from engine.analysis.outcomes import Outcomes, outcomes_frame
from engine.analysis.stats import wilson_interval
from engine.analysis.tables import records
from engine.rules.catalogue import MEASURE_IDS
from tests.analysis.sample_rows import CRITERIA, MEASURES, SS, frame, one, pick, row


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
    counts = {(r["level"], r["place"], r["key"]): (r["n"], r["passes"]) for r in records(t)}
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
    by = {(r["dimension"], r["dimension_key"]): (r["n"], r["passes"]) for r in records(t) if r["n"]}
    assert by == {
        ("criterion", "SS01"): (1, 1),
        ("criterion", "SS03"): (1, 0),
        ("criterion", "VC01"): (1, 1),
        # case A met SS01 but failed SS03: one case that did not meet every D11 criterion
        ("measure", "D11"): (1, 0),
        ("measure", "M8"): (1, 1),
        ("priority", "3"): (1, 1),
        ("priority", "4"): (1, 0),
        ("peel", "effectiveness"): (1, 1),
        ("peel", "legitimacy"): (1, 0),
        # SS03's own strands replace D11's; a criterion in two strands counts in both
        # D11 is in investigation and engagement, M8 in safeguarding and engagement
        ("iserve", "engagement"): (2, 2),
        ("iserve", "investigation"): (1, 1),
        ("iserve", "safeguarding"): (2, 1),
        ("iserve", "visibility"): (1, 0),
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


SS04 = {"ruleset": SS, "criterion": "SS04", "text": "Outcome recorded", "measure": "D11"}


def four_criteria(rows: list[dict[str, Any]]) -> Outcomes:
    return outcomes_frame(rows, [*CRITERIA, SS04], MEASURES)


def test_a_measure_counts_each_case_once_however_many_criteria_it_fails() -> None:
    # 10 searches, each failing 3 of D11's 4 criteria: 10 cases, none meeting D11 (not 40 findings, 10 met)
    rows = []
    for i in range(10):
        case = f"SS-{i}"
        rows += [row("BLK", c, "fail", case) for c in ("SS01", "SS02", "SS03")]
        rows.append(row("BLK", "SS04", "pass", case))
    t = agg.aggregate(four_criteria(rows), "2026-W47")
    for level in agg.LEVELS:
        for dimension, key in (("measure", "D11"), ("priority", "4"), ("peel", "legitimacy")):
            cell = one(t, level=level, dimension=dimension, dimension_key=key)
            assert (cell["n"], cell["passes"], cell["fails"], cell["rate"]) == (10, 0, 10, 0.0)
            assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(wilson_interval(0, 10))
    # each criterion still counts its own cases
    assert one(t, level="place", dimension="criterion", dimension_key="SS04")["passes"] == 10
    assert one(t, level="place", dimension="criterion", dimension_key="SS01")["n"] == 10


def test_a_case_failing_one_criterion_and_na_on_the_others_counts_once() -> None:
    rows = [row("BLK", "SS01", "fail", "A"), row("BLK", "SS02", "na", "A"), row("BLK", "SS03", "na", "A")]
    rows += [row("BLK", "SS01", "pass", "B"), row("BLK", "SS03", "pass", "B")]
    rows += [row("BLK", c, "na", "C") for c in ("SS01", "SS02", "SS03")]  # nothing applied: not counted
    t = agg.aggregate(frame(rows), "2026-W47", with_cases=True)
    d11 = one(t, level="place", dimension="measure", dimension_key="D11")
    assert (d11["n"], d11["passes"], d11["cases"]) == (2, 1, ("A",))
    # SS03's own strands: only B was assessed on it
    visibility = one(t, level="force", dimension="iserve", dimension_key="visibility")
    assert (visibility["n"], visibility["passes"]) == (1, 1)


def test_measure_rows_recomputed_from_the_raw_rows() -> None:
    rng = random.Random(16)
    rows = []
    for i in range(300):
        place, team = rng.choice(["BLK", "RVS", "HLM"]), rng.choice(["Response 1", "Response 2"])
        for criterion in ("SS01", "SS02", "SS03", "SS04"):
            outcome = rng.choices(["pass", "fail", "na"], [0.75, 0.15, 0.10])[0]
            rows.append(row(place, criterion, outcome, f"SS-{i}", team=team))
    t = agg.aggregate(four_criteria(rows), "2026-W47")
    raw = pd.DataFrame(rows)
    applied = raw[raw["outcome"] != "na"]
    per_case = applied.groupby(["place", "team", "case_ref"])["outcome"].agg(
        lambda o: (o == "fail").sum() == 0
    )
    for (place, team), met in per_case.groupby(level=["place", "team"]):
        cell = one(t, level="team", place=place, key=team, dimension="measure", dimension_key="D11")
        assert (cell["n"], cell["passes"]) == (len(met), int(met.sum()))
        assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(wilson_interval(int(met.sum()), len(met)))
    force = one(t, level="force", dimension="measure", dimension_key="D11")
    assert (force["n"], force["passes"]) == (len(per_case), int(per_case.sum()))
    # a strand from the criteria's own tags: SS03 is in "safeguarding" and "visibility" (not
    # "engagement"), the other criteria in D11's "investigation" and "engagement"
    strands = {"SS01": ("investigation", "engagement"), "SS02": ("investigation", "engagement"),
               "SS03": ("safeguarding", "visibility"), "SS04": ("investigation", "engagement")}  # fmt: skip
    for strand in ("investigation", "engagement", "visibility"):
        mine = applied[[strand in strands[c] for c in applied["criterion"]]]
        met = mine.groupby(["place", "team", "case_ref"])["outcome"].agg(lambda o: (o == "fail").sum() == 0)
        cell = one(t, level="force", dimension="iserve", dimension_key=strand)
        assert (cell["n"], cell["passes"]) == (len(met), int(met.sum())), strand
