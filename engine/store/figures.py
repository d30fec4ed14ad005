"""The queries for the tidy figures extract: storing a validated file all or nothing (an identical
reload changes nothing; a changed figure is refused unless replaced, and a replaced one is kept
for audit), and reading the current figures of a span of days for the analysis.

A figure's key is (metric, place, team, period), and an event's ref besides. A time metric's rows
of one key are one pooled figure (its values and counts): a reload with any bin changed replaces
them all.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import false, func, insert, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.core.errors import ExtractError, Location, Problem, problems_summary
from engine.core.memory import paused_gc
from engine.inputs.figures import FigureRow, FiguresFile
from engine.store.db import Database
from engine.store.figure_tables import Figure, FigureLoad
from engine.store.figure_writes import insert_figures, supersede_figures
from engine.store.rows import lock_for_writing, row_chunks

_FIGURE_COLUMNS = ("numerator", "denominator", "value", "count", "event_on", "detail")


class FigureRecord(NamedTuple):
    """One current figure as the analysis reads it (docs/extracts.md, "Figures extract"): blank
    columns are None, ``team`` is "" when the source has none. By kind: proportion numerator and
    denominator; survey numerator and denominator, or value (a share) and count (the sample size);
    time value and count (one row per value, the counts pooled); count numerator and denominator
    (None when the metric has no exposure); event event_ref, event_on and detail. A named tuple: a
    year's are quick to make, and its ``count`` field hides tuple's count method."""

    item: str
    metric: str
    place: str
    team: str
    period: str
    period_start: dt.date
    period_end: dt.date
    numerator: float | None
    denominator: float | None
    value: float | None
    count: float | None  # type: ignore[assignment]  # the column's name, over tuple.count
    event_ref: str | None
    event_on: dt.date | None
    detail: str | None


@dataclass
class MetricLoad:
    """What one load did to one metric's rows: new ones stored, old ones replaced, the same unchanged."""

    stored: int = 0
    replaced: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class FiguresLoad:
    """What loading one figures extract did, by metric; ``load`` is the figure_loads row (None when
    nothing was stored: an identical reload)."""

    file: str
    load: int | None
    by_metric: dict[str, MetricLoad] = field(default_factory=dict)

    def summary(self) -> str:
        total = MetricLoad()
        for m in self.by_metric.values():
            total.stored, total.replaced, total.unchanged = (
                total.stored + m.stored, total.replaced + m.replaced, total.unchanged + m.unchanged
            )  # fmt: skip
        rows = total.stored + total.replaced + total.unchanged
        if not rows:
            return f"No figures in {self.file}: nothing was stored."
        head = (
            f"Loaded {rows} figure row{'s' if rows != 1 else ''} from {self.file}: "
            f"{_counts(total)}"
            + (" (the replaced figures are kept for audit)" if total.replaced else "")
            + ("." if self.load is None else f"; load {self.load}.")
        )
        width = max(len(m) for m in self.by_metric)
        lines = [f"  {metric:<{width}}  {_counts(m)}" for metric, m in sorted(self.by_metric.items())]
        return "\n".join([head, *lines])


@dataclass(frozen=True)
class FiguresLoads:
    """What loading several figures extracts in one transaction did, a FiguresLoad a file in order."""

    loads: tuple[FiguresLoad, ...]

    def summary(self) -> str:
        if len(self.loads) == 1:
            return self.loads[0].summary()
        total = MetricLoad()
        for m in (m for load in self.loads for m in load.by_metric.values()):
            total.stored, total.replaced, total.unchanged = (
                total.stored + m.stored, total.replaced + m.replaced, total.unchanged + m.unchanged
            )  # fmt: skip
        rows = total.stored + total.replaced + total.unchanged
        return "\n".join(
            [
                *(load.summary() for load in self.loads),
                f"{len(self.loads)} files loaded in one transaction: {rows} figure row{'s' if rows != 1 else ''}, "
                f"{_counts(total)}.",
            ]
        )


def _counts(m: MetricLoad) -> str:
    return f"{m.stored} stored, {m.replaced} replaced, {m.unchanged} unchanged"


#: a stored figure as the load compares it: pk, content hash, value, count, load
_Stored = tuple[int, str, "float | None", "float | None", int]
_KEY, _METRIC, _METRIC_START = attrgetter("key"), attrgetter("metric"), attrgetter("metric", "period_start")


