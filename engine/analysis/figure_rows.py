"""The declared metrics' figures as rows of aggregates.csv (dimension ``metric``), after the reviewed
cases' rows, in the same columns plus four that only they fill: ``kind``, ``unit``, ``covers`` (the
period the figure is for: the week, or the latest closed month, quarter or year, or the points
pooled) and ``median`` (a time's). docs/outputs.md "aggregates.csv" says what each row counts.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from engine.analysis.aggregate import AGGREGATE_COLUMNS, FORCE_KEY, FULL_COVERAGE_LEVELS
from engine.analysis.figures import Metrics
from engine.analysis.tables import has_pyarrow, write_csv_rows, write_table_csv, write_table_parquet
from engine.core.errors import ReportError

#: the columns only the metric rows fill
FIGURE_COLUMNS: tuple[str, ...] = ("kind", "unit", "covers", "median")
#: aggregates.csv's columns once metric rows may be in it
COLUMNS: tuple[str, ...] = (*AGGREGATE_COLUMNS, "cases", *FIGURE_COLUMNS)
_LEVELS = {"force": 0, "place": 1, "team": 2}


def unit_of(metric: Any) -> str:
    """What a metric's figure is in: 'days' (a share of them), 'minutes', 'per 1,000 population',
    'respondents', or what is counted ('homicides') for a count without exposure or an event."""
    if metric.kind == "count" and metric.exposure and metric.exposure != "none" and metric.per:
        whom = "FTE" if metric.exposure == "fte" else str(metric.exposure)
        return f"per {float(metric.per):,.0f} {whom}"
    if metric.kind == "survey":
        return "respondents"
    return str(metric.unit or "")


def figure_rows(span: pd.DataFrame, label: str, metrics: Metrics, extracts: dict[str, str]) -> pd.DataFrame:
    """The period's figures (figures.span_figures) as aggregates.csv rows: the force, each place, each
    team; by metric within each. ``n`` what was counted (denominators, respondents, values timed, the
    count, events), ``passes``/``fails`` the numerator and the rest for a proportion or survey share,
    ``rate`` the figure (share, mean time, rate per ``per``, or events), ``ci_low``/``ci_high`` its
    95% interval, ``ruleset`` the extract that declares the metric (``extracts``: {metric: extract})."""
    if span is None or span.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    table = span.assign(_level=span["level"].map(_LEVELS)).sort_values(
        ["_level", "place", "team", "metric"], kind="stable"
    )
    shares = table["kind"].isin(("proportion", "survey")).to_numpy()
    n = table["n"].to_numpy(dtype=np.float64)
    k = np.rint(table["k"].to_numpy(dtype=np.float64))
    level = table["level"].to_numpy()
    out = pd.DataFrame(
        {
            "period": label,
            "level": level,
            "place": np.where(level == "force", "", table["place"].to_numpy()),
            "key": np.where(level == "team", table["team"].to_numpy(), table["place"].to_numpy()),
            "dimension": "metric",
            "ruleset": [extracts.get(m, "") for m in table["metric"]],
            "dimension_key": table["metric"].to_numpy(),
            "n": np.rint(n).astype(np.int64),
            "passes": pd.Series(
                [int(x) if s else None for x, s in zip(k, shares, strict=True)], dtype=object
            ),
            "fails": pd.Series(
                [int(a - b) if s else None for a, b, s in zip(np.rint(n), k, shares, strict=True)],
                dtype=object,
            ),
            "rate": table["value"].to_numpy(dtype=np.float64),
            "ci_low": table["ci_low"].to_numpy(dtype=np.float64),
            "ci_high": table["ci_high"].to_numpy(dtype=np.float64),
            "cases": "",
            "kind": table["kind"].to_numpy(),
            "unit": [unit_of(metrics[m]) for m in table["metric"]],
            "covers": table["period"].to_numpy(),
            "median": table["median"].to_numpy(dtype=np.float64),
        }
    )
    out.loc[out["key"] == "", "key"] = FORCE_KEY
    return out.reset_index(drop=True)


def with_figures(table: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The reviewed cases' aggregate table followed by the metric rows, in COLUMNS (the figure
    columns blank on the reviewed rows)."""
    if rows is None or rows.empty:
        return table
    base = table.copy()
    for c in ("cases", *FIGURE_COLUMNS):
        if c not in base.columns:
            base[c] = "" if c != "median" else math.nan
    if "cases" in table.columns:
        base["cases"] = table["cases"]
    return pd.concat([base[list(COLUMNS)], rows[list(COLUMNS)]], ignore_index=True)


@dataclass(frozen=True)
class ReviewedAhead:
    """The first rows of aggregates.csv's reviewed part (a PEEL period's whole table, or its first
    chunks) formatted ahead of the rest, as write_aggregates would format them: their CSV text
    without a header, in a temporary file (closed with this), with the columns and dtype kinds they
    were formatted by."""

    text: IO[bytes]
    rows: int
    columns: tuple[str, ...]
    kinds: tuple[str, ...]

    def fits(self, table: pd.DataFrame, columns: Sequence[str]) -> bool:
        """Whether these are the first rows of ``table`` as it is written in ``columns``: the same
        columns, of the same kinds (a cell's text depends on its value and its column's kind)."""
        return (
            tuple(columns) == self.columns
            and len(table) >= self.rows
            and tuple(table[c].dtype.kind for c in columns) == self.kinds
        )

    def close(self) -> None:
        self.text.close()


