"""Outcome rows framed for aggregation (categorical keys, the criterion catalogue joined), the
period they fall in, and the failing rows a briefing shows, with their case details.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis.frames import KEY_COLUMNS, as_frame, blank, category, week_labels

OUTCOME_REQUIRED: tuple[str, ...] = (
    "case_ref",
    "case_type",
    "place",
    "division",
    "team",
    "officer",
    "assessed_on",
    "ruleset",
    "criterion",
    "outcome",
)
OUTCOME_DEFAULTS: dict[str, int | str | tuple[str, ...]] = {
    "assessment_key": 0,
    "reviewer": "",
    "ruleset_version": "",
    "trace": (),
    "note": "",
}
CRITERIA_REQUIRED: tuple[str, ...] = ("ruleset", "criterion", "text", "measure")
MEASURE_REQUIRED: tuple[str, ...] = ("id", "name", "priority", "peel", "iserve", "direction")
OUTCOME_VALUES: tuple[str, ...] = ("pass", "fail", "na")


@dataclass(frozen=True)
class Outcomes:
    """Outcome rows (one per assessment x criterion) ready to aggregate, with their catalogue.

    ``frame`` has categorical keys plus ``crit`` (row of ``criteria``), ``measure``, ``applicable``
    and ``passed``; ``criteria`` is sorted by (ruleset, criterion); ``measures`` keeps the
    catalogue's order (M1..M12, D1..D12 as configured).
    """

    frame: pd.DataFrame
    criteria: pd.DataFrame
    measures: pd.DataFrame


def criteria_table(criteria: Any) -> pd.DataFrame:
    """Criteria metadata as a table sorted by (ruleset, criterion), with defaults filled."""
    crit = as_frame(criteria, CRITERIA_REQUIRED, "criteria metadata")
    defaults: dict[str, object] = {
        "priority": None,
        "peel": "",
        "iserve": (),
        "minimum": None,
        "direction": "higher",
        "critical": False,
        "guidance": "",
    }
    for column, default in defaults.items():
        values = crit[column] if column in crit.columns else [None] * len(crit)
        crit[column] = pd.Series([default if blank(v) else v for v in values], index=crit.index, dtype=object)
    crit["iserve"] = [tuple(v) if isinstance(v, list | tuple) else () for v in crit["iserve"]]
    crit["minimum"] = [None if v is None else float(v) for v in crit["minimum"]]
    crit["critical"] = crit["critical"].astype(bool)
    crit = crit.sort_values(["ruleset", "criterion"], kind="stable").reset_index(drop=True)
    dup = crit.duplicated(["ruleset", "criterion"])
    if dup.any():
        first = crit.loc[dup].iloc[0]
        raise ValueError(f"criteria metadata lists {first['ruleset']}/{first['criterion']} twice")
    return crit


def measures_table(measures: Any) -> pd.DataFrame:
    """The measure catalogue (all 24 items) in its given order."""
    table = as_frame(measures, MEASURE_REQUIRED, "measures metadata").reset_index(drop=True)
    table["iserve"] = [tuple(v) for v in table["iserve"]]
    if "minimum" not in table.columns:
        table["minimum"] = [None] * len(table)
    return table


def outcomes_frame(outcomes: Any, criteria: Any, measures: Any) -> Outcomes:
    """Prepare outcome rows for aggregation: categorical keys, criterion metadata joined.

    ``outcomes``: rows (dicts or dataclasses), a mapping of columns, or a DataFrame; one row per
    (assessment, criterion) with case_ref, case_type, place, division, team, officer, assessed_on
    (date), ruleset, criterion, outcome (pass | fail | na), and optionally assessment_key,
    reviewer, week (ISO label; else from assessed_on), ruleset_version, critical (else the
    criterion's), trace (tuple, for fails) and note. Repeated text is best given as categoricals.
    ``criteria``: rows {ruleset, criterion, text, measure, priority, peel, iserve, minimum,
    direction, critical} (the last six optional). ``measures``: the 24 catalogue items {id, name,
    priority, peel, iserve, direction, minimum (optional)}, e.g. engine.rules.catalogue' Measure objects.
    Every (ruleset, criterion) needs metadata and every measure must be in the catalogue
    (ValueError otherwise: a wiring mistake, not user input).
    """
    crit = criteria_table(criteria)
    meas = measures_table(measures)
    df = as_frame(outcomes, OUTCOME_REQUIRED, "outcome rows")
    n = len(df)
    for column, default in OUTCOME_DEFAULTS.items():
        if column not in df.columns:
            if isinstance(default, tuple):
                df[column] = [default] * n
            else:
                df[column] = default
    df["outcome"] = category(df["outcome"])
    bad = set(df["outcome"].cat.categories) - set(OUTCOME_VALUES)
    if bad:
        raise ValueError(f"unknown outcome value(s) {', '.join(sorted(bad))} (use pass, fail or na)")
    unknown_measures = set(crit["measure"]) - set(meas["id"])
    if unknown_measures:
        raise ValueError(
            f"criteria refer to measure(s) not in the catalogue: {', '.join(sorted(unknown_measures))}"
        )

    for column in (*KEY_COLUMNS, "criterion", "ruleset_version"):
        df[column] = category(df[column])
    if not pd.api.types.is_datetime64_dtype(df["assessed_on"]):
        df["assessed_on"] = pd.to_datetime(df["assessed_on"])
    df["assessed_on"] = df["assessed_on"].astype("datetime64[s]")
    df["week"] = category(df["week"] if "week" in df.columns else week_labels(df["assessed_on"]))

    # (ruleset, criterion) -> row of the criteria table, via the category codes
    lookup = {(r, c): i for i, (r, c) in enumerate(zip(crit["ruleset"], crit["criterion"], strict=True))}
    rs_codes = df["ruleset"].cat.codes.to_numpy().astype(np.int64)
    cr_codes = df["criterion"].cat.codes.to_numpy().astype(np.int64)
    ncr = max(len(df["criterion"].cat.categories), 1)
    inverse, pairs = pd.factorize(rs_codes * ncr + cr_codes, sort=True)
    rs_cats, cr_cats = df["ruleset"].cat.categories, df["criterion"].cat.categories
    pair_crit = np.empty(len(pairs), dtype=np.int32)
    missing: list[str] = []
    for i, code in enumerate(pairs.tolist()):
        key = (str(rs_cats[code // ncr]), str(cr_cats[code % ncr]))
        pair_crit[i] = lookup.get(key, -1)
        if pair_crit[i] < 0:
            missing.append("/".join(key))
    if missing:
        raise ValueError(f"no criteria metadata for {', '.join(sorted(missing))}")
    df["crit"] = pair_crit[inverse] if n else np.empty(0, dtype=np.int32)

    measure_codes = pd.Categorical(crit["measure"], categories=list(meas["id"])).codes
    df["measure"] = pd.Categorical.from_codes(
        measure_codes[df["crit"].to_numpy()], categories=pd.Index(list(meas["id"]))
    )
    df["outcome"] = df["outcome"].cat.set_categories(list(OUTCOME_VALUES))
    codes = df["outcome"].cat.codes.to_numpy()
    df["applicable"] = codes != OUTCOME_VALUES.index("na")
    df["passed"] = codes == OUTCOME_VALUES.index("pass")
    # scoring records whether a criterion was critical when scored; rows without it take the catalogue's
    by_catalogue = crit["critical"].to_numpy(dtype=bool)[df["crit"].to_numpy()]
    if "critical" in df.columns:
        given = df["critical"]
        df["critical"] = np.where(
            given.isna().to_numpy(), by_catalogue, given.fillna(False).astype(bool).to_numpy()
        )
    else:
        df["critical"] = by_catalogue
    return Outcomes(frame=df, criteria=crit, measures=meas)


def in_period(outcomes: Outcomes, period_from: date | None, period_to: date) -> Outcomes:
    """The outcomes assessed from ``period_from`` (None: the start) to ``period_to`` inclusive."""
    mask = _period_mask(outcomes, period_from, period_to)
    if mask.all():
        return outcomes
    return Outcomes(frame=outcomes.frame.loc[mask], criteria=outcomes.criteria, measures=outcomes.measures)


def failing(outcomes: Outcomes) -> Outcomes:
    """Only the failing rows: all that :func:`failures` reads, so the exception finders that list cases
    (findings.assess_period) select from them, each period's copy a fraction of the whole's. The
    same object when every row fails."""
    mask = outcomes.frame["outcome"].cat.codes.to_numpy() == OUTCOME_VALUES.index("fail")
    if mask.all():
        return outcomes
    return Outcomes(frame=outcomes.frame.loc[mask], criteria=outcomes.criteria, measures=outcomes.measures)


def period_rows(outcomes: Outcomes, period_from: date | None, period_to: date) -> np.ndarray | None:
    """The positions of the rows :func:`in_period` keeps, in order (None: all of them), to select
    them without copying the frame."""
    mask = _period_mask(outcomes, period_from, period_to)
    return None if mask.all() else np.flatnonzero(mask)


def _period_mask(outcomes: Outcomes, period_from: date | None, period_to: date) -> np.ndarray:
    on = outcomes.frame["assessed_on"]
    mask = on <= pd.Timestamp(period_to)
    if period_from is not None:
        mask &= on >= pd.Timestamp(period_from)
    return mask.to_numpy()


def failures(
    outcomes: Outcomes,
    *,
    cells: Collection[tuple[str, str, str]] = (),
    measure_weeks: Collection[tuple[str, str, str]] = (),
    critical: bool = False,
) -> list[dict[str, Any]]:
    """Failing outcome rows with the case details a briefing shows, selected by:

    ``cells`` (place, ruleset, criterion), ``measure_weeks`` (place, measure, week), and with
    ``critical`` every failure of a critical criterion. Sorted by place, ruleset, criterion,
    assessment date and case ref; ``assessed_on`` as ISO text and ``trace`` as a tuple.
    """
    f = outcomes.frame
    fail = np.flatnonzero(f["outcome"].cat.codes.to_numpy() == OUTCOME_VALUES.index("fail"))
    keep = np.zeros(fail.size, dtype=bool)
    if critical:
        keep |= f["critical"].to_numpy()[fail]
    crit = outcomes.criteria
    place_code = f["place"].cat.codes.to_numpy()[fail].astype(np.int64)
    places = _code_of(f["place"])
    if cells:
        crit_of = {(r, c): i for i, (r, c) in enumerate(zip(crit["ruleset"], crit["criterion"], strict=True))}
        wanted = [
            places[p] * len(crit) + crit_of[(r, c)] for p, r, c in cells if p in places and (r, c) in crit_of
        ]
        keep |= np.isin(place_code * len(crit) + f["crit"].to_numpy()[fail], wanted)
    if measure_weeks:
        measures, weeks = _code_of(f["measure"]), _code_of(f["week"])
        nm, nw = len(measures), len(weeks)
        wanted = [
            (places[p] * nm + measures[m]) * nw + weeks[w]
            for p, m, w in measure_weeks
            if p in places and m in measures and w in weeks
        ]
        measure_code = f["measure"].cat.codes.to_numpy()[fail].astype(np.int64)
        code = (place_code * nm + measure_code) * nw + f["week"].cat.codes.to_numpy()[fail]
        keep |= np.isin(code, wanted)
    chosen = fail[keep]
    if chosen.size == 0:
        return []

    # sorted by place, ruleset, criterion, date, case: categories are sorted, so codes sort as text
    order = np.lexsort(
        [f[c].cat.codes.to_numpy()[chosen] for c in ("case_ref",)]
        + [f["assessed_on"].to_numpy()[chosen].astype(np.int64)]
        + [f[c].cat.codes.to_numpy()[chosen] for c in ("criterion", "ruleset", "place")]
    )
    chosen = chosen[order]
    columns: dict[str, list[Any]] = {c: _values(f[c], chosen).tolist() for c in _DETAIL_TEXT}
    columns["criterion_text"] = crit["text"].astype(str).to_numpy()[f["crit"].to_numpy()[chosen]].tolist()
    columns["assessed_on"] = np.datetime_as_string(f["assessed_on"].to_numpy()[chosen], unit="D").tolist()
    columns["trace"] = [
        tuple(t) if isinstance(t, list | tuple) else () for t in f["trace"].to_numpy()[chosen]
    ]
    columns["note"] = ["" if blank(t) else str(t) for t in f["note"].to_numpy()[chosen]]
    columns["critical"] = f["critical"].to_numpy()[chosen].tolist()
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


_DETAIL_TEXT = (
    "place",
    "ruleset",
    "criterion",
    "measure",
    "week",
    "case_ref",
    "case_type",
    "team",
    "officer",
    "reviewer",
)


def _code_of(column: pd.Series) -> dict[str, int]:
    """Category text -> code of a categorical column."""
    return {str(c): i for i, c in enumerate(column.cat.categories)}


def _values(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The text of a categorical column at some row positions (without touching the other rows)."""
    categories = np.asarray(column.cat.categories, dtype=object)
    values: np.ndarray = categories[column.cat.codes.to_numpy()[rows]]
    return values


# --------------------------------------------------------------------------- incidents