def stored_current(session: Session, rows: Sequence[FigureRow]) -> dict[tuple[str, ...], list[_Stored]]:
    """The current stored figures of the rows' metrics over the span of their periods, by key (several
    for a time metric): every figure a row of ``rows`` could meet (and others of that span)."""
    spans: dict[str, list[dt.date]] = {}
    for metric, start in set(map(_METRIC_START, rows)):  # a year's rows have a few thousand
        span = spans.get(metric)
        if span is None:
            spans[metric] = [start, start]
        elif start < span[0]:
            span[0] = start
        elif start > span[1]:
            span[1] = start
    out: dict[tuple[str, ...], list[_Stored]] = {}
    # a query for the metrics of one span (a file's usually share theirs), each on the index by
    # metric: a query a metric was a round trip and a compiled statement each, a tenth of a year's
    # load on PostgreSQL
    by_span: dict[tuple[dt.date, dt.date], list[str]] = defaultdict(list)
    for metric, (low, high) in sorted(spans.items()):
        by_span[(low, high)].append(metric)
    for (low, high), metrics in by_span.items():
        q = select(
            Figure.metric, Figure.place, Figure.team, Figure.period, Figure.event_ref, Figure.pk,
            Figure.content_hash, Figure.value, Figure.count, Figure.load_pk,
        ).where(
            Figure.is_current.is_(True), or_(*(Figure.metric == m for m in metrics)),
            Figure.period_start >= low, Figure.period_start <= high,
        )  # fmt: skip
        _stored_by_key(session, q, out)
    return out


def _stored_by_key(session: Session, q: Any, out: dict[tuple[str, ...], list[_Stored]]) -> None:
    """The query's stored figures added to ``out`` by key, in the order the query gives them."""
    for chunk in row_chunks(session, q):
        for metric, place, team, period, ref, pk, digest, value, count, load in chunk:
            key = (metric, place, team, period, ref or "")
            got = out.get(key)
            if got is None:
                out[key] = [(pk, digest, value, count, load)]
            else:
                got.append((pk, digest, value, count, load))


def store_figures(
    database: Database, figures: FiguresFile, *, replace: bool, loaded_at: dt.datetime
) -> FiguresLoad:
    """Store a valid figures extract in one transaction, all or nothing (store_file's rules)."""
    with database.session() as session:
        lock_figures(session)
        return store_file(session, figures, replace=replace, loaded_at=loaded_at)


def lock_figures(session: Session) -> None:
    """Take the figures' writer lock for the rest of the session's transaction, before any load in it
    compares: two loads of one figure must not both find it new and both store it."""
    lock_for_writing(session, FigureLoad.pk, "SHARE ROW EXCLUSIVE")


def store_file(
    session: Session, figures: FiguresFile, *, replace: bool, loaded_at: dt.datetime
) -> FiguresLoad:
    """Store a valid figures extract in the session's transaction, which holds lock_figures; what
    an earlier load of the transaction stored counts as stored.

    A figure whose key is stored with the same figures is unchanged; with different ones it is
    refused (ExtractError naming each row, nothing of the file written) unless ``replace``, which
    marks the stored rows not current, superseded by this load, and stores the new ones. A
    figure_loads row records every load that stores anything."""
    by_metric: dict[str, MetricLoad] = defaultdict(MetricLoad)
    with paused_gc():  # the rows and keys compared hold no cycles
        stored = stored_current(session, figures.rows)
        new: list[FigureRow] = []
        met: dict[tuple[str, ...], list[FigureRow]] = {}  # the rows whose key is stored, by key
        if stored.keys().isdisjoint(map(_KEY, figures.rows)):  # all new (a new period's load): in C
            new.extend(figures.rows)
            for metric, n in Counter(map(_METRIC, new)).items():
                by_metric[metric].stored = n
        else:
            for r in figures.rows:
                key = r.key
                if key in stored:
                    met.setdefault(key, []).append(r)
                else:
                    new.append(r)
                    by_metric[r.metric].stored += 1
        superseded: list[int] = []
        conflicts: list[Problem] = []
        for key, group in met.items():
            tally = by_metric[key[0]]
            old = stored[key]
            if len(group) == len(old) == 1:
                same = group[0].content_hash == old[0][1]
            else:
                same = sorted(r.content_hash for r in group) == sorted(o[1] for o in old)
            if same:
                tally.unchanged += len(group)
            elif replace:
                new.extend(group)
                superseded.extend(o[0] for o in old)
                tally.replaced += len(group)
            else:
                conflicts.append(_conflict(session, group, old, figures.path))
        if figures.multi_grain:  # a week and its month: not both current
            for rows, overlapped in _overlapping(session, figures):
                if not replace:
                    conflicts.append(_overlap_conflict(session, rows[0], overlapped, figures.path))
                    continue
                superseded.extend(o[0] for o in overlapped)
                if rows[0].key not in stored:  # counted as stored: it replaces the overlapped
                    by_metric[rows[0].metric].stored -= len(rows)
                    by_metric[rows[0].metric].replaced += len(rows)
        if conflicts:
            conflicts.sort(key=lambda p: p.location.line or 0)
            raise ExtractError(
                problems_summary(conflicts, "file") + "; nothing was loaded",
                conflicts,
                hint="Give --replace to replace the stored figures with these (the old ones are kept for audit).",
            )
        if not new and not superseded:
            return FiguresLoad(figures.path, None, dict(by_metric))
        load_pk = int(
            session.execute(
                insert(FigureLoad).returning(FigureLoad.pk),
                {
                    "source_file": figures.path[-500:],
                    "sha256": figures.sha256,
                    "rows": len(new),
                    "replaced": bool(superseded),
                    "loaded_at": loaded_at,
                },
            ).scalar_one()
        )
        supersede_figures(session, superseded, load_pk)
        insert_figures(session, new, load_pk)
    return FiguresLoad(figures.path, load_pk, dict(by_metric))


