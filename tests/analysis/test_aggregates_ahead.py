"""A PEEL rerun's aggregates.csv with the period's rows formatted ahead (figure_rows.write_ahead, while
its worker analyses quarters): the same bytes as written at once, and written at once whenever the
rows formatted ahead would read differently (a column of another kind once the quarters join)."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.analysis import aggregate as agg
from engine.analysis import figure_rows, tables
from engine.analysis.figure_rows import COLUMNS, write_ahead, write_peel_aggregates
from tests.analysis.sample_rows import frame, row


def _table(label: str, fails: int) -> pd.DataFrame:
    rows = [row("BLK", "SS01", "pass", f"{label}-A"), row("HLM", "VC01", "pass", f"{label}-B")]
    rows += [row("RVS", "SS01", "fail", f"{label}-F{i}") for i in range(fails)]
    return agg.aggregate(frame(rows), label, with_cases=True)


def _metric_rows(label: str) -> pd.DataFrame:
    metric = {c: [""] for c in COLUMNS} | {"period": [label], "level": ["force"], "dimension": ["metric"]}
    numbers = {"n": [12], "passes": [3], "fails": [9], "rate": [0.25], "ci_low": [0.1], "ci_high": [0.5]}
    return pd.DataFrame(metric | numbers | {"median": [np.nan]})


def _write(
    folder: Path,
    whole: pd.DataFrame,
    quarters: list[pd.DataFrame],
    metrics: bool,
    ahead: bool,
    chunks: int | None = None,
) -> bytes:
    """aggregates.csv as written with or without the period's rows ahead (``chunks``: only that many
    chunks of them ahead, as while a worker is still busy)."""
    whole_rows = _metric_rows("year") if metrics else pd.DataFrame(columns=list(COLUMNS))
    quarter_rows = [
        _metric_rows(f"Q{i}") if metrics else pd.DataFrame(columns=list(COLUMNS)) for i in range(2)
    ]
    asked = []

    def busy() -> bool:
        asked.append(1)
        return chunks is None or len(asked) <= chunks

    written = write_ahead(whole, with_metrics=metrics, while_=busy) if ahead else None
    if ahead and chunks is not None:  # none ahead (None) when the worker was done at once
        assert (written.rows if written else 0) == min(len(whole), chunks * tables.CSV_CHUNK_ROWS)
        assert (written is None) == (chunks == 0)
    try:
        folder.mkdir()
        write_peel_aggregates(whole, quarters, whole_rows, quarter_rows, folder, ahead=written)
    finally:
        if written is not None:
            written.close()
    return (folder / "aggregates.csv").read_bytes()


@pytest.mark.parametrize("metrics", [True, False])
def test_the_rows_formatted_ahead_make_the_same_file(tmp_path: Path, metrics: bool) -> None:
    whole, quarters = _table("year", 3), [_table("Q1", 1), _table("Q2", 2)]
    at_once = _write(tmp_path / "at-once", whole, quarters, metrics, ahead=False)
    assert _write(tmp_path / "ahead", whole, quarters, metrics, ahead=True) == at_once
    lines = at_once.decode().splitlines()
    assert lines[0].startswith("period,level,") and sum(line.startswith("year,") for line in lines) >= len(
        whole
    )
    assert any(line.startswith("Q2,") for line in lines)


def test_rows_that_would_read_differently_once_the_quarters_join_are_written_again(tmp_path: Path) -> None:
    whole, quarters = _table("year", 3), [_table("Q1", 1), _table("Q2", 2)]
    # a quarter's whole numbers with a gap: joined, the column is one of floats ("3.000000", not "3")
    quarters[1] = quarters[1].assign(n=quarters[1]["n"].astype(float).where(quarters[1]["n"] > 1))
    at_once = _write(tmp_path / "at-once", whole, quarters, True, ahead=False)
    assert _write(tmp_path / "ahead", whole, quarters, True, ahead=True) == at_once
    assert b"\nyear," in at_once and b".000000," in at_once.split(b"\nQ1,")[0]


@pytest.mark.parametrize("chunks", [0, 1, 2, 99])
def test_only_the_chunks_formatted_while_the_worker_was_busy_are_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: int
) -> None:
    monkeypatch.setattr(tables, "CSV_CHUNK_ROWS", 4)
    whole, quarters = _table("year", 7), [_table("Q1", 1), _table("Q2", 2)]
    assert len(whole) > 8
    at_once = _write(tmp_path / "at-once", whole, quarters, True, ahead=False)
    assert _write(tmp_path / "ahead", whole, quarters, True, ahead=True, chunks=chunks) == at_once


def test_a_temporary_folder_that_cannot_be_written_leaves_every_row_to_be_written_with_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _table("year", 3)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(figure_rows.tempfile, "TemporaryFile", full)
    assert write_ahead(whole, with_metrics=True) is None
    monkeypatch.undo()
    monkeypatch.setattr(figure_rows, "write_csv_rows", full)
    assert write_ahead(whole, with_metrics=True) is None
    monkeypatch.undo()
    quarters = [_table("Q1", 1), _table("Q2", 2)]
    at_once = _write(tmp_path / "at-once", whole, quarters, True, ahead=False)
    monkeypatch.setattr(figure_rows.tempfile, "TemporaryFile", full)
    assert _write(tmp_path / "none-ahead", whole, quarters, True, ahead=True) == at_once
