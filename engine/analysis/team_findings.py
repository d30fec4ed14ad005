"""Team exceptions: the statistical rules of findings.py at team level, within each place.

Teams are free text on the submissions (and on the figures extract's rows), each within its place;
a row with no team counts for its place only. For every (place, team):

- below_standard: the team's rate on a non-critical criterion whose whole Wilson 95% interval
  misses the criterion's minimum, with at least ``min_cases`` cases and never fewer than
  TEAM_MIN_CASES (the place rule with a floor: one or two failing cases of a team are its place's
  evidence, not a team pattern; a team's interval is never narrowed by a sample frame, as none is
  recorded per team);
- special_cause: the team's weekly series of a measure (the share of its cases that met every
  applicable criterion of it) or of a criterion (the share of the cases it applied to that met it)
  signals in the concerning direction in the period's latest week, with the place's SpcSettings
  (baseline, the fewest points, the place's rebasing); a team with too few weeks of data has no
  SPC exception;
- threshold: a declared metric's figure of the team for the period (the figures extract's rows
  that name a team) whose whole interval is beyond a threshold's bound.

No critical exception at team level: every failure of a critical criterion is already a place
exception whose case rows name the team. A team exception is raised even when its place has an
exception on the same criterion or measure (it tells the leader where the problem sits); its reason
then says so, and every team reason says how much of the place's count the team's is ("12 of the
place's 40"). A team's shortfalls too small to be sure of are not recorded (the run's small-sample
count stays the places').

A team's weekly series come from the same day summaries as its place's: each place's counts carry
its teams' counts under ``team:<team>\\x1f<key>`` keys (:func:`with_team_days`), which the place
series ignore.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from engine.analysis import daily
from engine.analysis.criteria_findings import below_standard
from engine.analysis.evidence import Catalogue, group_rows
from engine.analysis.figure_findings import FigureData, _exception, facts_of
from engine.analysis.figure_reasons import threshold_reason
from engine.analysis.figure_stats import beyond
from engine.analysis.outcomes import Outcomes, failures
from engine.analysis.reasons import case_noun, count_text, pct_text
from engine.analysis.spc_findings import SpcSettings, series_special_causes
from engine.analysis.tables import records
from engine.core.models import ExceptionKind, PerformanceException

#: the start of a team's key in its place's day summary counts
TEAM_KEY = "team:"
#: what separates a team from the rest of its key (and from its place, in a joined code)
SEP = "\x1f"
#: the fewest cases of a team on a criterion for a team below_standard exception (a place uses its
#: own min_cases, 1 by default: the pure Wilson rule); fewer is the place's evidence, not the team's
TEAM_MIN_CASES = 5


def joined(place: str, team: str) -> str:
    """A (place, team) as one code, so that the place finders can run over teams."""
    return f"{place}{SEP}{team}"


def split(code: str) -> tuple[str, str]:
    """(place, team) of a :func:`joined` code."""
    place, _, team = code.partition(SEP)
    return place, team


# --------------------------------------------------------------------------- day summaries


def team_outcomes(outcomes: Outcomes) -> Outcomes:
    """The outcome rows that name a team, with each row's place replaced by its joined (place,
    team) code: the place finders then count, chart and list cases per team."""
    f = outcomes.frame
    team = f["team"].cat.codes.to_numpy()
    named = (team >= 0) & (np.asarray(f["team"].cat.categories, dtype=object) != "")[np.maximum(team, 0)]
    rows = f if named.all() else f.loc[named]
    places = np.asarray(rows["place"].cat.categories, dtype=object)
    teams = np.asarray(rows["team"].cat.categories, dtype=object)
    code = rows["place"].cat.codes.to_numpy().astype(np.int64) * max(len(teams), 1)
    code += rows["team"].cat.codes.to_numpy()
    inverse, uniques = pd.factorize(code, sort=True)
    names = [joined(places[c // max(len(teams), 1)], teams[c % max(len(teams), 1)]) for c in uniques]
    frame = rows.assign(place=pd.Categorical.from_codes(inverse, categories=pd.Index(names, dtype=object)))
    return Outcomes(frame=frame, criteria=outcomes.criteria, measures=outcomes.measures)


def with_team_days(outcomes: Outcomes) -> dict[dt.date, daily.DayCounts]:
    """daily.outcome_days of the outcomes, each place's counts followed by its teams' under
    ``team:<team>\\x1f<measure or criterion key>`` (the same counts, of the team's cases only)."""
    days = daily.outcome_days(outcomes)
    if not days:
        return days
    for day, codes in daily.outcome_days(team_outcomes(outcomes)).items():
        for code, counts in codes.items():
            place, team = split(code)
            mine = days[day].setdefault(place, {})
            for key, value in counts.items():
                mine[f"{TEAM_KEY}{team}{SEP}{key}"] = value
    return days


def _as_team(e: PerformanceException, why: str) -> PerformanceException:
    place, team = split(e.place)
    return dataclasses.replace(e, place=place, team=team, reason=why)


def _echo(e: PerformanceException, place_found: Iterable[PerformanceException]) -> str:
    """'; the place has the same exception on this criterion' (or measure) when the place has an
    exception of the same kind on the same criterion (or whole measure), else ''."""
    place, _ = split(e.place)
    for p in place_found:
        if (p.place, p.measure, p.ruleset, p.criterion, p.kind) == (
            place,
            e.measure,
            e.ruleset,
            e.criterion,
            e.kind,
        ):
            what = "criterion" if e.criterion else "measure"
            return f"; the place has the same exception on this {what}"
    return ""


def team_below_standard(
    period: Outcomes,
    aggregates: pd.DataFrame,
    cat: Catalogue,
    min_cases: int,
    place_found: Sequence[PerformanceException],
    teams: Outcomes | None = None,
) -> list[PerformanceException]:
    """below_standard exceptions of each (place, team, criterion) of the aggregate table's team x
    criterion rows (the place rule: the whole Wilson interval misses the minimum, n >= min_cases).
    ``teams``: team_outcomes(period) when already made."""
    level = aggregates["level"].to_numpy()
    dimension = aggregates["dimension"].to_numpy()
    rows = records(aggregates[((level == "team") | (level == "place")) & (dimension == "criterion")])
    places = {(r["place"], r["ruleset"], r["dimension_key"]): r for r in rows if r["level"] == "place"}
    cells = [{**r, "place": joined(r["place"], r["key"])} for r in rows if r["level"] == "team" and r["key"]]
    teams = team_outcomes(period) if teams is None else teams
    found, _ = below_standard(teams, cells, cat, max(min_cases, TEAM_MIN_CASES), {})
    # what a case is called, from the failing rows' case type as the place reason has it
    rows_of = group_rows(failures(teams, cells=[(e.place, e.ruleset, e.criterion) for e in found]),
                         "place", "ruleset", "criterion")  # fmt: skip
    out = []
    for e in found:
        place, team = split(e.place)
        whole = places[(place, e.ruleset, e.criterion)]
        if (int(whole["n"]), int(whole["passes"])) == (e.n, e.passed):
            continue  # the team holds all the place's cases: the same evidence as the place's
        failing = rows_of.get((e.place, e.ruleset, e.criterion), [])
        noun = case_noun(cat.criteria[(e.ruleset, e.criterion)], failing)
        why = (
            f"{e.reason} These are team {team}'s {count_text(e.n)} of the place's "
            f"{count_text(int(whole['n']))} {noun} reviewed; the place met it in "
            f"{count_text(int(whole['passes']))} ({pct_text(float(whole['rate']))}){_echo(e, place_found)}."
        )
        out.append(_as_team(e, why))
    return out


def team_special_causes(
    history: Outcomes,
    summed: daily.OutcomeWeeks | None,
    cat: Catalogue,
    latest_week: str,
    spc: SpcSettings,
    place_found: Sequence[PerformanceException],
    teams: Outcomes | None = None,
) -> list[PerformanceException]:
    """special_cause exceptions of each team's weekly measure and criterion series (the place rules
    of spc_findings over the teams' counts in ``summed``, the weekly sums of day summaries made by
    :func:`with_team_days`: day_sums.weeks_to; None: no week). ``teams``: team_outcomes(history)
    when already made."""
    if summed is None:
        return []
    weeks, sums = summed.weeks, summed.sums
    own: list[int] = []
    of_team: list[int] = []
    names: list[tuple[str, str]] = []
    for row, (place, key) in enumerate(sums.names):
        if key.startswith(TEAM_KEY):
            team, _, inner = key[len(TEAM_KEY) :].partition(SEP)
            of_team.append(row)
            names.append((joined(place, team), inner))
        else:
            own.append(row)
    if not of_team:
        return []
    # the teams' weeks run from the first with any team's counts (as the place's from its first)
    start = int(sums.first[of_team].min())
    weeks = weeks[start:]
    team_sums = sums.rows(of_team, names, start)
    codes = {code for code, _ in names}
    rebase = {
        (code, key): at
        for (place, key), at in spc.rebase.items()
        for code in codes
        if split(code)[0] == place
    }
    settings = dataclasses.replace(spc, rebase=rebase)
    found = series_special_causes(
        team_outcomes(history) if teams is None else teams, team_sums, weeks, cat, settings
    )
    measures, criteria = daily.series_of(sums.rows(own, [sums.names[i] for i in own], start))
    team_measures, team_criteria = daily.series_of(team_sums)
    out = []
    for e in found:
        place, team = split(e.place)
        if e.criterion:
            mine = team_criteria[(e.place, e.ruleset, e.criterion)]
            series = criteria.get((place, e.ruleset, e.criterion), [])
            counted = "the cases the criterion applied to"
        else:
            mine, series = team_measures[(e.place, e.measure)], measures.get((place, e.measure), [])
            counted = "the cases with any applicable criterion of the measure"
        if mine == series:
            continue  # the team holds all the place's cases: the same evidence as the place's
        whole = series[-1][0]
        why = e.reason.replace("this place's", "this team's").rstrip(".")
        why = (
            f"{why}. Team {team}'s weekly series counts its own reviewed cases ({counted}): "
            f"{count_text(e.n)} of the place's {count_text(whole)} in week {latest_week}"
            f"{_echo(e, place_found)}."
        )
        out.append(_as_team(e, why))
    return out


def team_figure_thresholds(
    data: FigureData,
    cat: Catalogue,
    start: dt.date,
    end: dt.date,
    place_found: Sequence[PerformanceException],
) -> list[PerformanceException]:
    """threshold exceptions of the declared metrics' team figures for the period (rows of the
    figures extract that name a team): the whole interval beyond the threshold's bound."""
    if not data.thresholds:
        return []
    span = data.span(start, end)
    level = span["level"].to_numpy()
    own = records(span[(level == "team") | (level == "place")])
    places = {(r["metric"], r["place"]): r for r in own if r["level"] == "place"}
    out: list[PerformanceException] = []
    for t in sorted(data.thresholds, key=lambda t: (str(t["ruleset"]), str(t["criterion"]))):
        metric = data.metrics[str(t["metric"])]
        if metric.kind == "event":
            continue
        for row in own:
            if row["level"] != "team" or row["metric"] != metric.id or not row["team"]:
                continue
            f = facts_of(row, metric, t)
            if f.standard is None or f.low is None or f.high is None:
                continue
            if not beyond(f.low, f.high, f.standard, f.bound):
                continue
            e = _exception(joined(row["place"], row["team"]), t, cat, ExceptionKind.THRESHOLD, "", f)
            whole = places.get((metric.id, row["place"]))
            of = f" of the place's {count_text(int(round(float(whole['n']))))}" if whole else ""
            why = (
                f"{threshold_reason(f).rstrip('.')}. This is team {row['team']}'s figure: "
                f"{count_text(int(round(f.n)))}{of} counted{_echo(e, place_found)}."
            )
            out.append(_as_team(e, why))
    return out


def teams_of(exceptions: Iterable[PerformanceException]) -> dict[str, list[PerformanceException]]:
    """{team: its exceptions} in first-seen order."""
    out: dict[str, list[PerformanceException]] = {}
    for e in exceptions:
        out.setdefault(e.team, []).append(e)
    return out


def team_findings(
    outcomes: Outcomes,
    period: Outcomes,
    *,
    aggregates: pd.DataFrame,
    summed: daily.OutcomeWeeks | None,
    cat: Catalogue,
    latest_week: str,
    spc: SpcSettings,
    min_cases: int,
    place_found: Sequence[PerformanceException],
    figures: FigureData | None = None,
    span: tuple[dt.date, dt.date] | None = None,
) -> list[PerformanceException]:
    """Every team exception of the period (see the module docstring): ``outcomes`` the history
    and the period, ``period`` the period's rows, ``summed`` the weekly sums (day_sums.weeks_to) of
    day summaries with the teams' counts (:func:`with_team_days`), ``place_found`` the place
    exceptions (their reasons say when the place has the same one). ``span``: the period's first
    and last day, for the figures."""
    # a whole span's period is its history (in_period gives the same rows): its team rows are made once
    of_period = team_outcomes(period)
    of_history = of_period if period is outcomes else None
    found = team_below_standard(period, aggregates, cat, min_cases, place_found, of_period)
    found += team_special_causes(outcomes, summed, cat, latest_week, spc, place_found, of_history)
    if figures is not None and span is not None:
        found += team_figure_thresholds(figures, cat, span[0], span[1], place_found)
    return found


__all__ = [
    "SEP",
    "TEAM_KEY",
    "TEAM_MIN_CASES",
    "joined",
    "split",
    "team_findings",
    "team_outcomes",
    "teams_of",
    "with_team_days",
]
