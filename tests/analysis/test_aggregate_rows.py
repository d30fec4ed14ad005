"""Aggregating a period's rows selected by position from a whole run's frame (with the frame's row
codes made once, as a PEEL run's periods share them) gives the table of a copy of those rows."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from engine.analysis import aggregate as agg
from engine.analysis.cases import case_cells, row_codes
from engine.analysis.outcomes import Outcomes, in_period, period_rows
from tests.analysis.sample_rows import frame, row

START = date(2026, 4, 1)


def year_of_rows(seed: int) -> Outcomes:
    """Cases spread over 20 weeks, places, teams and officers; some rows N/A, some failing."""
    rng = random.Random(seed)
    rows = []
    for i in range(400):
        place = rng.choice(["BLK", "RVS", "HLM"])
        day = START + timedelta(days=rng.randrange(140))
        extra = {
            "team": rng.choice(["Response 1", "Response 2", ""]),
            "officer": rng.choice(["PC 1", "PC 2"]),
        }
        criteria = ("SS01", "SS02", "SS03") if i % 3 else ("VC01",)
        for criterion in criteria:
            outcome = rng.choices(["pass", "fail", "na"], [0.7, 0.2, 0.1])[0]
            rows.append(row(place, criterion, outcome, f"C-{i % 350}", assessed_on=day, **extra))
    return frame(rows)


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (START, START + timedelta(days=139)),  # every row: no selection
        (START, START + timedelta(days=44)),
        (START + timedelta(days=45), START + timedelta(days=89)),
        (START + timedelta(days=90), START + timedelta(days=200)),
        (START + timedelta(days=300), START + timedelta(days=310)),  # no row
    ],
)
def test_a_periods_rows_by_position_give_the_table_of_a_copy_of_them(first: date, last: date) -> None:
    outcomes = year_of_rows(7)
    codes = row_codes(outcomes)
    frames = {("BLK", "stop-search-legitimacy"): 500}
    copied = agg.aggregate(in_period(outcomes, first, last), "P", with_cases=True, frames=frames)
    selected = agg.aggregate(
        outcomes,
        "P",
        with_cases=True,
        frames=frames,
        rows=period_rows(outcomes, first, last),
        row_codes=codes,
    )
    pd.testing.assert_frame_equal(selected, copied)
    assert (copied["n"] > 0).any() == bool(len(in_period(outcomes, first, last).frame))


def test_period_rows_are_the_rows_in_period_keeps() -> None:
    outcomes = year_of_rows(3)
    last = START + timedelta(days=60)
    rows = period_rows(outcomes, START + timedelta(days=30), last)
    assert rows is not None
    kept = in_period(outcomes, START + timedelta(days=30), last).frame
    assert outcomes.frame.index[rows].tolist() == kept.index.tolist()
    assert period_rows(outcomes, None, START + timedelta(days=400)) is None


def test_row_codes_number_one_case_per_assessment() -> None:
    outcomes = year_of_rows(5)
    codes = row_codes(outcomes)
    f = outcomes.frame
    # a case_ref reused on another day, place, team or officer is another case
    parts = (
        f[["case_ref", "place", "team", "officer", "ruleset", "assessed_on"]]
        .astype(str)
        .agg("|".join, axis=1)
    )
    assert codes.ncases == parts.nunique()
    assert pd.Series(codes.case).groupby(parts.to_numpy()).nunique().eq(1).all()


def test_case_cells_dense_and_hashed_agree() -> None:
    rng = np.random.default_rng(1)
    case = rng.integers(0, 50, 400)
    key = rng.integers(0, 6, 400)
    failed = rng.random(400) < 0.3
    dense = case_cells(case, key, failed, 50, 6)
    hashed = case_cells(case, key, failed, 10**7, 6)  # too many cells to count densely
    for a, b in zip(dense, hashed, strict=True):
        np.testing.assert_array_equal(a, b)
    pairs = {(c, k) for c, k in zip(case.tolist(), key.tolist(), strict=True)}
    bad = {(c, k) for c, k, f in zip(case.tolist(), key.tolist(), failed.tolist(), strict=True) if f}
    assert list(zip(dense[0].tolist(), dense[1].tolist(), strict=True)) == sorted(pairs)
    assert dense[2].tolist() == [p not in bad for p in sorted(pairs)]
