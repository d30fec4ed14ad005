"""Recognition: the good news of a period, reported with the cases and reviewer notes behind it
(docs/outputs.md "Recognition"). Two kinds, never ranked into a league table:

- improvement: a (place, measure) or (place, ruleset, criterion) weekly series of the reviewed cases
  shows an SPC signal in the IMPROVING direction (the same XmR chart and rules as special causes,
  engine.analysis.stats, with the same settings) at a week of the period: for a one-week period that
  week; for a longer one (a quarter) the latest week of the period with such a signal, provided
  the period's last week is not itself a concern. As for special causes, a criterion's signal also
  needs a shift or trend and that week's own 95 % interval wholly above the chart's mean (below,
  where lower is better); critical criteria and a criterion whose series is its measure's week for
  week are left to the measure.
- sustained: a non-critical criterion with a minimum standard whose whole Wilson 95 % interval over
  the period lies on the good side of it (the mirror of below_standard, with the same
  finite-population correction as the aggregates), on at least ``min_cases`` cases, and whose rate
  met the standard in every week of the period. A critical criterion is recognised by the same
  rule and only when it had no failure at all in the period.

At most ``per_place`` items a place: improvements first, then sustained compliance by strength of
evidence (how far the interval's near end lies beyond the standard).

The notes behind an item are the reviewer notes of its passing cases (the signal week's for an
improvement, the period's for sustained compliance): notes marked ``good_practice`` first, then
unmarked notes of cases that failed no criterion in the span (a note on a case that failed another
criterion is likely about that failure); notes marked ``learning`` are not shown as good news.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis import daily
from engine.analysis.criteria_findings import criterion_cells
from engine.analysis.day_sums import OutcomeDays, weeks_to
from engine.analysis.evidence import Catalogue, catalogue_of
from engine.analysis.frames import blank
from engine.analysis.improvement_signals import (
    improvement_chart,
    improvement_reason,
    improving_signal,
    week_figures,
)
from engine.analysis.outcomes import Outcomes, in_period
from engine.analysis.reasons import case_noun, count_text, lower_first, pct_text
from engine.analysis.spc_findings import SpcSettings
from engine.core.models import CaseDetail, SpcChart
from engine.core.periods import week_label, week_monday

IMPROVEMENT_KIND = "improvement"
SUSTAINED_KIND = "sustained"
#: fewest applicable cases in the period for sustained compliance
DEFAULT_MIN_CASES = 20
#: most items recognised for one place in a period
DEFAULT_PER_PLACE = 3
#: most reviewer notes shown behind one item
MAX_NOTES = 5
GOOD_PRACTICE = "good_practice"
LEARNING = "learning"

#: assessment keys -> their reviewers' note kinds (good_practice | learning), for the keys that have one
NoteKinds = Callable[[Sequence[int]], Mapping[int, str]]


@dataclass(frozen=True)
class Recognition:
    """One piece of good news for a place: what was counted (``reason``), the figures, and the cases
    and reviewer notes behind it. ``team`` is "" for the place as a whole. ``n``/``passed``/``rate``
    and the interval are the period's (sustained) or the signal week's (improvement)."""

    place: str
    team: str
    priority: int
    measure: str
    ruleset: str  # "" for a measure's improvement fed by several rulesets
    criterion: str  # "" for a measure's improvement
    kind: str  # "improvement" | "sustained"
    reason: str
    n: int
    passed: int
    rate: float
    ci_low: float
    ci_high: float
    standard: float | None
    chart: SpcChart | None = None  # the improving series (improvement only); flagged = improving points
    cases: tuple[str, ...] = ()  # every passing case behind it, sorted
    details: tuple[CaseDetail, ...] = ()  # the passing cases with a reviewer note (at most MAX_NOTES)
    criterion_text: str = ""  # the criterion's text, or the measure's name
    peel: str = ""
    iserve: tuple[str, ...] = ()
    week: str = ""  # the week of the improvement signal ("" for sustained)
    good_practice: tuple[str, ...] = ()  # the case refs of ``details`` whose note is marked good practice
    strength: float = 0.0  # sustained: how far the interval clears the standard (0..1); improvement: 0


def find_recognition(
    outcomes: Outcomes,
    period_from: date,
    period_to: date,
    *,
    aggregates: pd.DataFrame,
    outcome_days: OutcomeDays,
    spc: SpcSettings | None = None,
    min_cases: int = DEFAULT_MIN_CASES,
    per_place: int = DEFAULT_PER_PLACE,
    note_kinds: NoteKinds | None = None,
    label: str | None = None,
    kinds: Collection[str] = (IMPROVEMENT_KIND, SUSTAINED_KIND),
    measures: Collection[str] | None = None,
) -> list[Recognition]:
    """The period's recognition, by place: improvements, then sustained compliance (strongest
    first), at most ``per_place`` a place.

    The inputs are assess_period's (engine.analysis.findings): ``outcomes`` holding the period and
    the weeks before it, ``aggregates`` the period's aggregate table, ``outcome_days`` the day
    summaries over the SPC history and the period. ``note_kinds`` looks up the note kinds of
    assessment keys (e.g. engine.store.note_kinds.note_kinds_of; None: no note is marked).
    ``label`` names the period in reasons (default: its week, or 'DATE to DATE'). ``kinds``: which
    kinds to look for (a weekly force.pdf lists improvements only). ``measures``: only these
    catalogue items (None: all), capped ``per_place`` among themselves (a Learning Review's theme)."""
    spc = spc or SpcSettings()
    cat = catalogue_of(outcomes)
    label = label or _period_text(period_from, period_to)
    history = in_period(outcomes, None, period_to)
    period = in_period(history, period_from, period_to)
    found: list[Recognition] = []
    if IMPROVEMENT_KIND in kinds:
        summed = weeks_to(outcome_days, period_to)
        found += _improvements(history, summed, cat, period_from, spc, min_cases)
    if SUSTAINED_KIND in kinds:
        found += _sustained(period, aggregates, cat, min_cases, label)
    if measures is not None:
        found = [r for r in found if r.measure in measures]
    kept: list[Recognition] = []
    for place in sorted({r.place for r in found}):
        mine = [r for r in found if r.place == place]
        improving = {(r.ruleset, r.criterion) for r in mine if r.kind == IMPROVEMENT_KIND and r.criterion}
        mine = [r for r in mine if r.kind == IMPROVEMENT_KIND or (r.ruleset, r.criterion) not in improving]
        mine.sort(key=lambda r: (r.kind != IMPROVEMENT_KIND, -r.strength, r.priority, r.measure, r.criterion))
        kept += mine[:per_place]
    spans: dict[tuple[date, date], _Span] = {}
    return [_with_notes(r, history, spans, period_from, period_to, note_kinds) for r in kept]


# --------------------------------------------------------------------------- sustained


def _period_text(period_from: date, period_to: date) -> str:
    """'week 2026-W47' for a Monday-to-Sunday week, else '2026-07-01 to 2026-09-30'."""
    if period_from.weekday() == 0 and period_to - period_from == timedelta(days=6):
        return f"week {week_label(period_from)}"
    return f"{period_from.isoformat()} to {period_to.isoformat()}"


def _good_side(ci_low: float, ci_high: float, standard: float, direction: str) -> float | None:
    """How far the whole interval lies on the good side of the standard (None if it does not)."""
    margin = standard - ci_high if direction in ("lower", "decrease") else ci_low - standard
    return margin if margin > 0 else None


def _weekly_counts(period: Outcomes) -> dict[tuple[str, int], list[tuple[int, int]]]:
    """{(place, criterion row): [(n, passes) of each week with any applicable case]} of the period."""
    f = period.frame
    applicable = f["applicable"].to_numpy()
    if not applicable.any():
        return {}
    sub = pd.DataFrame(
        {
            "place": f["place"].to_numpy()[applicable],
            "crit": f["crit"].to_numpy()[applicable],
            "week": f["week"].to_numpy()[applicable],
            "passed": f["passed"].to_numpy()[applicable].astype(np.int64),
        }
    )
    sums = sub.groupby(["place", "crit", "week"], observed=True, sort=True)["passed"].agg(["size", "sum"])
    out: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for (place, crit, _week), (n, k) in zip(sums.index, sums.to_numpy().tolist(), strict=True):
        out.setdefault((str(place), int(crit)), []).append((int(n), int(k)))
    return out


def _sustained(
    period: Outcomes, aggregates: pd.DataFrame, cat: Catalogue, min_cases: int, label: str
) -> list[Recognition]:
    """Sustained compliance of each (place, criterion) cell of the period's aggregates."""
    crit_row = {
        (r, c): i
        for i, (r, c) in enumerate(zip(period.criteria["ruleset"], period.criteria["criterion"], strict=True))
    }
    weekly: dict[tuple[str, int], list[tuple[int, int]]] | None = None
    types = _case_types(period)
    out: list[Recognition] = []
    for c in criterion_cells(aggregates):
        meta = cat.criteria[(c["ruleset"], c["dimension_key"])]
        n, k = int(c["n"]), int(c["passes"])
        if meta["minimum"] is None or n < max(min_cases, 1):
            continue
        standard = float(meta["minimum"])
        direction = str(meta["direction"] or "higher")
        critical = bool(meta["critical"])
        if critical and k < n:
            continue
        margin = _good_side(float(c["ci_low"]), float(c["ci_high"]), standard, direction)
        if margin is None:
            continue
        if weekly is None:
            weekly = _weekly_counts(period)
        weeks = weekly.get((c["place"], crit_row[(c["ruleset"], c["dimension_key"])]), [])
        if any(not _meets(wk / wn, standard, direction) for wn, wk in weeks):
            continue
        noun = case_noun(meta, [{"case_type": t} for t in types.get(c["ruleset"], ())])
        out.append(
            Recognition(
                place=c["place"],
                team="",
                ruleset=c["ruleset"],
                criterion=c["dimension_key"],
                kind=SUSTAINED_KIND,
                reason=_sustained_reason(
                    meta, n, k, c, standard, direction, critical, noun, label, len(weeks)
                ),
                n=n,
                passed=k,
                rate=float(c["rate"]),
                ci_low=float(c["ci_low"]),
                ci_high=float(c["ci_high"]),
                standard=standard,
                criterion_text=str(meta["text"]),
                strength=margin,
                **_tags(cat, str(meta["measure"]), meta),
            )
        )
    return out


def _case_types(o: Outcomes) -> dict[str, tuple[str]]:
    """{ruleset: (its case type,)} of the rows (a ruleset scores one case type)."""
    f = o.frame
    pairs = f.groupby("ruleset", observed=True, sort=True)["case_type"].first()
    return {str(r): (str(t),) for r, t in pairs.items()}


def _meets(rate: float, standard: float, direction: str) -> bool:
    return rate <= standard if direction in ("lower", "decrease") else rate >= standard


def _sustained_reason(
    meta: Mapping[str, Any],
    n: int,
    k: int,
    cell: Mapping[str, Any],
    standard: float,
    direction: str,
    critical: bool,
    noun: str,
    label: str,
    weeks: int,
) -> str:
    """'Grounds ...: met in 383 of 390 searches reviewed (98%) in 2026-08-24 to 2026-11-22, and at or
    above the 90% minimum in each of its 13 weeks; even allowing for sampling the true rate is at least
    96%.' (a week's: '...; the minimum standard is 90%, and even allowing ...')."""
    lower = direction in ("lower", "decrease")
    low, high = pct_text(float(cell["ci_low"])), pct_text(float(cell["ci_high"]))
    bound = f"at most {high}" if lower else f"at least {low}"
    if critical:
        return (
            f"{meta['text']}: met in all {count_text(n)} {noun} reviewed in {label}, a critical standard with "
            f"no failure; even allowing for sampling the true rate is {bound}."
        )
    head = f"{meta['text']}: met in {count_text(k)} of {count_text(n)} {noun} reviewed ({pct_text(k / n)}) in {label}"
    name = "maximum" if lower else "minimum"
    if weeks <= 1:
        return (
            f"{head}; the {name} standard is {pct_text(standard)}, and even allowing for sampling the true "
            f"rate is {bound}."
        )
    side = "at or below" if lower else "at or above"
    return (
        f"{head}, and {side} the {pct_text(standard)} {name} in each of its {weeks} weeks; even allowing for "
        f"sampling the true rate is {bound}."
    )


def _tags(cat: Catalogue, measure: str, own: Mapping[str, Any] | None = None) -> dict[str, Any]:
    tags = cat.tags(measure, own)
    return {"priority": tags["priority"], "measure": measure, "peel": tags["peel"], "iserve": tags["iserve"]}


def _improvements(
    history: Outcomes,
    summed: daily.OutcomeWeeks | None,
    cat: Catalogue,
    period_from: date,
    spc: SpcSettings,
    min_cases: int,
) -> list[Recognition]:
    """Improving signals of the (place, measure) and (place, ruleset, criterion) weekly series
    (``summed``: up to the period's latest week, day_sums.weeks_to) at a week of the period."""
    if summed is None:
        return []
    weeks = summed.weeks
    first_week = max(week_label(period_from), weeks[0])
    measures, criteria = daily.series_of(summed.sums)
    types = _case_types(history)
    out: list[Recognition] = []
    for (place, measure), points in measures.items():
        if measure not in cat.measures:
            continue
        direction = str(cat.measures[measure]["direction"] or "higher")
        s = improving_signal(
            points, weeks, first_week, direction, (place, measure), spc, criterion=False, min_cases=min_cases
        )
        if s is None:
            continue
        name = str(cat.measures[measure]["name"])
        rulesets = {c["ruleset"] for c in cat.criteria.values() if c["measure"] == measure}
        target = cat.measure_standard(measure)
        out.append(
            Recognition(
                place=place,
                team="",
                ruleset=rulesets.pop() if len(rulesets) == 1 else "",
                criterion="",
                kind=IMPROVEMENT_KIND,
                reason=improvement_reason(s, f"Compliance with {lower_first(name)}"),
                standard=target,
                chart=improvement_chart(s, target),
                criterion_text=name,
                **week_figures(s),
                **_tags(cat, measure),
            )
        )
    for (place, ruleset, criterion), points in criteria.items():
        meta = cat.criteria.get((ruleset, criterion))
        if meta is None or meta["critical"] or points == measures.get((place, str(meta["measure"]))):
            continue
        direction = str(meta["direction"] or "higher")
        s = improving_signal(
            points,
            weeks,
            first_week,
            direction,
            (place, f"{ruleset}/{criterion}"),
            spc,
            criterion=True,
            min_cases=min_cases,
        )
        if s is None:
            continue
        target = None if blank(meta["minimum"]) else float(meta["minimum"])
        noun = case_noun(meta, [{"case_type": t} for t in types.get(ruleset, ())])
        out.append(
            Recognition(
                place=place,
                team="",
                ruleset=ruleset,
                criterion=criterion,
                kind=IMPROVEMENT_KIND,
                reason=improvement_reason(s, f"{meta['text']}: the share of {noun} meeting it"),
                standard=target,
                chart=improvement_chart(s, target),
                criterion_text=str(meta["text"]),
                **week_figures(s),
                **_tags(cat, str(meta["measure"]), meta),
            )
        )
    return out


# --------------------------------------------------------------------------- the cases behind it


_DETAIL_COLUMNS = "assessment_key case_ref team officer reviewer assessed_on note passed".split()


class _Span:
    """The applicable rows of one span of days, with their positions by (place, criterion row) and
    by (place, measure), worked out once for every item behind which they are looked up."""

    def __init__(self, frame: pd.DataFrame) -> None:
        applicable = frame["applicable"].to_numpy()
        self.rows = frame.loc[applicable, [*_DETAIL_COLUMNS, "place", "crit", "measure"]].reset_index(
            drop=True
        )
        self._by: dict[str, dict[Any, np.ndarray]] = {}

    @cached_property
    def failed_keys(self) -> set[int]:
        """The assessment keys of the cases that failed any criterion in the span."""
        failing = self.rows.loc[~self.rows["passed"].to_numpy(dtype=bool), "assessment_key"]
        return {int(k) for k in failing.dropna()}

    def positions(self, key: str, wanted: tuple[str, Any]) -> np.ndarray:
        """The positions of the rows whose (place, ``key``) is ``wanted``."""
        if key not in self._by:
            groups: dict[Any, Any] = self.rows.groupby(["place", key], observed=True, sort=False).indices
            self._by[key] = {
                (str(pk[0]), pk[1] if key == "crit" else str(pk[1])): np.asarray(at)
                for pk, at in groups.items()
            }
        return self._by[key].get(wanted, np.empty(0, dtype=np.int64))


def _with_notes(
    r: Recognition,
    history: Outcomes,
    spans: dict[tuple[date, date], _Span],
    period_from: date,
    period_to: date,
    note_kinds: NoteKinds | None,
) -> Recognition:
    """The item with its passing cases and the reviewer notes behind it (``spans``: the spans of
    days already cut from ``history``, added to)."""
    if r.kind == IMPROVEMENT_KIND:
        period_from = week_monday(r.week)
        period_to = period_from + timedelta(days=6)
    span = (period_from, period_to)
    if span not in spans:
        spans[span] = _Span(in_period(history, period_from, period_to).frame)
    if r.criterion:
        crit = history.criteria
        row = int(
            np.flatnonzero(
                (crit["ruleset"] == r.ruleset).to_numpy() & (crit["criterion"] == r.criterion).to_numpy()
            )[0]
        )
        at = spans[span].positions("crit", (r.place, row))
    else:
        at = spans[span].positions("measure", (r.place, r.measure))
    rows = spans[span].rows.iloc[np.sort(at), : len(_DETAIL_COLUMNS)]
    # a case passes when it met every applicable criterion counted (a criterion: its one row)
    case = ["assessment_key", "case_ref"]
    if r.criterion:
        rows = rows.loc[rows["passed"].to_numpy(dtype=bool)]
    else:
        every = rows.groupby(case, sort=False, observed=True, dropna=False)["passed"].transform("all")
        rows = rows.loc[every.to_numpy(dtype=bool)].drop_duplicates(case)
    cases = tuple(sorted({str(c) for c in rows["case_ref"]}))
    noted = rows.loc[np.array([not blank(v) and bool(str(v).strip()) for v in rows["note"]], dtype=bool)]
    keys = [0 if pd.isna(k) else int(k) for k in noted["assessment_key"]]
    kinds = dict(note_kinds(keys)) if note_kinds and keys else {}
    # an unmarked note of a case that failed any criterion may be about that failure: not good news
    failed = spans[span].failed_keys
    chosen: list[tuple[bool, str, str, CaseDetail]] = []
    for key, ref, team, officer, reviewer, on, note in zip(
        keys, noted["case_ref"], noted["team"], noted["officer"], noted["reviewer"],
        noted["assessed_on"], noted["note"], strict=True,
    ):  # fmt: skip
        kind = kinds.get(int(key), "")
        if kind == LEARNING or (kind != GOOD_PRACTICE and int(key) in failed):
            continue
        day = pd.Timestamp(on).date().isoformat()
        detail = CaseDetail(
            str(ref), str(team), str(officer), str(reviewer), day, r.criterion_text, (), str(note), r.criterion
        )  # fmt: skip
        chosen.append((kind != GOOD_PRACTICE, day, str(ref), detail))
    chosen.sort(key=lambda t: (t[0], t[1], t[2]))
    details = tuple(t[3] for t in chosen[:MAX_NOTES])
    good = tuple(t[2] for t in chosen[:MAX_NOTES] if not t[0])
    return replace(r, cases=cases, details=details, good_practice=good)


def week_improvements(
    outcomes: Outcomes,
    period_from: date,
    period_to: date,
    *,
    aggregates: pd.DataFrame,
    outcome_days: OutcomeDays,
) -> Callable[[], tuple[Recognition, ...]] | None:
    """What a weekly force.pdf recognises, worked out when called (an analysis nobody draws pays
    nothing): the week's improvements (:func:`find_recognition`). None for a period that is not one
    Monday-to-Sunday week (a PEEL period or quarter; sustained compliance is a quarter's, for the
    Learning Review pack)."""
    if period_from.weekday() != 0 or period_to - period_from != timedelta(days=6):
        return None

    def improvements() -> tuple[Recognition, ...]:
        return tuple(
            find_recognition(
                outcomes,
                period_from,
                period_to,
                aggregates=aggregates,
                outcome_days=outcome_days,
                kinds=(IMPROVEMENT_KIND,),
            )
        )

    return improvements