def write_ahead(
    table: pd.DataFrame, *, with_metrics: bool, while_: Callable[[], bool] | None = None
) -> ReviewedAhead | None:
    """``table``'s rows as write_aggregates will write them at the head of aggregates.csv's reviewed
    rows (with_metrics: whether metric rows will follow), into a temporary file: what a PEEL rerun
    formats while its worker still analyses quarters. With ``while_``, only the first chunks of rows,
    for as long as it says to go on (the rest are written with the others). None when no row was
    written ahead: ``while_`` said stop at once (no worker busy), or the temporary file cannot be
    written (a full or read-only temporary folder), every row then being written with the others,
    where a failure is reported."""
    frame, columns = _reviewed(table, with_metrics)
    try:
        text = tempfile.TemporaryFile()
    except OSError:
        return None
    try:
        wrapper = io.TextIOWrapper(text, encoding="utf-8", newline="")
        rows = write_csv_rows(frame, columns, wrapper, while_=while_)
        wrapper.flush()
        wrapper.detach()
    except OSError:
        text.close()
        return None
    except BaseException:
        text.close()
        raise
    if not rows:
        text.close()
        return None
    return ReviewedAhead(text, rows, tuple(columns), tuple(frame[c].dtype.kind for c in columns))


def _reviewed(table: pd.DataFrame, with_metrics: bool) -> tuple[pd.DataFrame, list[str]]:
    """The reviewed rows as written, and in which columns: all of COLUMNS (the figure columns blank)
    when metric rows follow, else only those of AGGREGATE_COLUMNS and "cases" the table has."""
    if not with_metrics:
        return table, [c for c in (*AGGREGATE_COLUMNS, "cases") if c in table.columns]
    blank = table.assign(**{c: np.nan for c in FIGURE_COLUMNS})  # NaN is written blank, a column at once
    if "cases" not in blank.columns:
        blank["cases"] = np.nan
    return blank, list(COLUMNS)


def write_aggregates(
    table: pd.DataFrame,
    rows: pd.DataFrame,
    path: Path,
    *,
    parquet: Path | None = None,
    ahead: ReviewedAhead | None = None,
) -> None:
    """aggregates.csv: the reviewed cases' rows, then the metric rows (with ``parquet``, also that
    Parquet file when pyarrow is installed). Without metric rows, the file is as it always was.
    ``ahead``: the first reviewed rows already formatted (write_ahead), used when they fit.

    The reviewed rows are written as tables.write_table_csv always writes them (a year's are
    hundreds of thousands, formatted a typed column at a time), the four figure columns blank, and
    the metric rows after them: one file, replaced atomically."""
    with_metrics = rows is not None and not rows.empty
    frame, columns = _reviewed(table, with_metrics)
    if ahead is not None and not ahead.fits(frame, columns):
        ahead = None
    if not with_metrics and ahead is None:
        write_table_csv(frame, columns, path)
    else:
        _write_parts(frame, rows if with_metrics else None, columns, path, ahead)
    if parquet is not None and has_pyarrow():
        write_table_parquet(with_figures(table, rows), parquet)


def _write_parts(
    frame: pd.DataFrame,
    rows: pd.DataFrame | None,
    columns: list[str],
    path: Path,
    ahead: ReviewedAhead | None,
) -> None:
    """aggregates.csv joined from its parts: the header and the reviewed rows not written ahead,
    the rows written ahead (put after the header), then the metric rows (their header dropped)."""
    reviewed, metric = path.with_name(path.name + ".reviewed"), path.with_name(path.name + ".metric")
    try:
        write_table_csv(frame.iloc[ahead.rows :] if ahead is not None else frame, columns, reviewed)
        if rows is not None:
            write_table_csv(rows, columns, metric)
        joined = path.with_name(path.name + ".tmp")
        with open(joined, "wb") as out, open(reviewed, "rb") as head:
            out.write(head.readline())
            if ahead is not None:
                ahead.text.seek(0)
                shutil.copyfileobj(ahead.text, out, 1 << 20)
            shutil.copyfileobj(head, out, 1 << 20)
            if rows is not None:
                with open(metric, "rb") as tail:
                    tail.readline()  # its header row is the reviewed part's
                    shutil.copyfileobj(tail, out, 1 << 20)
        os.replace(joined, path)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        for part in (reviewed, metric):
            part.unlink(missing_ok=True)


def coarse_rows(table: pd.DataFrame) -> pd.DataFrame:
    """A table's rows at force, division and place level: what a PEEL rerun writes and reports of a
    quarter (its team and officer cells are too thin to read: 19 in 20 of a year's quarter's rows)."""
    return table[table["level"].isin(FULL_COVERAGE_LEVELS).to_numpy()]


def write_peel_aggregates(
    whole: pd.DataFrame,
    quarter_tables: Sequence[pd.DataFrame],
    whole_rows: pd.DataFrame,
    quarter_rows: Sequence[pd.DataFrame],
    folder: Path,
    *,
    ahead: ReviewedAhead | None = None,
) -> None:
    """A PEEL rerun's aggregates.csv (and .parquet with pyarrow): the period at every level, then each
    quarter at force, division and place level (tables.write_aggregates_with_quarters), then the
    metric rows of the period (force, places, teams) and of each quarter (force and places).
    ``ahead``: write_ahead(whole), when the period's rows were formatted before the quarters'."""
    coarse = [coarse_rows(t) for t in quarter_tables]
    rows = [whole_rows, *(coarse_rows(r) for r in quarter_rows)]
    rows = [r for r in rows if r is not None and not r.empty]
    metric_rows = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(COLUMNS))
    reviewed = pd.concat([whole, *coarse], ignore_index=True)
    write_aggregates(
        reviewed, metric_rows, folder / "aggregates.csv", parquet=folder / "aggregates.parquet", ahead=ahead
    )
