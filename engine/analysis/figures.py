"""Declared metrics' figures (the tidy figures extract, docs/extracts.md) pooled into points by kind:
per metric, at the force, each place and each team, for each point of the metric's grain (ISO weeks
for daily and weekly figures; months, quarters and years as sent) or for a whole span (a week, a
quarter, a PEEL period). docs/outputs.md "Figures from extracts" says what each kind's figure is:

- proportion: k of n (numerators over denominators), Wilson 95% interval;
- survey: respondents agreeing of respondents (or a share times its sample), Wilson on n / deff;
- time: the mean of the values (each counted ``count`` times) with a t interval, and the median
  with its distribution-free interval;
- count: the count per ``per`` units of exposure (the denominators), exact Poisson interval;
- event: how many events fell in the span (each is also its own exception: figure_findings).

A span's figure pools the rows of every point lying wholly inside it, at the finest grain that has
any. A grain too long for the span (a month in a week, a year in a quarter) gives the latest point
ended by the span's end instead, labelled with its own period ("October 2026"), unless two newer
periods of its grain have ended by then: that point is stale, and the metric not measured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.analysis.aggregate import FORCE_KEY
from engine.analysis.figure_periods import (
    GRAIN_DAYS,
    GRAINS,
    display_label,
    grain_of,
    period_label,
    shift,
)
from engine.analysis.figure_stats import ALPHA, chi2_quantile, median_rank, t_quantile
from engine.analysis.frames import as_frame
from engine.analysis.stats import wilson_interval

#: the stored figure's columns analysis reads (engine.store.figure_tables.Figure)
FIGURE_COLUMNS: tuple[str, ...] = (
    "item", "metric", "place", "team", "period", "period_start", "period_end",
    "numerator", "denominator", "value", "count", "event_ref", "event_on", "detail",
)  # fmt: skip
KINDS: tuple[str, ...] = ("proportion", "survey", "time", "count", "event")
#: a point older than this many of its periods, counted from the span's end, is stale
STALE_PERIODS = 2
#: one row per metric, level, place and team, for a point or a span
POINT_COLUMNS: tuple[str, ...] = (
    "metric", "item", "kind", "level", "place", "team", "grain", "period", "label", "start", "end",
    "rows", "n", "k", "exposure", "value", "ci_low", "ci_high", "median", "median_low", "median_high",
)  # fmt: skip
_GROUP = ["metric", "level", "place", "team"]


class MetricLike(Protocol):
    """What analysis reads of a metric's definition (engine.inputs.extract_definitions)."""

    @property
    def id(self) -> str: ...
    @property
    def extract(self) -> str: ...
    @property
    def item(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def direction(self) -> str | None: ...
    @property
    def per(self) -> float | None: ...
    @property
    def exposure(self) -> str | None: ...
    @property
    def design_effect(self) -> float: ...


Metrics = Mapping[str, MetricLike]


# --------------------------------------------------------------------------- framing


def _as_date(values: pd.Series) -> pd.Series:
    return pd.Series([v if v is None or isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
                      for v in values.tolist()], index=values.index, dtype=object)  # fmt: skip


def _columns(rows: Any) -> Any:
    """Rows as columns (what as_frame takes fastest): records with the columns as attributes
    (store.figures.FigureRecord) or keys, read a column at a time; anything else as it is."""
    if not isinstance(rows, list | tuple):
        return rows
    if not rows or isinstance(rows[0], Mapping):
        return {c: [r[c] for r in rows] for c in FIGURE_COLUMNS}
    if all(hasattr(rows[0], c) for c in FIGURE_COLUMNS):
        return {c: [getattr(r, c) for r in rows] for c in FIGURE_COLUMNS}
    return rows


def _texts(values: pd.Series) -> list[str]:
    return [str(v) for v in values.tolist()]


def _objects(values: list[Any]) -> pd.Series:
    """An object column, equal values one object (a copy a row made a year's frame larger)."""
    one: dict[tuple[type, Any], Any] = {}
    return pd.Series([one.setdefault((type(v), v), v) for v in values], dtype=object)


def figure_frame(rows: Any, metrics: Metrics) -> pd.DataFrame:
    """The stored figures (rows with FIGURE_COLUMNS: dicts, dataclasses, tuples in that order or a
    DataFrame) of the declared ``metrics``, each with its kind, grain and point (``point`` label,
    ``point_start``, ``point_end``: a day's is its ISO week's), and per kind what pooling sums:
    ``n_i``, ``k_i``, ``e_i`` (exposure), ``v_c`` and ``v2_c`` (a time's value times its count, and
    its square's). Rows of metrics no longer declared are left out."""
    df = as_frame(_columns(rows), FIGURE_COLUMNS, "figures")
    df = df[df["metric"].isin(list(metrics))].reset_index(drop=True)
    metric = _texts(df["metric"])
    period = _texts(df["period"])
    starts = _as_date(df["period_start"]).tolist()
    ends = _as_date(df["period_end"]).tolist()
    # text is kept as Python objects: a year's rows are iterated by value, which pandas' string
    # arrays make twenty times slower
    grain_of_period = {p: grain_of(p) for p in set(period)}
    grains = [grain_of_period[p] for p in period]
    point_start = [
        s - dt.timedelta(days=s.weekday()) if g == "week" else s for g, s in zip(grains, starts, strict=True)
    ]
    point_end = [
        s + dt.timedelta(days=6) if g == "week" else e
        for g, s, e in zip(grains, point_start, ends, strict=True)
    ]
    labels: dict[tuple[str, dt.date], str] = {}
    out = pd.DataFrame(
        {
            "metric": _objects(metric),
            "item": _objects([metrics[m].item for m in metric]),
            "kind": _objects([metrics[m].kind for m in metric]),
            "place": _objects(_texts(df["place"])),
            "team": _objects(_texts(df["team"].fillna(""))),
            "period": _objects(period),
            "grain": _objects(grains),
            "point_start": _objects(point_start),
            "point_end": _objects(point_end),
            "point": _objects(
                [
                    labels.setdefault((g, s), period_label(g, s))
                    for g, s in zip(grains, point_start, strict=True)
                ]
            ),
        }
    )
    num = pd.to_numeric(df["numerator"], errors="coerce").to_numpy(dtype=np.float64)
    den = pd.to_numeric(df["denominator"], errors="coerce").to_numpy(dtype=np.float64)
    val = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=np.float64)
    cnt = pd.to_numeric(df["count"], errors="coerce").to_numpy(dtype=np.float64)
    kind = out["kind"].to_numpy()
    nan = np.full(len(out), np.nan)
    survey_n = np.where(np.isnan(den), cnt, den)
    survey_k = np.where(np.isnan(num), val * cnt, num)
    out["n_i"] = np.select(
        [kind == "proportion", kind == "survey", kind == "time", kind == "count", kind == "event"],
        [den, survey_n, cnt, num, np.ones(len(out))], nan,
    )  # fmt: skip
    out["k_i"] = np.select(
        [kind == "proportion", kind == "survey", kind == "count"], [num, survey_k, num], nan
    )
    out["e_i"] = np.where(kind == "count", den, nan)
    out["value"] = np.where(kind == "time", val, nan)
    out["v_c"] = np.where(kind == "time", val * cnt, nan)
    out["v2_c"] = np.where(kind == "time", val * val * cnt, nan)
    out["event_ref"] = _objects(["" if v is None or v != v else str(v) for v in df["event_ref"].tolist()])
    out["event_on"] = _as_date(df["event_on"].where(df["event_on"].notna(), None))
    out["detail"] = _objects(["" if v is None or v != v else str(v) for v in df["detail"].tolist()])
    return out