#: the longest period a figure may have (a year), for finding the stored periods a period overlaps
_LONGEST = dt.timedelta(days=366)


def _overlapping(session: Session, figures: FiguresFile) -> list[tuple[list[FigureRow], list[_Stored]]]:
    """The file's figures (each a key's rows) of a metric declared for several grains that overlap
    stored current figures of the same metric, place and team for another period, with those."""
    groups: dict[tuple[str, ...], list[FigureRow]] = {}
    for r in figures.rows:
        if r.metric in figures.multi_grain:
            groups.setdefault(r.key, []).append(r)
    by_owner: dict[tuple[str, str, str], list[FigureRow]] = defaultdict(list)
    for rows in groups.values():
        by_owner[(rows[0].metric, rows[0].place, rows[0].team)].append(rows[0])
    found: dict[tuple[str, ...], list[_Stored]] = {}
    for metric in sorted(figures.multi_grain):
        firsts = [rows[0] for rows in groups.values() if rows[0].metric == metric]
        low = min(r.period_start for r in firsts) - _LONGEST
        high = max(r.period_end for r in firsts)
        q = select(
            Figure.place, Figure.team, Figure.period, Figure.period_start, Figure.period_end,
            Figure.pk, Figure.content_hash, Figure.value, Figure.count, Figure.load_pk,
        ).where(
            Figure.is_current.is_(True), Figure.metric == metric,
            Figure.period_start >= low, Figure.period_start <= high,
        )  # fmt: skip
        for chunk in row_chunks(session, q):
            for place, team, period, start, end, pk, digest, value, count, load in chunk:
                first, last = _day(start), _day(end)
                for r in by_owner.get((metric, place, team), ()):
                    if r.period != period and r.period_start <= last and first <= r.period_end:
                        found.setdefault(r.key, []).append((pk, digest, value, count, load))
    return [(groups[key], overlapped) for key, overlapped in found.items()]


def _day(value: dt.date | str) -> dt.date:
    """A date as the driver gives it (SQLite: ISO text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _overlap_conflict(session: Session, row: FigureRow, overlapped: list[_Stored], path: str) -> Problem:
    """The problem of a figure whose period overlaps stored figures of another period."""
    periods = session.execute(
        select(Figure.period, FigureLoad.source_file, FigureLoad.loaded_at)
        .join(FigureLoad, FigureLoad.pk == Figure.load_pk)
        .where(Figure.pk.in_(sorted({o[0] for o in overlapped})))
        .order_by(Figure.period_start)
    ).all()
    shown = ", ".join(sorted({p.period for p in periods}))
    first = periods[0]
    return Problem(
        Location(path, row.line, "period"),
        f"metric {row.metric}, place {row.place}{f', team {row.team}' if row.team else ''}, period "
        f"{row.period} overlaps the stored figures for {shown} (loaded {first.loaded_at.date().isoformat()} "
        f"from {first.source_file}): a metric's figures for one place and team are for periods that do not overlap",
    )


def _conflict(session: Session, group: list[FigureRow], old: list[_Stored], path: str) -> Problem:
    """The problem of a key stored with other figures: what is stored, and which load stored it."""
    first = group[0]
    load = session.execute(
        select(FigureLoad.source_file, FigureLoad.loaded_at).where(FigureLoad.pk == old[0][4])
    ).one()
    stored_on = load.loaded_at.date().isoformat() if load.loaded_at else "?"
    what = (
        f"metric {first.metric}, place {first.place}{f', team {first.team}' if first.team else ''}, "
        f"period {first.period}{f', event {first.event_ref}' if first.event_ref else ''}"
    )
    if first.kind == "time":
        bins = sorted((o[2] or 0.0, o[3] or 0.0) for o in old)
        shown = ", ".join(f"{value:g} x {count:g}" for value, count in bins[:6])
        more = f" and {len(old) - 6} more" if len(old) > 6 else ""
        figures = f"values x counts {shown}{more}"
        column = "value"
    else:
        row = session.execute(
            select(*(getattr(Figure, c) for c in _FIGURE_COLUMNS)).where(Figure.pk == old[0][0])
        ).one()
        figures = ", ".join(
            f"{c} {_shown(v)}" for c, v in zip(_FIGURE_COLUMNS, row, strict=True) if v is not None
        )
        mine = (first.numerator, first.denominator, first.value, first.count, first.event_on, first.detail)
        column = next((c for c, a, b in zip(_FIGURE_COLUMNS, mine, row, strict=True) if a != b), "metric")
    return Problem(
        Location(path, first.line, column),
        f"{what} is already stored with different figures ({figures}; loaded {stored_on} from "
        f"{load.source_file})",
    )


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def loads_since(session: Session, after: dt.datetime) -> tuple[int, int, int]:
    """(loads, figures stored, figures superseded) of the figure loads made after ``after`` (an
    aware time): what an audit's cut-off leaves out."""
    loads, stored = session.execute(
        select(func.count(FigureLoad.pk), func.coalesce(func.sum(FigureLoad.rows), 0)).where(
            FigureLoad.loaded_at > after
        )
    ).one()
    superseded = session.scalar(
        select(func.count(Figure.pk))
        .join(FigureLoad, FigureLoad.pk == Figure.superseded_by)
        .where(FigureLoad.loaded_at > after)
    )
    return int(loads), int(stored), int(superseded or 0)


