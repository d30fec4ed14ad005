"""A Learning Review's own figures (docs/reviews.md): the quarter's weeks, the weekly SPC charts of the
theme's items over a baseline and the quarter, which exceptions raised in the quarter's weeks
persisted into its last weeks, the teams' figures, and the reviewers' real stories (notes marked
good practice or learning). The items' rates and intervals themselves are the PEEL rerun's
(engine.runs.peel_figures), so the pack and `qam peel` cite the same figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.analysis import daily
from engine.analysis.aggregate import FORCE_KEY
from engine.analysis.frames import CaseColumns
from engine.analysis.spc_findings import as_spc_chart
from engine.analysis.stats import xmr_chart
from engine.analysis.tables import records
from engine.core.models import ExceptionKind, PerformanceException
from engine.core.periods import Period, week_label
from engine.rules.catalogue import Measure

#: an exception raised in any of the quarter's last LAST_WEEKS weeks persisted; otherwise it cleared
LAST_WEEKS = 4
#: the weeks before the quarter its charts show as their baseline (Making Data Count: 12 points)
BASELINE_WEEKS = 12
#: what a reviewer may mark a note as (the forms' optional note_kind question)
NOTE_KINDS = ("good_practice", "learning")


def quarter_weeks(start: dt.date, end: dt.date) -> list[Period]:
    """The ISO weeks that end (on Sunday) from ``start`` to ``end``: the weekly runs of the quarter.
    2026-Q3 (1 July to 30 September) has 2026-W27 (29 June to 5 July) to 2026-W39."""
    first = start + dt.timedelta(days=(6 - start.weekday()) % 7)  # the first Sunday on or after start
    out: list[Period] = []
    sunday = first
    while sunday <= end:
        monday = sunday - dt.timedelta(days=6)
        out.append(Period(monday, sunday, week_label(monday)))
        sunday += dt.timedelta(weeks=1)
    return out


@dataclass(frozen=True)
class Raised:
    """One exception (place, team, item, ruleset, criterion, kind) raised in some weeks of the
    quarter: the weeks it was raised, and whether it persisted (raised again in the last weeks).
    ``team`` is "" but for a team exception."""

    place: str
    team: str
    measure: str
    ruleset: str
    criterion: str
    kind: ExceptionKind
    text: str  # what it is about: the criterion's or metric's text
    weeks: tuple[str, ...]
    persisted: bool
    reason: str  # the latest week's reason


_Key = tuple[str, str, str, str, str, ExceptionKind]


def persistence(
    weekly: Sequence[tuple[str, Sequence[PerformanceException]]],
    items: Collection[str],
    *,
    last_weeks: int = LAST_WEEKS,
) -> list[Raised]:
    """The theme's exceptions over the quarter's weeks (``weekly``: each week's label and exceptions,
    in order), one per (place, team, item, ruleset, criterion, kind): persisted when raised in any of
    the last ``last_weeks`` weeks, else cleared. Persisting first, then by place, team, item and
    criterion."""
    late = {label for label, _ in weekly[-last_weeks:]} if last_weeks > 0 else set()
    seen: dict[_Key, list[tuple[str, PerformanceException]]] = {}
    for label, found in weekly:
        for e in found:
            if e.measure in items:
                key = (e.place, e.team, e.measure, e.ruleset, e.criterion, e.kind)
                seen.setdefault(key, []).append((label, e))
    out = [
        Raised(
            *key,
            raised[-1][1].criterion_text or raised[-1][1].reason,
            tuple(label for label, _ in raised),
            any(label in late for label, _ in raised),
            raised[-1][1].reason,
        )
        for key, raised in seen.items()
    ]
    return sorted(
        out, key=lambda r: (not r.persisted, r.place, r.team, r.measure, r.ruleset, r.criterion, r.kind.value)
    )


@dataclass(frozen=True)
class ItemCharts:
    """An item's weekly XmR charts over the baseline weeks and the quarter's: the force's (None
    with fewer than two weeks of cases) and each place's whose chart signals in the quarter's weeks
    in the concerning direction. Each is a carrier PerformanceException, as briefings draw them."""

    force: PerformanceException | None
    places: tuple[PerformanceException, ...]


def _carrier(
    m: Measure, place: str, series: Sequence[tuple[int, int]], weeks: Sequence[str], standard: float | None
) -> PerformanceException | None:
    """The chart of (n, passes) weekly ``series`` from its first week with cases; None with fewer
    than two such weeks."""
    first = next((i for i, (n, _) in enumerate(series) if n), None)
    if first is None or sum(1 for n, _ in series if n) < 2:
        return None
    series, weeks = series[first:], weeks[first:]
    values = [p / n if n else None for n, p in series]
    chart = as_spc_chart(
        xmr_chart(values, direction=m.direction or "neutral", baseline=BASELINE_WEEKS),
        weeks,
        [n for n, _ in series],
        standard,
    )
    return PerformanceException(
        place=place, priority=m.priority, measure=m.id, peel=m.peel, iserve=m.iserve, ruleset="",
        criterion="", kind=ExceptionKind.SPECIAL_CAUSE, reason="", n=sum(n for n, _ in series),
        passed=sum(p for _, p in series), rate=None, ci_low=None, ci_high=None, standard=standard,
        cases=(), criterion_text=m.name, chart=chart,
    )  # fmt: skip


def item_charts(
    outcome_days: daily.Days,
    measures: Sequence[Measure],
    quarter: Sequence[Period],
    standards: Mapping[str, float | None],
) -> dict[str, ItemCharts]:
    """Each item's charts over BASELINE_WEEKS weeks before the quarter's first week and the
    quarter's ``weeks`` (see ItemCharts), from the reviewed cases' day summaries."""
    if not quarter:
        return {}
    first = quarter[0].start - dt.timedelta(weeks=BASELINE_WEEKS)
    weeks = [week_label(first + dt.timedelta(weeks=i)) for i in range(BASELINE_WEEKS)]
    weeks += [w.label for w in quarter]
    own = set(w.label for w in quarter)
    series = daily.measure_weekly_series(daily.between(outcome_days, first, quarter[-1].end), weeks)
    out: dict[str, ItemCharts] = {}
    for m in measures:
        mine = {place: s for (place, mid), s in series.items() if mid == m.id}
        total = [
            (sum(s[i][0] for s in mine.values()), sum(s[i][1] for s in mine.values()))
            for i in range(len(weeks))
        ]
        places = []
        for place, s in sorted(mine.items()):
            c = _carrier(m, place, s, weeks, standards.get(m.id))
            if (
                c is not None
                and c.chart is not None
                and any(p.flagged and p.week in own for p in c.chart.points)
            ):
                places.append(c)
        out[m.id] = ItemCharts(_carrier(m, FORCE_KEY, total, weeks, standards.get(m.id)), tuple(places))
    return out


@dataclass(frozen=True)
class TeamFigure:
    """One team's reviewed cases of an item in the quarter (an aggregate row at team level)."""

    place: str
    team: str
    measure: str
    n: int
    passes: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


