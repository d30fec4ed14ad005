"""Rows into DataFrames: the shapes accepted (DataFrames, columns, rows, a database read's
CaseColumns), sorted categorical text and week labels per row, and how pandas keeps text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.core.periods import week_label

# pandas keeps text in Python objects whether or not pyarrow is installed (it is for Parquet, and
# pandas would then keep every text column in Arrow): the same figures at the same speed either way.
# Arrow-backed text made a PEEL year 0.45 s slower and 95 MB larger.
pd.set_option("mode.string_storage", "python")

#: the outcome rows' key columns, kept as sorted categoricals
KEY_COLUMNS = ("case_ref", "case_type", "place", "division", "team", "officer", "reviewer", "ruleset")


def week_labels(days: pd.Series) -> pd.Series:
    """Week labels for a datetime column, computed once per distinct day."""
    cat = pd.Categorical(days.dt.normalize())
    labels = [week_label(d.date()) for d in cat.categories]
    codes = np.asarray(cat.codes)
    out = np.asarray(labels, dtype=object)[codes] if labels else np.asarray([], dtype=object)
    return pd.Series(pd.Categorical(out), index=days.index)


class CaseColumns(Mapping[str, list[Any]]):
    """Outcome rows as a database read gives them: the columns that hold one value per case
    (assessment), the columns that hold one per outcome (criterion, outcome, trace), and how many
    outcomes each case has. Read as a mapping, each column has one value per outcome row; framing
    (outcomes_frame) works per case and repeats the codes, which is much quicker than framing
    every repeated value of a year's million outcome rows."""

    def __init__(
        self, per_case: dict[str, list[Any]], per_outcome: dict[str, list[Any]], counts: list[int]
    ) -> None:
        self.per_case, self.per_outcome, self.counts = per_case, per_outcome, counts
        self._expanded: dict[str, list[Any]] = {}

    def __getitem__(self, name: str) -> list[Any]:
        if name in self.per_outcome:
            return self.per_outcome[name]
        if name not in self._expanded:
            values = self.per_case[name]  # KeyError for an unknown column
            self._expanded[name] = [v for v, k in zip(values, self.counts, strict=True) for _ in range(k)]
        return self._expanded[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self.per_case, *self.per_outcome])

    def __len__(self) -> int:
        return len(self.per_case) + len(self.per_outcome)

    def frame(self) -> pd.DataFrame:
        """The outcome rows as a DataFrame, the per-case columns categorical where they are keys."""
        cases = pd.DataFrame(self.per_case)
        for column in (*KEY_COLUMNS, "ruleset_version"):
            if column in cases.columns:
                cases[column] = category(cases[column])
        if "assessed_on" in cases.columns:
            cases["assessed_on"] = pd.to_datetime(cases["assessed_on"]).astype("datetime64[s]")
            cases["week"] = week_labels(cases["assessed_on"])
        rows = np.repeat(np.arange(len(cases)), np.asarray(self.counts, dtype=np.int64))
        df = cases.take(rows).reset_index(drop=True)
        for name, values in self.per_outcome.items():
            df[name] = values
        return df


def as_frame(data: Any, required: Sequence[str], what: str) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a mapping of columns, or rows: dicts, dataclasses, or tuples
    holding the required columns in order (as a query returns them)."""
    if isinstance(data, pd.DataFrame):
        df = data.copy(deep=False)
    elif isinstance(data, CaseColumns):
        df = data.frame()
    elif isinstance(data, Mapping):
        df = pd.DataFrame(dict(data))
    else:
        rows = [_row_dict(r, required) for r in data]
        df = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=list(required))
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lack column(s) {', '.join(missing)}")
    return df


def _row_dict(row: Any, required: Sequence[str]) -> dict[str, Any]:
    if is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in fields(row)}
    if hasattr(row, "_asdict"):  # named tuples, SQLAlchemy rows
        return dict(row._asdict())
    if isinstance(row, Mapping):
        return dict(row)
    return dict(zip(required, row, strict=True))


def category(values: pd.Series) -> pd.Series:
    """Categorical text with sorted categories (so grouping sorts the way people read); missing -> ""."""
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    if cat.isna().any():
        cat = cat.cat.add_categories([""]) if "" not in cat.cat.categories else cat
        cat = cat.fillna("")
    # tolist() and a type check: iterating the categories Index boxes each of a year's 99,000 case refs
    raw = cat.cat.categories.tolist()
    names = raw if all(type(c) is str for c in raw) else [str(c) for c in raw]
    if len(set(names)) != len(names):  # e.g. 1 and "1": let the text decide
        return category(values.astype(str))
    if names is not raw:
        cat = cat.cat.rename_categories(names)
    ordered = sorted(names)
    return cat if ordered == names else cat.cat.reorder_categories(ordered)


def blank(value: object) -> bool:
    """None or NaN (what a missing key becomes when rows are framed)."""
    return value is None or (isinstance(value, float) and math.isnan(value))