def current_figures(
    db: Database | Session,
    *,
    start: dt.date,
    end: dt.date,
    metrics: Iterable[str] | None = None,
    as_of: dt.datetime | None = None,
) -> list[FigureRecord]:
    """Every current figure whose period meets ``start``..``end`` (inclusive), of ``metrics`` (all
    when None), ordered by metric, place, team, period start and load. ``db`` is an open Database
    (read in a transaction of its own) or the caller's session. With ``as_of`` (an aware time), the
    figures that were current then instead of today's: loaded by then, and not yet superseded by a
    load made by then (a replaced figure is kept with the load that superseded it, and that load's
    time is when it stopped being current) -- how an audit reads what a past run read.

    Example: ``current_figures(db, start=date(2026, 10, 1), end=date(2026, 11, 22), metrics=["attendance_rate"])``
    """
    if isinstance(db, Database):
        with db.session() as session:
            return current_figures(session, start=start, end=end, metrics=metrics, as_of=as_of)
    columns = (
        Figure.item, Figure.metric, Figure.place, Figure.team, Figure.period, Figure.period_start,
        Figure.period_end, Figure.numerator, Figure.denominator, Figure.value, Figure.count,
        Figure.event_ref, Figure.event_on, Figure.detail,
    )  # fmt: skip
    current = select(*columns).where(Figure.period_start <= end, Figure.period_end >= start)
    if as_of is None:
        current = current.where(Figure.is_current.is_(True))
    else:
        stored, superseding = aliased(FigureLoad), aliased(FigureLoad)
        current = (
            # either flag, said so: the query then searches the index by metric, not every figure
            current.where(Figure.is_current.in_((true(), false())))
            .join(stored, stored.pk == Figure.load_pk)
            .outerjoin(superseding, superseding.pk == Figure.superseded_by)
            .where(
                stored.loaded_at <= as_of,
                or_(Figure.superseded_by.is_(None), superseding.loaded_at > as_of),
            )
        )
    order = (Figure.place, Figure.team, Figure.period_start, Figure.pk)
    if metrics is None:
        queries = [current.order_by(Figure.metric, *order)]
    else:  # a query a metric, each on the index by metric
        queries = [current.where(Figure.metric == m).order_by(*order) for m in sorted(set(metrics))]
    out: list[FigureRecord] = []
    sqlite = db.connection().dialect.name == "sqlite"
    days: dict[str, dt.date] = {}

    def day(text: str) -> dt.date:  # SQLite gives dates as stored: ISO text
        got = days.get(text)
        if got is None:
            got = days[text] = dt.date.fromisoformat(text)
        return got

    for q in queries:
        for chunk in row_chunks(db, q):  # the driver's tuples: SQLAlchemy's Rows took a second a year
            if not sqlite:  # psycopg gives dates
                out.extend(map(FigureRecord._make, chunk))
                continue
            out.extend(
                FigureRecord(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    day(r[5]),
                    day(r[6]),
                    r[7],
                    r[8],
                    r[9],
                    r[10],
                    r[11],
                    None if r[12] is None else day(r[12]),
                    r[13],
                )  # fmt: skip
                for r in chunk
            )
    return out
