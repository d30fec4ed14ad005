"""engine.inputs.submission_files: reading CSV, XLSX and JSON submissions (encodings, layouts, formulas,
sheets) and naming each broken file precisely (truncated, badly quoted, wrong shape or type).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.core.errors import SubmissionError
from engine.inputs import submission_files
from engine.inputs.submission_files import read_submission
from tests.factories import build_row
from tests.inputs.submission_rows import (
    load,
    open_sheet,
    problems_of,
    ss_rows,
    write_csv,
    write_json,
    write_xlsx,
)

# --------------------------------------------------------------------------- encodings and layout


def test_utf8_with_bom_reads_the_first_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", ss_rows(2), encoding="utf-8-sig")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert [v.assessment_id for v in load([path])] == ["SS-0001", "SS-0002"]


def test_one_stray_latin1_byte_in_a_utf8_file_is_refused_at_its_row_and_column(tmp_path: Path) -> None:
    # decoding the whole file as Windows-1252 stored every 'é' of the file as 'Ã©', silently
    rows = ss_rows(3, notes="Café owner")
    rows[2]["team"] = "Response Z"
    path = write_csv(tmp_path / "week.csv", rows)
    team = list(rows[0]).index("team") + 1
    path.write_bytes(path.read_bytes().replace(b",Response Z,", b",Response \xe9,"))
    assert b"Caf\xc3\xa9" in path.read_bytes()
    assert problems_of([path]) == [
        f"{path}:4: column {team} (team): not UTF-8 (byte 0xe9): save the file as UTF-8 (CSV UTF-8 in Excel)"
    ]
    with pytest.raises(SubmissionError):
        load([path])


def test_a_windows_1252_file_is_refused_not_guessed(tmp_path: Path) -> None:
    # Excel's plain "CSV" on Windows: such files used to be decoded as cp1252, and so was any UTF-8
    # file with one byte that is not UTF-8; the rule is now UTF-8 only (docs/submissions.md)
    rows = ss_rows(2, notes="Paid £20 – café owner’s CCTV")
    path = write_csv(tmp_path / "win.csv", rows, encoding="cp1252")
    notes = list(rows[0]).index("notes") + 1
    assert problems_of([path]) == [
        f"{path}:2: column {notes} (notes): not UTF-8 (byte 0xa3): save the file as UTF-8 (CSV UTF-8 in Excel)"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"assessment_id;t\xe9am\n", "1: column 2", id="in-the-header"),
        pytest.param(
            b'\xef\xbb\xbfassessment_id;team\n\nSS-1;"two\nlines"\nSS-2;ok\nSS-3;\xff\n',
            "5: column 2 (team)",
            id="bom-semicolons-blank-and-multiline-rows",
        ),
        pytest.param(b"assessment_id,team\n\x81", "2: column 1 (assessment_id)", id="first-byte-of-a-row"),
        pytest.param(b"assessment_id,team\nSS-1,caf\xc3", "2: column 2 (team)", id="cut-short-sequence"),
    ],
)
def test_the_first_byte_that_is_not_utf8_is_located(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    body = content.removeprefix(b"\xef\xbb\xbf")
    bad = re.search(rb"[\x80-\xff]", body)
    assert bad is not None
    assert problems_of([path]) == [
        f"{path}:{expected}: not UTF-8 (byte 0x{body[bad.start()]:02x}): "
        "save the file as UTF-8 (CSV UTF-8 in Excel)"
    ]


def _json_rows(tmp_path: Path, edits: Mapping[tuple[int, str], str]) -> Path:
    """Three valid stop-search rows as JSON, with some values replaced by raw JSON text."""
    rows: list[dict[str, Any]] = [dict(r) for r in ss_rows(3)]
    for (index, field), _ in edits.items():
        rows[index - 1][field] = f"@@{index}{field}@@"
    text = json.dumps(rows, indent=1)
    for (index, field), raw in edits.items():
        text = text.replace(f'"@@{index}{field}@@"', raw)
    path = tmp_path / "week.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


def test_a_json_file_that_is_not_utf8_is_refused_at_its_row_and_field(tmp_path: Path) -> None:
    path = _json_rows(tmp_path, {(2, "team"): '"Caf\udce9"'})  # the byte 0xe9, as Latin-1 writes 'é'
    assert path.read_bytes().count(b"Caf\xe9") == 1
    assert problems_of([path]) == [f"{path}:2:team: not UTF-8 (byte 0xe9): save the file as UTF-8"]


def test_a_json_byte_that_is_not_utf8_outside_any_string_is_located_by_line_and_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "week.json"
    path.write_bytes(b'[\n {"assessment_id": "SS-1",\n  "team": 1\xe9}\n]\n')
    assert problems_of([path]) == [
        f"{path}: not UTF-8 (byte 0xe9) at line 3 column 12: save the file as UTF-8"
    ]


def test_a_json_key_written_twice_in_one_object_is_refused(tmp_path: Path) -> None:
    # json.loads kept the last of the two silently: 'Second' was stored and 'First' lost
    path = _json_rows(tmp_path, {(3, "team"): '"First", "team": "Second"'})
    assert problems_of([path]) == [f"{path}:3:team: column appears twice in this object"]


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400", "-2E+999"])
def test_a_json_number_that_is_not_finite_is_refused(tmp_path: Path, raw: str) -> None:
    # stored as the text 'nan' or 'inf' before
    path = _json_rows(tmp_path, {(1, "notes"): raw, (3, "team"): raw})
    message = f"{raw} is not a number that can be stored: write a finite number, or leave it blank"
    assert problems_of([path]) == [f"{path}:1:notes: {message}", f"{path}:3:team: {message}"]


def test_a_json_lone_surrogate_is_refused_not_a_traceback(tmp_path: Path) -> None:
    # '\ud800' parses to a str that cannot be encoded: hashing the row raised UnicodeEncodeError
    path = _json_rows(
        tmp_path, {(2, "notes"): '"cut \\ud800 here"', (3, "notes"): '"pair \\ud83d\\ude00 ok"'}
    )
    assert problems_of([path]) == [
        f"{path}:2:notes: contains \\ud800, half of a UTF-16 surrogate pair without its other half: "
        "not a character (is the text cut short?)"
    ]
    assert "\\ud83d\\ude00" in path.read_text(encoding="utf-8")


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_numbers(tmp_path: Path) -> None:
    buffer = io.StringIO()
    rows = ss_rows(2)
    writer = csv.writer(buffer)
    writer.writerow(list(rows[0]))
    writer.writerow(list(rows[0].values()))
    buffer.write("\r\n" + "," * (len(rows[0]) - 1) + "\r\n  \r\n")
    writer.writerow([*list(rows[1].values())[:10], "Y", *list(rows[1].values())[11:]])
    path = tmp_path / "gaps.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert problems_of([path]) == [f"{path}:6:grounds_recorded: 'Y' is not one of yes, no"]


def test_header_names_are_trimmed_and_case_insensitive(tmp_path: Path) -> None:
    rows = ss_rows(1)
    path = tmp_path / "hdr.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([f" {c.upper()} " for c in rows[0]])
        writer.writerow(list(rows[0].values()))
    assert load([path])[0].assessment_id == "SS-0001"


def test_semicolon_separated_csv(tmp_path: Path) -> None:
    rows = ss_rows(1)
    path = tmp_path / "semi.csv"
    path.write_text(";".join(rows[0]) + "\n" + ";".join(rows[0].values()) + "\n", encoding="utf-8")
    assert load([path])[0].assessment_id == "SS-0001"


def test_excel_dates_stored_as_numbers(tmp_path: Path) -> None:
    rows = ss_rows(1)
    path = write_xlsx(tmp_path / "serial.xlsx", rows)
    workbook, sheet, header = open_sheet(path)
    sheet.cell(row=2, column=header.index("case_date") + 1).value = 46342  # 2026-11-16 as a General number
    sheet.cell(row=2, column=header.index("assessed_on") + 1).value = 46363.0
    workbook.save(path)
    [valid] = load([path])
    assert (valid.case_date, valid.assessed_on) == (dt.date(2026, 11, 16), dt.date(2026, 12, 7))
    csv_path = write_csv(tmp_path / "serial.csv", [{**rows[0], "case_date": "46342", "assessed_on": "46363"}])
    assert load([csv_path])[0].content_hash == valid.content_hash


# --------------------------------------------------------------------------- XLSX specifics


def _set_cached_values(path: Path, cached: Mapping[str, str]) -> None:
    """Give formula cells a saved result, as Excel or LibreOffice would (openpyxl writes none)."""
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    for ref, value in cached.items():
        xml, n = re.subn(
            rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/?>(?:</v>)?',
            rf'<c r="{ref}"\1 t="str"><f>\2</f><v>{value}</v>',
            xml,
        )
        assert n == 1, ref
    parts["xl/worksheets/sheet1.xml"] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)


def _xlsx_with_formulas(tmp_path: Path) -> tuple[Path, list[str]]:
    rows = ss_rows(2)
    path = write_xlsx(tmp_path / "formulas.xlsx", rows)
    workbook, sheet, header = open_sheet(path)
    letter = openpyxl.utils.get_column_letter(header.index("bwv_activated") + 1)
    sheet[f"{letter}2"] = '=IF(1=1,"yes","no")'
    sheet[f"{letter}3"] = '=LOWER("NO")'
    workbook.save(path)
    return path, [f"{letter}2", f"{letter}3"]


def test_xlsx_formulas_use_their_saved_values(tmp_path: Path) -> None:
    path, cells = _xlsx_with_formulas(tmp_path)
    _set_cached_values(path, {cells[0]: "yes", cells[1]: "no"})
    valid = load([path])
    assert [v.answers["bwv_activated"] for v in valid] == ["yes", "no"]


def test_xlsx_formula_without_a_saved_value_is_reported(tmp_path: Path) -> None:
    path, _ = _xlsx_with_formulas(tmp_path)
    problems = problems_of([path])
    assert problems == [
        f'{path}:2:bwv_activated: formula =IF(1=1,"yes","no") has no saved value: open the file in Excel or '
        "LibreOffice and save it again, or paste the values",
        f'{path}:3:bwv_activated: formula =LOWER("NO") has no saved value: open the file in Excel or '
        "LibreOffice and save it again, or paste the values",
    ]


def test_xlsx_sheet_option(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "two.xlsx", ss_rows(1))
    workbook = openpyxl.load_workbook(path)
    workbook.create_sheet("Week 47", 0)  # now the first sheet is empty
    second = workbook.create_sheet("Week 48")
    for row in write_rows_for_sheet(ss_rows(2)):
        second.append(row)
    workbook.save(path)
    assert problems_of([path]) == [f"{path}: no assessment rows found (is it the right file or sheet?)"]
    assert [v.assessment_id for v in load([path], sheet="Week 48")] == ["SS-0001", "SS-0002"]
    assert problems_of([path], sheet="Week 49") == [
        f"{path}: no sheet 'Week 49' (sheets: Week 47, Sheet, Week 48)"
    ]


def write_rows_for_sheet(rows: Sequence[Mapping[str, str]]) -> list[list[str]]:
    return [list(rows[0]), *[list(r.values()) for r in rows]]


def test_xlsx_row_numbers_count_blank_rows(tmp_path: Path) -> None:
    rows = ss_rows(2)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    data = write_rows_for_sheet(rows)
    sheet.append(data[0])
    sheet.append(data[1])
    sheet.append([])
    sheet.append([])
    bad = list(data[2])
    bad[list(rows[0]).index("object_found")] = "Found"
    for col, value in enumerate(bad, start=1):
        sheet.cell(row=5, column=col, value=value)
    path = tmp_path / "gaps.xlsx"
    workbook.save(path)
    assert problems_of([path]) == [f"{path}:5:object_found: 'Found' is not one of yes, no"]


# --------------------------------------------------------------------------- broken files


def test_truncated_csv_mid_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cut.csv", ss_rows(3))
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",pace_s1,") + 5])
    assert problems_of([path]) == [
        f"{path}:4: row has 10 values but the header has 26 columns (is the file truncated?)"
    ]


def test_truncated_csv_inside_a_quoted_note(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cutq.csv", ss_rows(2, notes="a long, quoted note"))
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"quoted")])
    assert problems_of([path]) == [
        f"{path}:3: cannot read CSV (unexpected end of data); the file may be truncated or badly quoted"
    ]


def test_row_with_too_many_values(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "wide.csv", ss_rows(2))
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] += ",surplus"
    lines[2] += ",,"  # trailing empty fields are harmless
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert problems_of([path]) == [f"{path}:2: row has 27 values but the header has 26 columns"]


def test_truncated_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "cut.xlsx", ss_rows(50))
    path.write_bytes(path.read_bytes()[:-300])
    [problem] = problems_of([path])
    assert problem.startswith(f"{path}: not a readable XLSX file (BadZipFile")
    assert problem.endswith("is it truncated or corrupt?")


def test_truncated_json(tmp_path: Path) -> None:
    path = write_json(tmp_path / "cut.json", ss_rows(3))
    path.write_text(path.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    [problem] = problems_of([path])
    assert problem.startswith(f"{path}: not valid JSON: ")
    assert problem.endswith("(the file may be truncated)")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"assessment_id": "X"}', "a JSON submission must be a list of objects, one per assessment"),
        ('[["X"]]', "each item must be an object of column: value"),
        ('[{"assessment_id": "X", "notes": ["a"]}]', "must be a single value, not a list or object"),
    ],
)
def test_json_shape_problems(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "shape.json"
    path.write_text(content, encoding="utf-8")
    assert any(p.endswith(message) for p in problems_of([path]))


def test_json_numbers_and_nulls(tmp_path: Path) -> None:
    row: dict[str, Any] = {**build_row("domestic_abuse"), "dash_yes_count": 9.0, "notes": None}
    [valid] = load([write_json(tmp_path / "n.json", [row, {}])])
    assert valid.answers["dash_yes_count"] == 9 and "notes" not in valid.answers
    assert valid.raw["dash_yes_count"] == "9" and valid.raw["notes"] == ""


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.txt", b"x", "unsupported file type '.txt'; use .csv, .xlsx or .json"),
        ("a.xls", b"x", "unsupported file type '.xls' (save it as .xlsx); use .csv, .xlsx or .json"),
        ("a.csv", b"PK\x03\x04rest", "this is a spreadsheet (XLSX), not CSV: rename it to .xlsx"),
        ("empty.csv", b"", "no assessment rows found (is it the right file or sheet?)"),
    ],
)
def test_file_type_problems(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert problems_of([path]) == [f"{path}: {message}"]


def test_missing_file(tmp_path: Path) -> None:
    assert problems_of([tmp_path / "gone.csv"]) == [
        f"{tmp_path / 'gone.csv'}: cannot read file: No such file or directory"
    ]


def test_read_submission_alone_raises_for_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(SubmissionError, match="not valid JSON"):
        read_submission(path)


def test_duplicate_header_and_unnamed_column_with_data(tmp_path: Path) -> None:
    rows = ss_rows(1)
    header = [*rows[0], "notes", ""]
    values = [*rows[0].values(), "again", "orphan"]
    path = tmp_path / "hdr.csv"
    path.write_text(",".join(header) + "\n" + ",".join(values) + "\n", encoding="utf-8")
    assert problems_of([path]) == [
        f"{path}:1:notes: column appears twice (columns 26 and 27)",
        f"{path}:2: column 28 has values but no header",
    ]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
@pytest.mark.parametrize("kind", ["csv", "json"])
def test_a_control_character_in_a_cell_is_refused_at_its_row_and_column(
    tmp_path: Path, kind: str, char: str
) -> None:
    # NUL passed on SQLite and crashed PostgreSQL's insert with a DataError traceback
    rows = ss_rows(3)
    rows[1]["team"] = f"Resp{char}onse A"
    if kind == "csv":
        path = write_csv(tmp_path / "week.csv", rows)
        where = f"{path}:3:team"
    else:
        path = tmp_path / "week.json"
        path.write_text(json.dumps(rows), encoding="utf-8")
        where = f"{path}:2:team"
    assert problems_of([path]) == [
        f"{where}: contains the control character U+{ord(char):04X} at character 5: "
        "remove it (often left by copying from another system)"
    ]
    with pytest.raises(SubmissionError):
        load([path])


def test_tabs_and_line_breaks_in_a_note_are_text(tmp_path: Path) -> None:
    note = "first line\nsecond\tline\r\nthird"
    path = write_csv(tmp_path / "week.csv", ss_rows(2, notes=note))
    assert [v.answers["notes"] for v in load([path])] == [note, note]


def test_a_pipe_device_or_folder_is_refused_at_once(not_a_file: Path) -> None:
    # a FIFO waited for a writer forever; /dev/zero grew to gigabytes in seconds
    assert problems_of([not_a_file]) == [
        f"{not_a_file}: not a regular file (a folder, pipe or device): give a saved file"
    ]


def test_a_file_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(submission_files, "MAX_FILE_BYTES", 1000)
    path = write_csv(tmp_path / "week.csv", ss_rows(20))
    assert path.stat().st_size > 1000
    [message] = problems_of([path])
    assert "MB a submission may be: split it into smaller files" in message


def test_an_xlsx_that_unzips_too_large_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bomb.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["assessment_id", "notes"])
    for i in range(20):
        workbook.active.append([f"SS-{i:04}", "x" * 30_000])  # compresses to almost nothing
    workbook.save(path)
    assert path.stat().st_size < 50_000
    monkeypatch.setattr(submission_files, "MAX_XLSX_EXPANDED_BYTES", 500_000)
    [message] = problems_of([path])
    assert "the workbook unzips to" in message and "split it into smaller files" in message


def test_a_cell_over_the_csv_limit_is_named_as_such(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "week.csv", ss_rows(2, notes="x" * 200_000))
    [message] = problems_of([path])
    assert message == (
        f"{path}:2: a cell is longer than 131,072 characters, more than any answer or note can be: "
        "is a quote left open, so that the rest of the file reads as one cell?"
    )