def team_figures(table: Any, items: Collection[str]) -> list[TeamFigure]:
    """The teams' rows of the items (dimension measure) in a period's aggregate table, by place,
    item and team; teams with no applicable case are left out."""
    chosen = table[(table["level"] == "team").to_numpy() & (table["dimension"] == "measure").to_numpy()]
    rows = [
        r for r in records(chosen.drop(columns=["cases"], errors="ignore")) if r["dimension_key"] in items
    ]
    return sorted(
        (
            TeamFigure(
                str(r["place"]),
                str(r["key"]),
                str(r["dimension_key"]),
                int(r["n"]),
                int(r["passes"]),
                r["rate"],
                r["ci_low"],
                r["ci_high"],
            )  # fmt: skip
            for r in rows
            if r["n"]
        ),
        key=lambda t: (t.place, t.measure, t.team),
    )


@dataclass(frozen=True)
class Story:
    """A reviewer's note marked as good practice or learning, on a case of the theme's items."""

    kind: str  # good_practice | learning
    case_ref: str
    case_type: str
    place: str
    team: str
    assessed_on: dt.date
    criteria: tuple[str, ...]  # the theme's criteria the case failed ("SS02 ..."); () when it met them all
    note: str


def story_cases(
    columns: CaseColumns, criteria: Sequence[Mapping[str, Any]], items: Collection[str]
) -> dict[int, Story]:
    """The quarter's cases with a note that some criterion of the theme's items applied to, by
    assessment key, as stories of no kind yet (the kind comes from the stored answers: stories)."""
    measure = {(str(c["ruleset"]), str(c["criterion"])): str(c["measure"]) for c in criteria}
    text = {(str(c["ruleset"]), str(c["criterion"])): str(c["text"]) for c in criteria}
    per_case, outcomes, counts = columns.per_case, columns.per_outcome, columns.counts
    out: dict[int, Story] = {}
    at = 0
    for i, k in enumerate(counts):
        note = per_case["note"][i]
        ruleset = per_case["ruleset"][i]
        pairs = list(zip(outcomes["criterion"][at : at + k], outcomes["outcome"][at : at + k], strict=True))
        at += k
        if not note:
            continue
        mine = [(c, o) for c, o in pairs if measure.get((ruleset, c)) in items and o != "na"]
        if not mine:
            continue
        failed = tuple(f"{c} {text[(ruleset, c)]}" for c, o in mine if o == "fail")
        out[int(per_case["assessment_key"][i])] = Story(
            "", per_case["case_ref"][i], per_case["case_type"][i], per_case["place"][i],
            per_case["team"][i], per_case["assessed_on"][i], failed, str(note),
        )  # fmt: skip
    return out


def stories(cases: Mapping[int, Story], note_kinds: Mapping[int, str]) -> list[Story]:
    """The cases whose reviewer marked the note good_practice or learning (``note_kinds``: each
    assessment key's note_kind answer), good practice first, then by place, day and case."""
    out = [replace(s, kind=note_kinds[k]) for k, s in cases.items() if note_kinds.get(k) in NOTE_KINDS]
    return sorted(out, key=lambda s: (NOTE_KINDS.index(s.kind), s.place, s.assessed_on, s.case_ref))