def levels(frame: pd.DataFrame) -> pd.DataFrame:
    """The framed rows at each level: ``force`` (every place pooled, or the rows sent for the
    FORCE itself where a metric has any), ``place`` and ``team`` (rows with a team)."""
    own = set(frame.loc[frame["place"] == FORCE_KEY, "metric"])
    sent_for_force = frame["metric"].isin(own).to_numpy()
    is_force = (frame["place"] == FORCE_KEY).to_numpy()
    force = frame[~sent_for_force | is_force].assign(level="force", place=FORCE_KEY, team="")
    places = frame[~is_force].assign(level="place", team="")
    teams = frame[~is_force & (frame["team"] != "").to_numpy()].assign(level="team")
    return pd.concat([force, places, teams], ignore_index=True)


# --------------------------------------------------------------------------- pooling


def pool(rows: pd.DataFrame, by: Sequence[str], metrics: Metrics) -> pd.DataFrame:
    """One row per group of levelled, framed rows (``by`` holds at least metric), with the figure of
    its kind: n, k, exposure, value, its 95% interval (ci_low, ci_high), and for a time the median
    and its interval. Columns by, item, kind, rows and those."""
    keys = list(by)
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "item", "kind", "rows", "n", "k", "exposure", "value",
                                     "ci_low", "ci_high", "median", "median_low", "median_high"])  # fmt: skip
    grouped = rows.groupby(keys, sort=True, observed=True, dropna=False)
    sums = grouped[["n_i", "k_i", "e_i", "v_c", "v2_c"]].sum(min_count=1)
    out = sums.rename(columns={"n_i": "n", "k_i": "k", "e_i": "exposure"}).reset_index()
    out["rows"] = grouped.size().to_numpy()
    out["item"] = out["metric"].map(lambda m: metrics[m].item)
    out["kind"] = out["metric"].map(lambda m: metrics[m].kind)
    n = out["n"].to_numpy(dtype=np.float64)
    k = out["k"].to_numpy(dtype=np.float64)
    kind = out["kind"].to_numpy()
    value = np.full(len(out), np.nan)
    low, high = value.copy(), value.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (kind == "proportion") | (kind == "survey")
        deff = np.asarray([max(float(metrics[m].design_effect or 1.0), 1e-9) if s else 1.0
                           for m, s in zip(out["metric"], kind == "survey", strict=True)])  # fmt: skip
        w_low, w_high = wilson_interval(k / deff, n / deff)
        value = np.where(share, k / n, value)
        low, high = np.where(share, w_low, low), np.where(share, w_high, high)
        # time: the mean of the values and Student's t interval
        mean = out["v_c"].to_numpy(dtype=np.float64) / n
        var = (out["v2_c"].to_numpy(dtype=np.float64) - n * mean * mean) / (n - 1)
        half = t_quantile(1 - ALPHA / 2, np.maximum(n - 1, 1)) * np.sqrt(np.maximum(var, 0.0) / n)
        timed = kind == "time"
        value = np.where(timed, mean, value)
        low = np.where(timed & (n >= 2), mean - half, low)
        high = np.where(timed & (n >= 2), mean + half, high)
        # count: the count per `per` of exposure (the count itself without one), Garwood's interval
        counted = kind == "count"
        c = np.where(counted, k, 0.0)
        g_low = np.where(c > 0, chi2_quantile(ALPHA / 2, 2 * c) / 2, 0.0)
        g_high = chi2_quantile(1 - ALPHA / 2, 2 * c + 2) / 2
        per = np.asarray([float(metrics[m].per or 1.0) for m in out["metric"]])
        has_exposure = np.asarray([bool(metrics[m].exposure) and metrics[m].exposure != "none"
                                   for m in out["metric"]])  # fmt: skip
        e = out["exposure"].to_numpy(dtype=np.float64)
        scale = np.where(has_exposure, per / e, 1.0)
        value = np.where(counted, c * scale, value)
        low = np.where(counted, g_low * scale, low)
        high = np.where(counted, g_high * scale, high)
        value = np.where(kind == "event", n, value)
    out["value"], out["ci_low"], out["ci_high"] = value, low, high
    out["median"] = out["median_low"] = out["median_high"] = np.nan
    if timed.any():
        found = _medians(rows[rows["kind"].to_numpy() == "time"], keys)
        merged = out[keys].merge(found, on=keys, how="left")
        out["median"] = merged["median"].to_numpy()
        out["median_low"] = merged["median_low"].to_numpy()
        out["median_high"] = merged["median_high"].to_numpy()
    return out.drop(columns=["v_c", "v2_c"])


