"""engine.analysis.tables: the aggregate table as CSV for BI tools (fixed columns, 6-decimal rates,
blank for no data, deterministic)."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.analysis import aggregate as agg
from engine.analysis import tables
from engine.analysis.tables import write_aggregates_csv, write_rows_csv, write_table_csv, write_table_parquet
from tests.analysis.sample_rows import SS, frame, row


def test_csv_for_bi_tools(tmp_path: Path) -> None:
    rows = [row("BLK", "SS01", "pass", "A"), row("BLK", "SS01", "fail", "B")]
    table = agg.aggregate(frame(rows), "2026-W47", with_cases=True)
    out = tmp_path / "aggregates.csv"
    write_aggregates_csv(table, out)
    first = out.read_bytes()
    write_aggregates_csv(table, out)
    assert out.read_bytes() == first
    with open(out, encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert list(lines[0]) == [*agg.AGGREGATE_COLUMNS, "cases"]
    assert lines[0] == {
        "period": "2026-W47",
        "level": "force",
        "place": "",
        "key": "FORCE",
        "dimension": "criterion",
        "ruleset": SS,
        "dimension_key": "SS01",
        "n": "2",
        "passes": "1",
        "fails": "1",
        "rate": "0.500000",
        "ci_low": "0.094531",
        "ci_high": "0.905469",
        "cases": "B",
    }
    no_data = next(r for r in lines if r["dimension"] == "measure" and r["dimension_key"] == "M1")
    assert (no_data["n"], no_data["rate"], no_data["ci_low"]) == ("0", "", "")


def test_parquet_for_bi_tools_keeps_case_refs_as_lists(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    rows = [row("BLK", "SS01", "pass", "A"), row("BLK", "SS01", "fail", "B"), row("BLK", "SS03", "fail", "B")]
    table = agg.aggregate(frame(rows), "2026-W47", with_cases=True)
    write_table_parquet(table, tmp_path / "aggregates.parquet")
    back = pd.read_parquet(tmp_path / "aggregates.parquet")
    assert list(back.columns) == [*agg.AGGREGATE_COLUMNS, "cases"] and len(back) == len(table)
    cell = back[
        (back["level"] == "force") & (back["dimension"] == "measure") & (back["dimension_key"] == "D11")
    ]
    assert [list(c) for c in cell["cases"]] == [["B"]]
    assert isinstance(table["cases"].iloc[0], tuple)  # the table itself is left as it was


def test_text_cells_are_inert_and_numbers_stay_numbers(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "key": ["=Team", "+PC 1", "Response A"],
            "rate": [-0.5, 0.25, float("nan")],
            "n": [-3, 4, 5],
            "mixed": [-0.25, "@ref", None],
            "cases": [("=CR1", "CR2"), ("-CR3",), ()],
        }
    )
    out = tmp_path / "t.csv"
    write_table_csv(table, list(table.columns), out)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "key,rate,n,mixed,cases",
        "'=Team,-0.500000,-3,-0.250000,'=CR1;CR2",
        "'+PC 1,0.250000,4,'@ref,'-CR3",
        "Response A,,5,,",
    ]


def test_plain_rows_are_written_with_inert_text_and_a_header_even_when_empty(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    rows = [
        {"case_ref": '=HYPERLINK("x")', "n": 3, "note": "-2+3 said the officer"},
        {"case_ref": "CR-1", "n": -1, "note": "@home, fine"},
    ]
    write_rows_csv(rows, ("case_ref", "n", "note"), out)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "case_ref,n,note",
        '"\'=HYPERLINK(""x"")",3,\'-2+3 said the officer',
        'CR-1,-1,"\'@home, fine"',
    ]
    write_rows_csv([], ("case_ref", "n"), out)
    assert out.read_text(encoding="utf-8") == "case_ref,n\n"


def _long_table(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [f"K{i % 300}" for i in range(n)],
            "n": np.arange(n),
            "rate": np.linspace(0, 1, n),
            "cases": [tuple(f"CF-{i}-{j}" for j in range(i % 4)) for i in range(n)],
        }
    )


def test_a_long_table_is_written_a_chunk_of_rows_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PEEL year's aggregates.csv has ~90,000 rows: formatted at once, its cells held 48 MB (in a
    forked worker, 100 MB). A chunk of rows at a time, what writing holds does not grow with the
    table, and the file is the same whatever the chunk."""
    columns = ["key", "n", "rate", "cases"]

    def peak(table: pd.DataFrame) -> int:
        tracemalloc.start()
        try:
            write_table_csv(table, columns, tmp_path / "long.csv")
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak(_long_table(10 * tables.CSV_CHUNK_ROWS)) < 2 * peak(_long_table(2 * tables.CSV_CHUNK_ROWS))
    table = _long_table(100)
    write_table_csv(table, columns, tmp_path / "at_once.csv")
    monkeypatch.setattr(tables, "CSV_CHUNK_ROWS", 7)
    write_table_csv(table, columns, tmp_path / "chunked.csv")
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "at_once.csv").read_bytes()
    lines = (tmp_path / "chunked.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 101 and lines[8] == "K7,7,0.070707,CF-7-0;CF-7-1;CF-7-2"


def test_records_are_plain_python_values_with_none_for_every_kind_of_blank() -> None:
    table = pd.DataFrame(
        {
            "n": [1, 2, 3],
            "rate": [0.5, np.nan, 1.0],
            "text": pd.array(["x", None, "z"], dtype="string"),
            "when": pd.to_datetime(["2026-01-05", None, "2026-01-07"]),
            "flag": [True, False, True],
            "level": pd.Categorical(["place", "team", None]),
            "mixed": [None, "s", 3],
            "count": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    rows = tables.records(table)
    assert rows[1] == {
        "n": 2, "rate": None, "text": None, "when": None, "flag": False, "level": "team", "mixed": "s", "count": None
    }  # fmt: skip
    assert rows[0]["when"] == pd.Timestamp("2026-01-05")
    # Python's own numbers, as a JSON encoder or a plain comparison expects, not numpy's
    assert [type(rows[0][k]) for k in ("n", "rate", "flag", "count")] == [int, float, bool, int]
    assert tables.records(table.iloc[:0]) == []
    assert tables.records(pd.DataFrame(index=range(2))) == [{}, {}]
