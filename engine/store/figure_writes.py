"""The bulk writes of a figures load, through the driver in the session's transaction: the new
figures inserted (SQLite's executemany, PostgreSQL's COPY) and the replaced ones marked not current.
No ORM object or SQLAlchemy parameter processing per row: a year of a force's figures is hundreds
of thousands of rows, loaded at over 100,000 a second."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from itertools import chain
from operator import attrgetter
from typing import Any

from sqlalchemy import Boolean, Date, Float, Integer, String, Text
from sqlalchemy.orm import Session

from engine.inputs.figures import FigureRow
from engine.store.figure_tables import Figure

#: the columns a load writes, in FigureRow's order (the load's pk, is_current and the row's line aside)
ROW_COLUMNS = (
    "extract", "item", "metric", "place", "team", "period", "period_start", "period_end", "numerator",
    "denominator", "value", "count", "event_ref", "event_on", "detail", "content_hash",
)  # fmt: skip
#: how many rows one SQLite INSERT writes (at most 13 values a row: far below SQLite's 999 variables)
_ROWS_A_STATEMENT = 50
#: the row's attribute SQLite is given for a column, where not the column's own: its ISO text
_AS_TEXT = {"period_start": "start_text", "period_end": "end_text"}
#: what PostgreSQL's COPY writes of a row, after the load's pk and is_current
_COPIED = attrgetter(*ROW_COLUMNS, "line")


#: PostgreSQL's name of each column type of the figures table, for a binary COPY
_PG_TYPES: dict[type[Any], str] = {
    Integer: "int4", Boolean: "bool", String: "varchar", Text: "text", Date: "date", Float: "float8",
}  # fmt: skip


def supersede_figures(session: Session, pks: Sequence[int], load_pk: int) -> None:
    """Mark the replaced figures not current, superseded by the load (a whole year replaced is as
    many rows as a whole year loaded; on SQLite 500 a statement, a third less time than one a row)."""
    if not pks:
        return
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    sql = f"UPDATE {Figure.__tablename__} SET is_current = false, superseded_by = {int(load_pk)} WHERE pk "
    if connection.dialect.name != "sqlite":
        with driver.cursor() as cursor:
            cursor.execute(sql + "= ANY(%s)", (list(pks),))
        return
    for i in range(0, len(pks), 500):
        driver.execute(sql + f"IN ({', '.join('?' * len(pks[i : i + 500]))})", pks[i : i + 500])


def insert_figures(session: Session, rows: Sequence[FigureRow], load_pk: int) -> None:
    """Insert the rows, current, stored by the load, in their order (their pks follow it)."""
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    table = Figure.__tablename__
    if connection.dialect.name != "sqlite":
        copied = ("load_pk", "is_current", *ROW_COLUMNS, "source_row")
        columns = ", ".join(f'"{c}"' for c in copied)
        # binary: the driver packs each value as its column's type (a third of the CPU of text)
        sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types([_PG_TYPES[type(Figure.__table__.c[c].type)] for c in copied])
            write, head = copy.write_row, (load_pk, True)
            for cells in map(_COPIED, rows):
                write(head + cells)
        return
    # SQLite: the rows of one metric and shape (which figure columns are blank) in statements that
    # write the metric's names and the load as constants and leave the blank columns out (binding
    # NULLs took a third of the time), each row's other values taken in one C call, _ROWS_A_STATEMENT
    # rows a statement in their order (a fifth less time than a statement a row)
    shapes: dict[tuple[Any, ...], list[FigureRow]] = defaultdict(list)
    for r in rows:
        shape = (r.extract, r.item, r.metric, r.numerator is None, r.denominator is None, r.value is None)
        shapes[(*shape, r.count is None, r.event_ref is None)].append(r)
    figure_columns = ("numerator", "denominator", "value", "count", "event_ref", "event_on", "detail")
    for (extract, item, metric, *blanks), batch in shapes.items():
        blank = dict(zip(figure_columns, (*blanks, blanks[4], blanks[4]), strict=True))
        names = [c for c in ROW_COLUMNS[3:] if not blank.get(c, False)]
        columns = ", ".join(
            f'"{c}"' for c in ("load_pk", "is_current", *ROW_COLUMNS[:3], *names, "source_row")
        )
        constants = ", ".join((str(load_pk), "1", *(_sql_text(v) for v in (extract, item, metric))))
        one = f"({constants}, {', '.join('?' * (len(names) + 1))})"
        values = attrgetter(*(_AS_TEXT.get(n, n) for n in names), "line")
        for i in range(0, len(batch), _ROWS_A_STATEMENT):
            chunk = batch[i : i + _ROWS_A_STATEMENT]
            driver.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))}",
                list(chain.from_iterable(map(values, chunk))),
            )


def _sql_text(value: str) -> str:
    """A text constant in SQL (the ids of a metric, its item and extract: checked names, quoted all
    the same)."""
    return "'" + value.replace("'", "''") + "'"


# sqlite3's own date adapter is deprecated (Python 3.12): this one writes what SQLAlchemy's SQLite
# Date stores, ISO text, in one C call a date (the figures' rows are bound by the driver)
sqlite3.register_adapter(dt.date, dt.date.isoformat)