def _medians(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group of time rows: the median of its values written out ``n_i`` times each, and the
    order statistics j and N - j + 1 that bound its 95% interval (figure_stats.median_rank; NaN
    below 6 values): figure_stats.weighted_median_interval, for every group at once."""
    counts = np.rint(rows["n_i"].to_numpy(dtype=np.float64))
    keep = counts > 0
    rows, counts = rows[keep], counts[keep]
    group = rows.groupby(keys, sort=True, observed=True).ngroup().to_numpy()
    values = rows["value"].to_numpy(dtype=np.float64)
    order = np.lexsort((values, group))
    group, values, counts = group[order], values[order], counts[order]
    cum = np.cumsum(counts)
    sizes = np.bincount(group, weights=counts).astype(np.int64)
    base = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def at(rank: np.ndarray) -> np.ndarray:
        """The rank-th smallest (1-based) value of each group."""
        return np.asarray(values[np.searchsorted(cum, base + rank, side="left")], dtype=np.float64)

    low_mid, high_mid = (sizes + 1) // 2, sizes // 2 + 1
    median = (at(low_mid) + at(np.where(sizes % 2 == 1, low_mid, high_mid))) / 2
    j = np.asarray([median_rank(int(n)) for n in sizes], dtype=np.int64)
    has = j >= 1
    low = np.where(has, at(np.where(has, j, 1)), np.nan)
    high = np.where(has, at(np.where(has, sizes - j + 1, 1)), np.nan)
    first = rows.iloc[order].groupby(group, sort=True)[keys].first() if len(rows) else rows[keys]
    out = first.reset_index(drop=True)
    out["median"], out["median_low"], out["median_high"] = median, low, high
    return out


def points(levelled: pd.DataFrame, metrics: Metrics) -> pd.DataFrame:
    """Every point (metric, level, place, team, grain, period) of the levelled rows, POINT_COLUMNS,
    event metrics left out (an event is not a series)."""
    rows = levelled[levelled["kind"].to_numpy() != "event"]
    out = pool(rows, [*_GROUP, "grain", "point", "point_start", "point_end"], metrics)
    out = out.rename(columns={"point": "period", "point_start": "start", "point_end": "end"})
    names: dict[tuple[str, dt.date], str] = {}
    out["label"] = [
        names.setdefault((g, s), display_label(g, s))
        for g, s in zip(out["grain"].tolist(), out["start"].tolist(), strict=True)
    ]
    return out[list(POINT_COLUMNS)]


#: the levelled columns a span's figures read (pool, its medians, the points' bounds and labels)
_SPAN_COLUMNS = [*_GROUP, "kind", "grain", "point", "point_start", "point_end", "n_i", "k_i", "e_i",
                 "v_c", "v2_c", "value"]  # fmt: skip
_Ranks = dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[Any]]]


@dataclass(frozen=True)
class SpanRows:
    """Levelled rows arranged once for every span a run works out (period, quarters): the measured
    rows with only the columns span_figures reads, their points' days as numbers and the bound
    columns ranked (sorted factorize: codes, values), not compared and copied anew for each span."""

    measured: pd.DataFrame
    first_day: npt.NDArray[np.int64]
    last_day: npt.NDArray[np.int64]
    ranks: _Ranks
    events: pd.DataFrame

    @classmethod
    def of(cls, levelled: pd.DataFrame) -> SpanRows:
        is_event = levelled["kind"].to_numpy() == "event"
        measured = levelled.loc[~is_event, _SPAN_COLUMNS].reset_index(drop=True)
        days = {c: np.fromiter((d.toordinal() for d in measured[c].tolist()), np.int64, len(measured))
                for c in ("point_start", "point_end")}  # fmt: skip
        ranks = {c: pd.factorize(measured[c], sort=True) for c in ("point_start", "point_end", "point")}
        return cls(measured, days["point_start"], days["point_end"], ranks, levelled[is_event])


def span_figures(
    levelled: pd.DataFrame,
    metrics: Metrics,
    start: dt.date,
    end: dt.date,
    every_point: pd.DataFrame | None = None,
    rows: SpanRows | None = None,
) -> pd.DataFrame:
    """One figure per (metric, level, place, team) for the span ``start``..``end`` (POINT_COLUMNS;
    ``period`` is the span's points, first to last, ``label`` their name): pooled over the points
    inside it at the finest grain that has any; for a grain too long to lie inside it, the latest
    point ended by ``end`` unless stale (module docstring). Event metrics: how many events fell in
    the span. ``rows``: SpanRows.of(levelled), when several spans are worked out."""
    span_days = (end - start).days + 1
    rows = rows or SpanRows.of(levelled)
    measured = rows.measured
    at = np.flatnonzero((rows.first_day >= start.toordinal()) & (rows.last_day <= end.toordinal()))
    inside = measured.take(at)
    finest = inside.groupby("metric", observed=True)["grain"].agg(lambda g: min(g, key=GRAINS.index))
    kept = (inside["grain"] == inside["metric"].map(finest)).to_numpy()
    chosen, at = inside[kept], at[kept]
    parts = []
    if not chosen.empty:
        pooled = pool(chosen, _GROUP, metrics)
        bounds = _bounds(chosen, {c: (codes[at], values) for c, (codes, values) in rows.ranks.items()})
        pooled = pooled.merge(bounds, on=_GROUP, how="left")
        pooled["period"] = [
            f if f == t else f"{f} to {t}" for f, t in zip(pooled["first"], pooled["last"], strict=True)
        ]
        pooled["label"] = [
            _span_label(g, s, e)
            for g, s, e in zip(pooled["grain"], pooled["start"], pooled["end"], strict=True)
        ]
        parts.append(pooled)
    too_long = measured[
        (measured["grain"].map(GRAIN_DAYS).to_numpy() > span_days)
        & ~measured["metric"].isin(list(finest.index)).to_numpy()
    ]
    latest = _latest_points(too_long, metrics, end, every_point)
    if not latest.empty:
        parts.append(latest)
    events = rows.events
    happened = events[[on is not None and start <= on <= end for on in events["event_on"].tolist()]]
    if not happened.empty:
        counted = pool(happened, _GROUP, metrics).assign(grain="", start=start, end=end, period="", label="")
        parts.append(counted)
    if not parts:
        return pd.DataFrame(columns=list(POINT_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    return out[list(POINT_COLUMNS)].sort_values(_GROUP, kind="stable").reset_index(drop=True)


def _bounds(chosen: pd.DataFrame, ranks: _Ranks) -> pd.DataFrame:
    """Per (metric, level, place, team) of the chosen points: grain, first start, last end, first and
    last labels, as the least and greatest of ``ranks`` (the chosen rows' codes of SpanRows.ranks):
    pandas' min and max of Python objects ran a Python loop per group, a second of a year's spans."""
    frame = chosen[[*_GROUP, "grain"]].copy()
    uniques = {}
    for column, rank in (("point_start", "s"), ("point_end", "e"), ("point", "p")):
        frame[rank], uniques[rank] = ranks[column]
    found = frame.groupby(_GROUP, observed=True).agg(
        grain=("grain", "first"), s=("s", "min"), e=("e", "max"), f=("p", "min"), t=("p", "max")
    )
    out = found[["grain"]].reset_index()
    out["start"] = uniques["s"][found["s"].to_numpy()]
    out["end"] = uniques["e"][found["e"].to_numpy()]
    out["first"] = uniques["p"][found["f"].to_numpy()]
    out["last"] = uniques["p"][found["t"].to_numpy()]
    return out


def _span_label(grain: str, start: dt.date, end: dt.date) -> str:
    """'2026-W47'; 'October 2026'; 'June to October 2026'; '2026-W22 to 2026-W47'."""
    first = display_label(grain, start)
    last_start = (
        shift(grain, end + dt.timedelta(days=1), -1)[0] if grain != "week" else end - dt.timedelta(days=6)
    )
    last = display_label(grain, last_start)
    if first == last:
        return first
    if grain == "month" and start.year == last_start.year:
        return f"{start:%B} to {last}"
    return f"{first} to {last}"


def _latest_points(
    rows: pd.DataFrame, metrics: Metrics, end: dt.date, every_point: pd.DataFrame | None
) -> pd.DataFrame:
    """The latest point of each (metric, level, place, team) ended by ``end``, unless stale."""
    ended = rows[(rows["point_end"] <= end).to_numpy()]
    if ended.empty:
        return pd.DataFrame(columns=list(POINT_COLUMNS))
    if every_point is None:
        found = points(ended, metrics)
    else:
        wanted = set(zip(ended["metric"].tolist(), ended["grain"].tolist(), strict=True))
        keys = zip(
            every_point["metric"].tolist(),
            every_point["grain"].tolist(),
            every_point["end"].tolist(),
            strict=True,
        )
        found = every_point[[(m, g) in wanted and e <= end for m, g, e in keys]]
    found = found.sort_values([*_GROUP, "end"], kind="stable").groupby(_GROUP, observed=True).tail(1)
    fresh = [
        shift(g, s, STALE_PERIODS)[1] > end
        for g, s in zip(found["grain"].tolist(), found["start"].tolist(), strict=True)
    ]
    return found[fresh]


def event_rows(levelled: pd.DataFrame, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Every event of the span at place level (and those sent for the FORCE), by place, date, ref:
    rows with metric, item, place, team, event_ref, event_on, detail, period."""
    events = levelled[(levelled["kind"].to_numpy() == "event") & (levelled["level"] != "team").to_numpy()]
    own = events[(events["level"] == "place").to_numpy() | (events["place"] == FORCE_KEY).to_numpy()]
    if own.empty:
        return []
    # the force level repeats every place's event: keep the place rows, and those sent for the FORCE
    keep = own[(own["level"] == "place").to_numpy() | ~own["metric"].isin(
        set(own.loc[own["level"] == "place", "metric"])).to_numpy()]  # fmt: skip
    picked = keep[[on is not None and start <= on <= end for on in keep["event_on"].tolist()]]
    cols = ["metric", "item", "place", "team", "event_ref", "event_on", "detail", "period"]
    return sorted(
        (dict(zip(cols, r, strict=True)) for r in picked[cols].itertuples(index=False, name=None)),
        key=lambda r: (r["place"], r["event_on"], r["event_ref"], r["metric"]),
    )


#: an event log is live while it has sent an event since the start of this many months before
EVENT_LOG_MONTHS = 2


def live_event_metrics(levelled: pd.DataFrame, metrics: Metrics, end: dt.date) -> tuple[str, ...]:
    """The event metrics whose extract (the event log) is live at ``end``: it sent an event, of any
    of its metrics, dated on or before ``end`` and since the start of the month EVENT_LOG_MONTHS
    before ``end``'s. Events are reported by exception: while the log is live, no event is no news,
    and every place counts as measured."""
    since = shift("month", dt.date(end.year, end.month, 1), -EVENT_LOG_MONTHS)[0]
    events = levelled[(levelled["kind"].to_numpy() == "event") & (levelled["level"] == "force").to_numpy()]
    recent = {
        m
        for m, on in zip(events["metric"].tolist(), events["event_on"].tolist(), strict=True)
        if on and since <= on <= end
    }
    logs = {metrics[m].extract for m in recent}
    return tuple(sorted(m for m, d in metrics.items() if d.kind == "event" and d.extract in logs))


def records_of(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain dict rows of a points or span table (NaN -> None, values Python's as to_dict's), by column."""
    names = [str(c) for c in table.columns]
    columns: list[list[Any]] = []
    for _, column in table.items():
        values = column.tolist()
        if column.dtype.kind == "f":
            values = [None if v != v else v for v in values]  # v != v: NaN
        elif column.dtype.kind == "O":
            values = [_plain(v) for v in values]
        columns.append(values)
    rows = zip(*columns, strict=True) if names else [()] * len(table)
    return [dict(zip(names, row, strict=True)) for row in rows]


def _plain(v: Any) -> Any:
    """A value of an object column as to_dict gives it (a numpy scalar as Python's), NaN as None."""
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and v != v else v
