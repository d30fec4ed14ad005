"""The tables handed out of analysis: written for BI tools as CSV and Parquet (aggregates.csv,
incident_metrics.csv and their .parquet twins), or given as plain dict rows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from engine.analysis.aggregate import AGGREGATE_COLUMNS, FULL_COVERAGE_LEVELS
from engine.analysis.daily import INCIDENT_METRIC_COLUMNS
from engine.core.errors import ReportError
from engine.core.text import csv_block_writer, csv_row_writer, inert_cell, inert_refs

#: rows formatted at a time by write_table_csv
CSV_CHUNK_ROWS = 4096


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain dict rows (NaN and NA -> None; numbers as Python's, times as Timestamps) for code that
    should not handle DataFrames. Column by column: DataFrame.to_dict boxes each value on its own
    (a year's PEEL run turns 65,000 rows into dicts: 0.65 -> 0.22 s)."""
    names = [str(c) for c in table.columns]
    if not names:
        return [{} for _ in range(len(table))]
    columns = []
    for k in range(table.shape[1]):
        column = table.iloc[:, k]
        values = column.astype(object).to_numpy(dtype=object, copy=True)
        blank = column.isna().to_numpy()
        if blank.any():
            values[blank] = None
        columns.append(values.tolist())
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def has_pyarrow() -> bool:
    """Whether Parquet files can be written (pyarrow is installed)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def write_table_csv(table: pd.DataFrame, columns: Sequence[str], path: str | Path) -> None:
    """``columns`` of a table as CSV for BI tools: 6-decimal floats, blank for no data (NaN, None),
    tuples of refs joined by ";", text cells inert (core.text.inert_cell; each ref of a tuple too);
    replaced atomically. ReportError when it cannot be written."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            csv_row_writer(fh)([inert_cell(c) for c in columns])
            write_csv_rows(table, columns, fh)
        os.replace(tmp, target)
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc


def write_csv_rows(
    table: pd.DataFrame, columns: Sequence[str], fh: TextIO, *, while_: Callable[[], bool] | None = None
) -> int:
    """The rows of :func:`write_table_csv` (no header) into an open text file; with ``while_``, only
    as many chunks of CSV_CHUNK_ROWS rows as it says to go on for (asked before each). Returns how
    many rows were written. A cell's text depends only on its value and its column's dtype kind
    (float, integer or other), so rows written apart read the same as written together when their
    columns are of the same kinds."""
    write = csv_block_writer(fh)
    series = [table[c] for c in columns]
    # a chunk of rows at a time: a PEEL year's aggregates.csv, its cells formatted at once, held 48 MB
    for start in range(0, len(table), CSV_CHUNK_ROWS):
        if while_ is not None and not while_():
            return start
        write([_csv_column(s.iloc[start : start + CSV_CHUNK_ROWS]) for s in series])
    return len(table)


def _csv_cell(value: object) -> object:
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else f"{value:.6f}"
    if isinstance(value, tuple):
        return inert_refs(value)
    return inert_cell(value)


def _csv_column(values: pd.Series) -> list[object]:
    """A column's cells, formatted a whole float column at a time, and a text or categorical
    column's each distinct value once (a year's aggregates.csv repeats a few hundred names in
    hundreds of thousands of cells)."""
    if values.dtype.kind == "f":
        return ["" if v != v else f"{v:.6f}" for v in values.tolist()]  # v != v: NaN
    if values.dtype.kind in "iub":
        return values.tolist()
    if isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
        codes, distinct = pd.factorize(values)  # a missing value: code -1, the last cell below
        missing = values.dtype.na_value if isinstance(values.dtype, pd.StringDtype) else np.nan
        cells = np.array([*(_csv_cell(v) for v in distinct.tolist()), _csv_cell(missing)], dtype=object)
        return list(cells[codes])
    return [_csv_cell(v) for v in values.tolist()]


def write_rows_csv(rows: Sequence[Mapping[str, object]], columns: Sequence[str], path: str | Path) -> None:
    """Plain rows (text and whole numbers; every row has every column) as CSV, as
    :func:`write_table_csv` writes a table: text cells inert, replaced atomically; a header only when
    there are no rows. ReportError when it cannot be written."""
    table = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in columns})
    write_table_csv(table, columns, path)


def write_table_parquet(table: pd.DataFrame, path: str | Path) -> None:
    """A table as Parquet for BI tools, without its index; a column of tuples (failing case refs)
    is written as lists. Needs pyarrow (see :func:`has_pyarrow`)."""
    tuples = [c for c in table.columns if table[c].dtype == object and isinstance(_first(table[c]), tuple)]
    if tuples:
        table = table.copy()
        for c in tuples:
            table[c] = [list(v) for v in table[c]]
    table.to_parquet(path, index=False)


def _first(values: pd.Series) -> object:
    return values.iloc[0] if len(values) else None


def write_aggregates_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write the aggregate table for BI tools: fixed columns, 6-decimal rates, blank for no data.

    ``cases`` (when present) is written as refs joined by ";". Rows keep the table's
    (deterministic) order; the file is replaced atomically. ReportError when it cannot be written.
    """
    write_table_csv(table, [c for c in (*AGGREGATE_COLUMNS, "cases") if c in table.columns], path)


def write_aggregates_with_quarters(
    whole: pd.DataFrame, quarter_tables: Sequence[pd.DataFrame], folder: Path
) -> None:
    """A PEEL rerun's aggregates.csv (and aggregates.parquet when pyarrow is installed): the period
    at every level, then each quarter at force, division and place level (a quarter's team and
    officer cells are too thin to read, and would make the file five times as long)."""
    coarse = [t[t["level"].isin(FULL_COVERAGE_LEVELS).to_numpy()] for t in quarter_tables]
    combined = pd.concat([whole, *coarse], ignore_index=True)
    write_aggregates_csv(combined, folder / "aggregates.csv")
    if has_pyarrow():
        write_table_parquet(combined, folder / "aggregates.parquet")


def write_incident_metrics(rows: Sequence[Mapping[str, Any]], folder: Path, *, parquet: bool = True) -> None:
    """incident_metrics.csv of a weekly run or a PEEL rerun (with ``parquet``, also
    incident_metrics.parquet when pyarrow is installed): rows with INCIDENT_METRIC_COLUMNS
    (analysis.incidents.incident_metric_rows), in their order. ``passes`` is None for a measured
    metric (the 101 answer time, which has the seconds instead of a rate); written blank, as no data is."""
    table = pd.DataFrame(
        {
            c: pd.Series([r[c] for r in rows], dtype=object if c == "passes" else None)
            for c in INCIDENT_METRIC_COLUMNS
        }
    )
    write_table_csv(table, INCIDENT_METRIC_COLUMNS, folder / "incident_metrics.csv")
    if parquet and has_pyarrow():
        write_table_parquet(table, folder / "incident_metrics.parquet")
