"""The demo force's measured figures: every metric of the bundled extract definitions (all but the
incidents', which QAM computes) for every place, drawn from engine.demo.figure_recipes with a fixed
seed and written as one tidy figures extract CSV per extract (docs/extracts.md), as a force's
systems would export them.

Daily and weekly figures cover the demo's weeks, monthly ones 18 months and survey ones 6 quarters,
each ending with the latest period closed by the end of the demo week. Figures vary as a binomial
or Poisson count does (a survey share, a mean time likewise), so their charts show only common-cause
variation; the latest period of each series is drawn on its better side of the usual level, so that
in the demo week only the planted problems (figure_recipes.PLANTED, the homicide) are exceptions
(engine.demo.quiet).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core.config import Place
from engine.core.text import csv_row_writer
from engine.demo.data import SEED
from engine.demo.figure_recipes import (
    DAY_WEIGHTS,
    EVENT_DETAILS,
    PLANTED,
    PLANTED_HOMICIDE,
    RECIPES,
    TEAM_SHARES,
    Planted,
    Recipe,
    place_scale,
    unit_hash,
)
from engine.demo.quiet import QUIET_TRIES, on_better_side
from engine.inputs.extract_definitions import ExtractDefinitions, MetricDefinition

#: the tidy figures extract's columns (docs/extracts.md)
COLUMNS: tuple[str, ...] = (
    "item",
    "metric",
    "place",
    "team",
    "period",
    "numerator",
    "denominator",
    "value",
    "count",
    "event_ref",
    "event_on",
    "detail",
)
MONTHS = 18
QUARTERS = 6

Row = dict[str, str]


@dataclass(frozen=True)
class FigurePlan:
    """The periods the figures cover, oldest first: ISO weeks (their Mondays; day and week grains),
    months ("2026-10") and quarters ("2026-Q3")."""

    mondays: tuple[dt.date, ...]
    months: tuple[str, ...]
    quarters: tuple[str, ...]
    seed: int = SEED

    def periods(self, grain: str) -> tuple[str, ...]:
        """The series' points for a grain: weeks for day and week figures."""
        if grain in ("day", "week"):
            return tuple(_week_label(m) for m in self.mondays)
        return self.months if grain == "month" else self.quarters if grain == "quarter" else ()


def figure_plan(
    mondays: Sequence[dt.date], *, months: int = MONTHS, quarters: int = QUARTERS, seed: int = SEED
) -> FigurePlan:
    """The plan for figures up to the Sunday of the last of ``mondays``: monthly and quarterly
    figures end with the last month and quarter closed by then."""
    last = mondays[-1] + dt.timedelta(days=6)
    month = (last.year * 12 + last.month - 1) - (0 if (last + dt.timedelta(days=1)).day == 1 else 1)
    month_labels = tuple(f"{m // 12}-{m % 12 + 1:02d}" for m in range(month - months + 1, month + 1))
    quarter = month // 3 if month % 3 == 2 else month // 3 - 1
    quarter_labels = tuple(f"{q // 4}-Q{q % 4 + 1}" for q in range(quarter - quarters + 1, quarter + 1))
    return FigurePlan(tuple(mondays), month_labels, quarter_labels, seed)


def _week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


# --------------------------------------------------------------------------- drawing figures


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n * min(p, 1 - p) < 20:
        return sum(rng.random() < p for _ in range(n))
    return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam >= 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _lognormal(rng: random.Random, median: float, p90: float) -> float:
    sigma = math.log(p90 / median) / 1.2815515655446004
    return rng.lognormvariate(math.log(median), sigma)


@dataclass(frozen=True)
class _Point:
    """One period's drawn figure: numerator and denominator (share, count) or time values."""

    numerator: int = 0
    denominator: int = 0
    values: tuple[tuple[int, int], ...] = ()

    @property
    def figure(self) -> float:
        if self.values:
            return sum(v * c for v, c in self.values) / max(1, sum(c for _, c in self.values))
        return self.numerator / self.denominator if self.denominator else 0.0


def _level(metric: str, recipe: Recipe, place: Place) -> float:
    base = recipe.rural if recipe.rural is not None and place.setting != "urban" else recipe.level
    return base + recipe.spread * (2 * unit_hash("level", metric, place.code) - 1)


