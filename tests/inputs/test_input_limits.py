"""Bounded parsing of submissions beyond the csv module's own limit (issue 20): a row width, a cell
length, a line length and a JSON nesting depth, each one clear problem at its file, row and column
(exit 3), never a line per column, a traceback or memory without end."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.core.config import Settings
from engine.inputs.limits import MAX_CELL_CHARACTERS, MAX_COLUMNS, MAX_JSON_DEPTH, MAX_LINE_CHARACTERS
from tests.inputs.submission_rows import problems_of, ss_rows, write_csv, write_json, write_xlsx

LONG = "x" * (MAX_CELL_CHARACTERS + 1)
TOO_LONG = (
    f"the cell is {MAX_CELL_CHARACTERS + 1:,} characters long, more than the {MAX_CELL_CHARACTERS:,} a cell "
    "may hold (as in Excel): shorten it"
)


@pytest.mark.usefixtures("database")  # submit opens the database before reading
def test_a_100k_column_header_is_one_problem_and_exit_3(settings: Settings, tmp_path: Path) -> None:
    # it printed 100,000 lines, one unknown column each
    path = tmp_path / "wide.csv"
    path.write_text(
        ",".join(f"c{i}" for i in range(100_000)) + "\n" + "x," * 99_999 + "x\n", encoding="utf-8"
    )
    assert problems_of([path]) == [
        f"{path}:1: the header has 100,000 columns, more than the {MAX_COLUMNS:,} a submission may have: "
        "is this the right file?"
    ]
    result = CliRunner().invoke(app, ["--database", settings.database_url, "submit", str(path)])
    assert result.exit_code == 3
    assert len(result.output.splitlines()) < 5, result.output


@pytest.mark.parametrize("kind", ["csv", "xlsx", "json"])
def test_a_cell_longer_than_excel_allows_is_refused_at_its_row_and_column(tmp_path: Path, kind: str) -> None:
    rows = ss_rows(3)
    rows[1]["notes"] = LONG
    rows[2]["grounds_recorded"] = LONG  # a required answer: not reported again as blank
    if kind == "csv":
        path, first = write_csv(tmp_path / "long.csv", rows), 3
    elif kind == "xlsx":  # openpyxl cuts a cell to Excel's limit: the file is edited as another writer's
        rows[1]["notes"] = rows[2]["grounds_recorded"] = "@@long@@"
        path, first = _with_long_strings(write_xlsx(tmp_path / "long.xlsx", rows)), 3
    else:
        path, first = write_json(tmp_path / "long.json", rows), 2
    assert problems_of([path]) == [
        f"{path}:{first}:notes: {TOO_LONG}",
        f"{path}:{first + 1}:grounds_recorded: {TOO_LONG}",
    ]


def _with_long_strings(path: Path) -> Path:
    """The workbook with each "@@long@@" text replaced by LONG, as a writer without Excel's limit may."""
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    for name, data in parts.items():
        parts[name] = data.replace(b"@@long@@", LONG.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    return path


def test_a_cell_just_within_the_limit_is_stored_whole(tmp_path: Path) -> None:
    from tests.inputs.submission_rows import load

    note = "y" * MAX_CELL_CHARACTERS
    [valid] = load([write_csv(tmp_path / "ok.csv", ss_rows(1, notes=note))])
    assert valid.answers["notes"] == note


def test_a_file_without_line_breaks_is_refused_at_its_line_not_read_whole(tmp_path: Path) -> None:
    rows = ss_rows(1)
    path = write_csv(tmp_path / "one-line.csv", rows)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("z" * (MAX_LINE_CHARACTERS + 10))
    assert problems_of([path]) == [
        f"{path}:3: line 3 is longer than {MAX_LINE_CHARACTERS:,} characters, more than any row of a "
        "submission can be: is this a CSV file? Nothing after it was read"
    ]


def test_a_header_with_an_overlong_name_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "name.csv"
    path.write_text(f"assessment_id,{LONG}\nQA-1,x\n", encoding="utf-8")
    assert problems_of([path]) == [f"{path}:1: {TOO_LONG} (a column name in the header)"]


def test_an_xlsx_header_wider_than_any_submission_is_one_problem(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([f"c{i}" for i in range(MAX_COLUMNS + 1)])
    sheet.append(["x"] * (MAX_COLUMNS + 1))
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    assert problems_of([path]) == [
        f"{path}:1: the header has {MAX_COLUMNS + 1:,} columns, more than the {MAX_COLUMNS:,} a submission "
        "may have: is this the right file?"
    ]


def test_a_json_object_wider_than_any_submission_is_one_problem(tmp_path: Path) -> None:
    rows = ss_rows(2)
    rows[1] = {**rows[1], **{f"c{i}": "x" for i in range(MAX_COLUMNS)}}
    path = write_json(tmp_path / "wide.json", rows)
    assert problems_of([path]) == [
        f"{path}:2: the object has {len(rows[1]):,} columns, more than the {MAX_COLUMNS:,} a submission may "
        "have: is this the right file?"
    ]


@pytest.mark.usefixtures("database")  # submit opens the database before reading
def test_json_nested_without_end_is_one_problem_at_its_line_and_column(
    settings: Settings, tmp_path: Path
) -> None:
    # 'not usable JSON: maximum recursion depth exceeded while decoding a JSON array from a unicode string'
    path = tmp_path / "deep.json"
    path.write_text('[{"notes": ' + "[" * 100_000 + "]" * 100_000 + "}]", encoding="utf-8")
    assert problems_of([path]) == [
        f"{path}: not usable JSON: nested more than {MAX_JSON_DEPTH} levels deep at line 1 column "
        f"{12 + MAX_JSON_DEPTH - 2}; a submission is a list of objects, each of single values"
    ]
    result = CliRunner().invoke(app, ["--database", settings.database_url, "submit", str(path)])
    assert result.exit_code == 3 and "Traceback" not in result.output


def test_json_nested_within_the_parser_s_reach_is_named_value_by_value(tmp_path: Path) -> None:
    rows = ss_rows(1)
    path = tmp_path / "nested.json"
    rows_json = json.dumps(rows)
    path.write_text(rows_json.replace('"notes": ""', '"notes": ' + "[" * 100 + "]" * 100), encoding="utf-8")
    assert problems_of([path]) == [f"{path}:1:notes: must be a single value, not a list or object"]
