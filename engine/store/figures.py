"""The queries for the tidy figures extract: storing a validated file all or nothing (an identical
reload changes nothing; a changed figure is refused unless replaced, and a replaced one is kept
for audit), and reading the current figures of a span of days for the analysis.

A figure's key is (metric, place, team, period), and an event's ref besides. A time metric's rows
of one key are one pooled figure (its values and counts): a reload with any bin changed replaces
them all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.core.errors import ExtractError, Location, Problem, problems_summary
from engine.inputs.figures import FigureRow, FiguresFile
from engine.store.db import Database
from engine.store.figure_tables import Figure, FigureLoad
from engine.store.rows import chunks, row_chunks

_FIGURE_COLUMNS = ("numerator", "denominator", "value", "count", "event_on", "detail")


@dataclass(frozen=True, slots=True)
class FigureRecord:
    """One current figure as the analysis reads it (docs/extracts.md, "Figures extract"): blank
    columns are None, ``team`` is "" when the source has none. By kind: proportion numerator and
    denominator; survey numerator and denominator, or value (a share) and count (the sample size);
    time value and count (one row per value, the counts pooled); count numerator and denominator
    (None when the metric has no exposure); event event_ref, event_on and detail."""

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
    count: float | None
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


def _counts(m: MetricLoad) -> str:
    return f"{m.stored} stored, {m.replaced} replaced, {m.unchanged} unchanged"


@dataclass(frozen=True, slots=True)
class _Stored:
    pk: int
    hash: str
    value: float | None
    count: float | None
    load: int


def stored_current(session: Session, rows: Sequence[FigureRow]) -> dict[tuple[str, ...], list[_Stored]]:
    """The current stored figures that share a key with ``rows``, by key (several for a time metric)."""
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for r in rows:
        low, high = spans.get(r.metric, (r.period_start, r.period_start))
        spans[r.metric] = (min(low, r.period_start), max(high, r.period_start))
    wanted = {r.key for r in rows}
    out: dict[tuple[str, ...], list[_Stored]] = defaultdict(list)
    for metric, (low, high) in sorted(spans.items()):
        q = select(
            Figure.place, Figure.team, Figure.period, Figure.event_ref, Figure.pk,
            Figure.content_hash, Figure.value, Figure.count, Figure.load_pk,
        ).where(
            Figure.is_current.is_(True), Figure.metric == metric,
            Figure.period_start >= low, Figure.period_start <= high,
        )  # fmt: skip
        for chunk in row_chunks(session, q):
            for place, team, period, ref, pk, digest, value, count, load in chunk:
                key = (metric, place, team, period, ref or "")
                if key in wanted:
                    out[key].append(_Stored(pk, digest, value, count, load))
    return out


def store_figures(
    database: Database, figures: FiguresFile, *, replace: bool, loaded_at: dt.datetime
) -> FiguresLoad:
    """Store a valid figures extract in one transaction, all or nothing.

    A figure whose key is stored with the same figures is unchanged; with different ones it is
    refused (ExtractError naming each row, nothing stored) unless ``replace``, which marks the
    stored rows not current, superseded by this load, and stores the new ones. A figure_loads row
    records every load that stores anything."""
    by_key: dict[tuple[str, ...], list[FigureRow]] = defaultdict(list)
    for r in figures.rows:
        by_key[r.key].append(r)
    with database.session() as session:
        stored = stored_current(session, figures.rows)
        new: list[FigureRow] = []
        superseded: list[int] = []
        conflicts: list[Problem] = []
        by_metric: dict[str, MetricLoad] = defaultdict(MetricLoad)
        for key, group in by_key.items():
            tally = by_metric[key[0]]
            old = stored.get(key, [])
            if not old:
                new.extend(group)
                tally.stored += len(group)
            elif sorted(r.content_hash for r in group) == sorted(s.hash for s in old):
                tally.unchanged += len(group)
            elif replace:
                new.extend(group)
                superseded.extend(s.pk for s in old)
                tally.replaced += len(group)
            else:
                conflicts.append(_conflict(session, group, old, figures.path))
        if conflicts:
            conflicts.sort(key=lambda p: p.location.line or 0)
            raise ExtractError(
                problems_summary(conflicts, "file") + "; nothing was loaded",
                conflicts,
                hint="Give --replace to replace the stored figures with these (the old ones are kept for audit).",
            )
        if not new:
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
        for pks in chunks(superseded):
            session.execute(
                update(Figure)
                .where(Figure.pk.in_(pks))
                .values(is_current=False, superseded_by=load_pk)
                .execution_options(synchronize_session=False)
            )
        _insert(session, new, load_pk)
    return FiguresLoad(figures.path, load_pk, dict(by_metric))


def _insert(session: Session, rows: Sequence[FigureRow], load_pk: int) -> None:
    """Bulk insert: no ORM object per row (a year's figures are hundreds of thousands of rows)."""
    for chunk in chunks(rows, 20_000):
        values = [
            {
                "load_pk": load_pk,
                "superseded_by": None,
                "is_current": True,
                "extract": r.extract,
                "item": r.item,
                "metric": r.metric,
                "place": r.place,
                "team": r.team,
                "period": r.period,
                "period_start": r.period_start,
                "period_end": r.period_end,
                "numerator": r.numerator,
                "denominator": r.denominator,
                "value": r.value,
                "count": r.count,
                "event_ref": r.event_ref,
                "event_on": r.event_on,
                "detail": r.detail,
                "content_hash": r.content_hash,
                "source_row": r.line,
            }  # fmt: skip
            for r in chunk
        ]
        session.execute(insert(Figure), values)


def _conflict(session: Session, group: list[FigureRow], old: list[_Stored], path: str) -> Problem:
    """The problem of a key stored with other figures: what is stored, and which load stored it."""
    first = group[0]
    load = session.execute(
        select(FigureLoad.source_file, FigureLoad.loaded_at).where(FigureLoad.pk == old[0].load)
    ).one()
    stored_on = load.loaded_at.date().isoformat() if load.loaded_at else "?"
    what = (
        f"metric {first.metric}, place {first.place}{f', team {first.team}' if first.team else ''}, "
        f"period {first.period}{f', event {first.event_ref}' if first.event_ref else ''}"
    )
    if first.kind == "time":
        shown = ", ".join(f"{s.value:g} x {s.count:g}" for s in sorted(old, key=lambda s: s.value or 0)[:6])
        more = f" and {len(old) - 6} more" if len(old) > 6 else ""
        figures = f"values x counts {shown}{more}"
        column = "value"
    else:
        row = session.execute(
            select(*(getattr(Figure, c) for c in _FIGURE_COLUMNS)).where(Figure.pk == old[0].pk)
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


def current_figures(
    db: Database | Session,
    *,
    start: dt.date,
    end: dt.date,
    metrics: Iterable[str] | None = None,
) -> list[FigureRecord]:
    """Every current figure whose period meets ``start``..``end`` (inclusive), of ``metrics`` (all
    when None), ordered by metric, place, team, period start and load. ``db`` is an open Database
    (read in a transaction of its own) or the caller's session.

    Example: ``current_figures(db, start=date(2026, 10, 1), end=date(2026, 11, 22), metrics=["attendance_rate"])``
    """
    if isinstance(db, Database):
        with db.session() as session:
            return current_figures(session, start=start, end=end, metrics=metrics)
    q = select(
        Figure.item, Figure.metric, Figure.place, Figure.team, Figure.period, Figure.period_start,
        Figure.period_end, Figure.numerator, Figure.denominator, Figure.value, Figure.count,
        Figure.event_ref, Figure.event_on, Figure.detail,
    ).where(Figure.is_current.is_(True), Figure.period_start <= end, Figure.period_end >= start)  # fmt: skip
    if metrics is not None:
        wanted = sorted(set(metrics))
        if not wanted:
            return []
        q = q.where(Figure.metric.in_(wanted))
    q = q.order_by(Figure.metric, Figure.place, Figure.team, Figure.period_start, Figure.pk)
    return [FigureRecord(*row) for row in db.execute(q)]
