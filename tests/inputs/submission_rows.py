"""Submission rows written as CSV, XLSX and JSON files and loaded back, for the submission tests."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.core.errors import SubmissionError
from engine.inputs.forms import load_forms
from engine.inputs.submissions import (
    ValidRow,
    load_submission_files,
)
from tests.factories import DEMO_PLACE_CODES, build_row

REPO = Path(__file__).resolve().parents[2]
FORMS = load_forms(REPO / "qa_forms")


def write_csv(
    path: Path,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    encoding: str = "utf-8",
) -> Path:
    columns = list(columns or rows[0])
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


def write_xlsx(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Path:
    """As a reviewer's spreadsheet: dates as date cells, counts as numbers, text kept as text."""
    columns = list(columns or rows[0])
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(columns)
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(columns, start=1):
            value = row.get(name, "")
            if value == "":
                continue
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                cell.value = dt.datetime.fromisoformat(value)
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str) and value.isdigit() and name == "dash_yes_count":
                cell.value = int(value)
            else:
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # keep '=...' as text, as Excel does in a text-formatted cell
    workbook.save(path)
    return path


def open_sheet(path: Path) -> tuple[Any, Any, list[Any]]:
    """The workbook, its first sheet and that sheet's header values, for editing a written file."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    return workbook, sheet, [c.value for c in sheet[1]]


def write_json(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    path.write_text(json.dumps(list(rows), indent=1), encoding="utf-8")
    return path


def problems_of(paths: Sequence[Path], **kwargs: Any) -> list[str]:
    with pytest.raises(SubmissionError) as info:
        load_submission_files(paths, FORMS, DEMO_PLACE_CODES, **kwargs)
    return [str(p) for p in info.value.problems]


def load(paths: Sequence[Path], **kwargs: Any) -> list[ValidRow]:
    return load_submission_files(paths, FORMS, DEMO_PLACE_CODES, **kwargs)


def ss_rows(n: int, **overrides: Any) -> list[dict[str, str]]:
    return [build_row("stop_search", assessment_id=f"SS-{i:04d}", **overrides) for i in range(1, n + 1)]