def _draw(
    recipe: Recipe, level: float, units: float, exposure: float, per: float, rng: random.Random
) -> _Point:
    """One period's figure at ``level`` (a share, a rate per ``per`` of ``exposure`` or a median time)."""
    if recipe.kind == "share":
        n = max(1, round(units if recipe.stock else units * (1 + 0.04 * rng.gauss(0, 1))))
        return _Point(_binomial(rng, n, min(0.999, max(0.001, level))), n)
    if recipe.kind == "count":
        return _Point(_poisson(rng, level * exposure / per), round(exposure))
    n = max(1, round(units * (1 + 0.04 * rng.gauss(0, 1))))
    p90 = recipe.p90 * level / recipe.level
    drawn = Counter(
        max(1, round(_lognormal(rng, level, p90))) // recipe.bin * recipe.bin + recipe.bin // 2
        for _ in range(n)
    )
    return _Point(values=tuple(sorted(drawn.items())))


def _better(point: _Point, earlier: Sequence[_Point], direction: str | None, share: bool) -> bool:
    """True when the point lies on its better side of the earlier points (engine.demo.quiet); a share
    at 100% (or a figure at 0, when lower is better) always does."""
    return on_better_side(
        point.figure, [p.figure for p in earlier], direction, cap=1.0 if share else math.inf
    )


def _series(
    metric: MetricDefinition,
    recipe: Recipe,
    place: Place,
    team: str,
    periods: Sequence[str],
    seed: int,
) -> list[_Point]:
    """The metric's figures of one place (and team) for each period, oldest first."""
    rng = random.Random(f"{seed}/{metric.id}/{place.code}/{team}")
    scale = place_scale(place)
    share = TEAM_SHARES[team] if team else 1.0
    units = scale.size(recipe.base) * recipe.per_unit * share
    exposure = scale.size(recipe.base) * share
    level = _level(metric.id, recipe, place)
    planted = next((p for p in PLANTED if p.metric == metric.id and p.place == place.code), None)
    out: list[_Point] = []
    for i in range(len(periods)):
        at = _planted_level(planted, periods, i, level) if planted else level
        point = _draw(recipe, at, units, exposure, metric.per or 1.0, rng)
        if i == len(periods) - 1 and planted is None:
            share, tries = recipe.kind == "share", 1
            while not _better(point, out, metric.direction, share) and tries < QUIET_TRIES:
                point, tries = _draw(recipe, at, units, exposure, metric.per or 1.0, rng), tries + 1
        out.append(point)
    return out


def _planted_level(planted: Planted, periods: Sequence[str], i: int, level: float) -> float:
    if planted.start not in periods or i < periods.index(planted.start):
        return level
    steps = len(periods) - periods.index(planted.start)
    done = i - periods.index(planted.start) + 1
    return level + (planted.level - level) * done / steps


# --------------------------------------------------------------------------- rows


def _row(metric: MetricDefinition, place: str, team: str, period: str, **cells: object) -> Row:
    row = dict.fromkeys(COLUMNS, "")
    row.update(item=metric.item, metric=metric.id, place=place, team=team, period=period)
    row.update({k: str(v) for k, v in cells.items()})
    return row


def _point_rows(
    metric: MetricDefinition, recipe: Recipe, place: str, team: str, period: str, p: _Point
) -> list[Row]:
    if p.values:
        return [_row(metric, place, team, period, value=v, count=c) for v, c in p.values]
    if recipe.weighted:
        return [
            _row(metric, place, team, period, value=f"{p.numerator / p.denominator:.4f}", count=p.denominator)
        ]
    return [_row(metric, place, team, period, numerator=p.numerator, denominator=p.denominator)]


def _split_days(monday: dt.date, point: _Point, rng: random.Random) -> Iterator[tuple[str, _Point]]:
    """A week's figure as its days': the units by DAY_WEIGHTS, the numerator drawn without
    replacement day by day (so the days add up to the week)."""
    left_n, left_k = point.denominator, point.numerator
    for d, weight in enumerate(DAY_WEIGHTS):
        last = d == len(DAY_WEIGHTS) - 1
        n = left_n if last else min(left_n, round(point.denominator * weight))
        if last:
            k = left_k
        elif n == 0:
            k = 0
        else:
            mean = n * left_k / left_n
            sd = math.sqrt(max(0.0, mean * (1 - left_k / left_n) * (left_n - n) / max(1, left_n - 1)))
            k = min(n, left_k, max(left_k - (left_n - n), 0, round(rng.gauss(mean, sd))))
        left_n, left_k = left_n - n, left_k - k
        if n:
            yield (monday + dt.timedelta(days=d)).isoformat(), _Point(k, n)


