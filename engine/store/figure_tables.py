"""The tables of the tidy figures extract (docs/extracts.md, "figures"): one row per measured figure
of a place (and team) for a period, and one row per load so a replaced figure keeps its old version.

Registered on the schema's metadata by ``engine.store`` on import, like the tables in ``db``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.db import Base


class FigureLoad(Base):
    """One `qam extracts load figures FILE` that stored or replaced figures."""

    __tablename__ = "figure_loads"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_file: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    #: True when the load was made with --replace (some current figures were superseded)
    replaced: Mapped[bool] = mapped_column(Boolean)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Figure(Base):
    """One measured figure: a proportion, survey share, time, count or event of one place (and team
    where the source has one) for one period. Never deleted: a replaced figure stays with
    ``is_current`` false and ``superseded_by`` naming the load that replaced it."""

    __tablename__ = "figures"
    __table_args__ = (
        # what a load compares (a metric's current figures over its periods) and the analysis reads;
        # no index on the whole key: nothing looks a figure up by it, and each index slows a load
        Index("ix_figures_current_metric", "is_current", "metric", "period_start"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    load_pk: Mapped[int] = mapped_column(ForeignKey("figure_loads.pk"))
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("figure_loads.pk"), nullable=True)
    is_current: Mapped[bool] = mapped_column(Boolean)
    #: the extract definition that declares the metric (extracts/<extract>.yaml)
    extract: Mapped[str] = mapped_column(String(60))
    item: Mapped[str] = mapped_column(String(8))
    metric: Mapped[str] = mapped_column(String(80))
    place: Mapped[str] = mapped_column(String(16))
    #: "" when the source has no team
    team: Mapped[str] = mapped_column(String(200))
    #: as written: 2026-11-16 (day), 2026-W47, 2026-11, 2026-Q3 or 2026
    period: Mapped[str] = mapped_column(String(12))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    numerator: Mapped[float | None] = mapped_column(Float, nullable=True)
    denominator: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    count: Mapped[float | None] = mapped_column(Float, nullable=True)
    event_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    event_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_row: Mapped[int] = mapped_column(Integer)
