"""engine.analysis.day_sums: the outcome day summaries as arrays, made from the outcomes frame or
from day summaries, give the weekly sums the day summaries' dicts give, for any span."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np

from engine.analysis import daily
from engine.analysis.day_sums import DaySums
from engine.analysis.outcomes import Outcomes
from engine.analysis.team_findings import with_team_days
from engine.core.periods import week_label, week_range
from tests.analysis.sample_rows import frame, row

FIRST = date(2026, 5, 20)  # a Wednesday in 2026-Q2; the rows run into 2027-Q1
ENDS = [date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31), date(2027, 1, 10), date(2027, 2, 3)]


def _random_outcomes(seed: int, cases: int = 900) -> Outcomes:
    """Cases of both case types in three places, with teams (some unnamed), every outcome."""
    rng = random.Random(seed)
    # a case with nothing applicable, before the others: its week is the first of the weekly series
    rows = [row("RVS", c, "na", "N0", assessed_on=FIRST - timedelta(days=10)) for c in ("SS01", "SS02")]
    for i in range(cases):
        on = FIRST + timedelta(days=rng.randint(0, 250))
        place = rng.choice(["BLK", "RVS", "HLM"])
        team = rng.choice(["Response 1", "Response 2", "CID", "", "Neighbourhood"])
        criteria = ["VC01"] if rng.random() < 0.3 else ["SS01", "SS02", "SS03"]
        for criterion in criteria:
            outcome = rng.choice(["pass", "pass", "pass", "fail", "na"])
            rows.append(
                row(place, criterion, outcome, f"C{i}", assessed_on=on, team=team, officer=f"PC {i % 7}")
            )
    return frame(rows)


def _same(a: daily.WeeklySums, b: daily.WeeklySums) -> None:
    assert a.names == b.names
    for field in ("n", "passes", "first"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


def test_weekly_sums_from_the_frame_equal_the_day_summaries_for_every_span() -> None:
    for seed in range(6):
        outcomes = _random_outcomes(seed)
        days = with_team_days(outcomes)
        assert any(key.startswith("team:") for places in days.values() for c in places.values() for key in c)
        for sums in (DaySums.of_outcomes(outcomes), DaySums.of_days(days)):
            for last in ENDS:
                weeks = week_range(week_label(FIRST - timedelta(days=10)), week_label(last))
                for first in (None, FIRST + timedelta(days=40), last - timedelta(days=91)):
                    _same(
                        sums.weekly(first, last, weeks),
                        daily.weekly_sums(daily.between(days, first, last), weeks),
                    )
                # a period's place and team weekly series: from its first week with any row to its latest
                mine, theirs = (
                    sums.outcome_weeks(last),
                    _outcome_weeks(daily.between(days, None, last), week_label(last)),
                )
                assert mine is not None and theirs is not None
                assert mine.weeks == theirs.weeks
                _same(mine.sums, theirs.sums)
            assert sums.outcome_weeks(FIRST - timedelta(days=11)) is None
            first_week = sums.outcome_weeks(FIRST - timedelta(days=10))
            assert first_week is not None and first_week.sums.names == []
            assert sums.to_days() == {d: {p: c for p, c in places.items() if c} for d, places in days.items()}


def test_a_history_then_a_period_sums_as_the_merged_day_summaries() -> None:
    history, period = with_team_days(_random_outcomes(1)), with_team_days(_random_outcomes(2))
    cut = date(2026, 9, 1)
    history = {d: c for d, c in history.items() if d < cut}
    period = {
        d: c for d, c in period.items() if d >= cut - timedelta(days=3)
    }  # overlapping days: the period's
    merged = {**history, **period}
    sums = DaySums.of_days(history).then(DaySums.of_outcomes(_rows_from(2, cut - timedelta(days=3))))
    for last in ENDS[1:]:
        weeks = week_range(week_label(FIRST), week_label(last))
        mine, theirs = (
            sums.weekly(None, last, weeks),
            daily.weekly_sums(daily.between(merged, None, last), weeks),
        )
        order = sorted(range(len(theirs.names)), key=theirs.names.__getitem__)
        mine_order = sorted(range(len(mine.names)), key=mine.names.__getitem__)
        assert [mine.names[i] for i in mine_order] == [theirs.names[i] for i in order]
        assert np.array_equal(mine.n[mine_order], theirs.n[order])
        assert np.array_equal(mine.passes[mine_order], theirs.passes[order])


def _rows_from(seed: int, first: date) -> Outcomes:
    outcomes = _random_outcomes(seed)
    f = outcomes.frame
    keep = f["assessed_on"].dt.date.to_numpy() >= first
    return Outcomes(frame=f.loc[keep], criteria=outcomes.criteria, measures=outcomes.measures)


def test_no_rows_no_weeks() -> None:
    for sums in (DaySums.of_days({}), DaySums.of_outcomes(frame([]))):
        assert sums.outcome_weeks(date(2026, 6, 30)) is None
        assert sums.weekly(None, date(2026, 6, 30), ["2026-W27"]).names == []


def test_series_views_read_as_the_lists_of_pairs_they_stand_for() -> None:
    sums = DaySums.of_outcomes(_random_outcomes(3)).weekly(None, ENDS[2], week_range("2026-W20", "2026-W53"))
    measures, criteria = daily.series_of(sums)
    rows = {name: i for i, name in enumerate(sums.names)}
    pairs = {
        name: list(zip(sums.n[i].tolist(), sums.passes[i].tolist(), strict=True)) for name, i in rows.items()
    }
    assert list(measures) == sorted(k for k in rows if not k[1].startswith(daily.CRITERION_KEY))
    assert dict(measures) == {k: pairs[k] for k in measures}
    assert list(criteria) == sorted(
        (p, *k[len(daily.CRITERION_KEY) :].rsplit("/", 1))
        for p, k in rows
        if k.startswith(daily.CRITERION_KEY)
    )
    keys = list(criteria)
    counts = np.asarray([criteria[k] for k in keys], dtype=np.float64).reshape(len(keys), -1, 2)
    assert np.array_equal(criteria.counts(keys), counts)
    # a criterion whose series is its measure's week for week, and one that is not
    for key in keys:
        for measure in ("D11", "M8"):
            assert criteria.same(key, measures, (key[0], measure)) == (
                criteria[key] == measures.get((key[0], measure))
            )


def _outcome_weeks(days: daily.Days, latest_week: str) -> daily.OutcomeWeeks | None:
    """The reference: the weeks from the first with any outcome to ``latest_week`` and the day
    summaries' dicts summed over them (what the engine did before DaySums)."""
    seen = daily.weeks_present(days)
    if not seen or seen[0] > latest_week:
        return None
    weeks = week_range(seen[0], latest_week)
    return daily.OutcomeWeeks(weeks, daily.weekly_sums(days, weeks))