def metric_rows(metric: MetricDefinition, places: Sequence[Place], plan: FigurePlan) -> Iterator[Row]:
    """Every figure row of one metric: each place (and team), each period of the plan."""
    recipe = RECIPES.get(metric.id)
    if recipe is None:
        return
    if recipe.kind == "event":
        yield from _event_rows(metric, recipe, places, plan)
        return
    grain = metric.periods[0]
    periods = plan.periods(grain)
    for place in places:
        for team in TEAM_SHARES if recipe.teams else ("",):
            points = _series(metric, recipe, place, team, periods, plan.seed)
            split = random.Random(f"{plan.seed}/days/{metric.id}/{place.code}/{team}")
            for i, (period, point) in enumerate(zip(periods, points, strict=True)):
                if grain == "day":
                    for day, part in _split_days(plan.mondays[i], point, split):
                        yield from _point_rows(metric, recipe, place.code, team, day, part)
                else:
                    yield from _point_rows(metric, recipe, place.code, team, period, point)


def _event_rows(
    metric: MetricDefinition, recipe: Recipe, places: Sequence[Place], plan: FigurePlan
) -> Iterator[Row]:
    """The high-impact log: events at the recipe's weekly rate in each week but the latest, where
    the one planted homicide is."""
    details = EVENT_DETAILS.get(metric.id, (metric.text,))
    events: list[tuple[dt.date, str, str]] = []
    for place in places:
        rng = random.Random(f"{plan.seed}/{metric.id}/{place.code}")
        lam = recipe.level * place_scale(place).population / 100_000
        for monday in plan.mondays[:-1]:
            for _ in range(_poisson(rng, lam)):
                day = monday + dt.timedelta(days=rng.randrange(7))
                events.append((day, place.code, details[rng.randrange(len(details))]))
    # numbered in date order, as the log numbers them
    for seq, (day, code, detail) in enumerate(sorted(events), start=1):
        ref = f"HIC-{day.year}-{metric.id[:3].upper()}{seq:03d}"
        yield _row(metric, code, "", day.isoformat(), event_ref=ref, event_on=day.isoformat(), detail=detail)
    code, day, ref, detail = PLANTED_HOMICIDE
    if metric.id == "homicide" and plan.mondays[0] <= day <= plan.mondays[-1] + dt.timedelta(days=6):
        if any(p.code == code for p in places):
            yield _row(
                metric, code, "", day.isoformat(), event_ref=ref, event_on=day.isoformat(), detail=detail
            )


# --------------------------------------------------------------------------- files


def demo_metrics(definitions: ExtractDefinitions) -> list[MetricDefinition]:
    """The metrics the demo draws figures for: those of a figures extract that have a recipe."""
    return [m for m in definitions.metrics.values() if m.source == "figures" and m.id in RECIPES]


def write_figure_files(
    folder: Path, definitions: ExtractDefinitions, places: Sequence[Place], plan: FigurePlan
) -> dict[str, tuple[Path, int]]:
    """Each figures extract's generated rows as folder/figures-<extract>.csv: {extract: (file, rows)},
    in the definitions' order."""
    by_extract: dict[str, list[MetricDefinition]] = {}
    for metric in demo_metrics(definitions):
        by_extract.setdefault(metric.extract, []).append(metric)
    out: dict[str, tuple[Path, int]] = {}
    for extract, metrics in by_extract.items():
        path = folder / f"figures-{extract}.csv"
        n = 0
        with path.open("w", encoding="utf-8", newline="") as fh:
            write = csv_row_writer(fh)
            write(COLUMNS)
            for metric in metrics:
                for row in metric_rows(metric, places, plan):
                    write(row[c] for c in COLUMNS)
                    n += 1
        out[extract] = (path, n)
    return out
