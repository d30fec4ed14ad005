"""Reading and validating reviewer submissions (CSV, XLSX, JSON): each bad input of issue 3 gets a
clear file:row:column message, every problem of every file is reported at once, and the same content
in any format or encoding normalises to the same row and hash. Storage is tested elsewhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.errors import Location, Problem, SubmissionError
from engine.core.models import CASE_TYPES, COMMON_COLUMNS, AnswerType
from engine.inputs.forms import Form, load_forms
from engine.inputs.submission_files import RawRow, read_submission
from engine.inputs.submissions import (
    ValidRow,
    canonical_content,
    content_hash,
    load_submission_files,
    validate_rows,
)
from tests.factories import DEMO_PLACE_CODES, TRAITS, build_row

REPO = Path(__file__).resolve().parents[2]
FORMS = load_forms(REPO / "qa_forms")


# --------------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------------- valid input


@pytest.mark.parametrize(
    ("case_type", "trait"),
    [(ct, None) for ct in CASE_TYPES] + [(ct, t) for ct in CASE_TYPES for t in TRAITS[ct]],
)
def test_every_factory_and_trait_builds_a_valid_row(
    tmp_path: Path, case_type: str, trait: str | None
) -> None:
    row = build_row(case_type, **({trait: True} if trait else {}))
    [valid] = load([write_csv(tmp_path / "one.csv", [row])])
    assert valid.case_type == case_type
    assert valid.answers == {
        k: (int(v) if k == "dash_yes_count" else v) for k, v in row.items() if k not in COMMON_COLUMNS and v
    }


def test_a_valid_row_keeps_raw_normalised_source_and_hash(tmp_path: Path) -> None:
    row = build_row(
        "stop_search", assessment_id=" SS-1 ", grounds_recorded="Yes ", place="blk", notes="  ok "
    )
    path = write_csv(tmp_path / "ss_week47.csv", [row])
    [valid] = load([path])
    assert (valid.assessment_id, valid.place, valid.answers["grounds_recorded"]) == ("SS-1", "BLK", "yes")
    assert valid.answers["notes"] == "  ok "
    assert valid.raw["grounds_recorded"] == "Yes " and valid.raw["assessment_id"] == " SS-1 "
    assert (valid.source_file, valid.source_row) == (str(path), 2)
    assert valid.assessed_on == dt.date(2026, 12, 7) and valid.case_date == dt.date(2026, 11, 16)
    assert valid.content_hash == content_hash(valid.canonical())
    assert valid.form_version == "1.0.0"


def test_same_content_in_every_format_and_encoding_gives_the_same_hash(tmp_path: Path) -> None:
    rows = [
        build_row("domestic_abuse", assessment_id="DA-1", notes="Cost £5 at the café", high_risk=True),
        build_row("victim_care", assessment_id="VC-1", notes="<b>bold</b>"),
    ]
    columns = list(dict.fromkeys([c for r in rows for c in r]))
    files = [
        write_csv(tmp_path / "a.csv", rows, columns),
        write_csv(tmp_path / "b.csv", rows, columns, encoding="cp1252"),
        write_csv(tmp_path / "c.csv", rows, columns, encoding="utf-8-sig"),
        write_xlsx(tmp_path / "d.xlsx", rows, columns),
        write_json(tmp_path / "e.json", rows),
    ]
    hashes = [[v.content_hash for v in load([f])] for f in files]
    assert all(h == hashes[0] for h in hashes)
    assert load([files[1]])[0].answers["notes"] == "Cost £5 at the café"


def test_hash_rebuilt_from_stored_columns_matches(tmp_path: Path) -> None:
    [a] = load([write_csv(tmp_path / "a.csv", [build_row("stop_search", assessment_id="X")])])
    stored = {c: getattr(a, c) for c in COMMON_COLUMNS}
    assert content_hash(canonical_content(stored, {**a.answers, "notes": None})) == a.content_hash
    [b] = load([write_csv(tmp_path / "b.csv", [build_row("stop_search", assessment_id="X", no_bwv=True)])])
    assert b.content_hash != a.content_hash


# --------------------------------------------------------------------------- encodings and layout


def test_utf8_with_bom_reads_the_first_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", ss_rows(2), encoding="utf-8-sig")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert [v.assessment_id for v in load([path])] == ["SS-0001", "SS-0002"]


def test_windows_1252_notes_with_pound_and_accent(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "win.csv", ss_rows(1, notes="Paid £20 – café owner’s CCTV"), encoding="cp1252"
    )
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    assert load([path])[0].answers["notes"] == "Paid £20 – café owner’s CCTV"


def test_bytes_that_are_no_text_encoding_are_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"assessment_id,case_type\n\x81\x8d\x8f\x90\x9d,x\n")
    assert problems_of([path]) == [
        f"{path}: cannot read as text (neither UTF-8 nor Windows-1252); save it again as CSV UTF-8"
    ]


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


def test_trailing_spaces_and_mixed_case_answers_are_normalised(tmp_path: Path) -> None:
    row = build_row(
        "stop_search",
        power=" S60 ",
        authorisation_recorded="Yes ",
        strip_search="NO",
        strip_search_authorised=" N/A",
        case_type=" Stop_Search ",
        reviewer=" QA Reviewer 1  ",
    )
    [valid] = load([write_csv(tmp_path / "case.csv", [row])])
    assert valid.answers["power"] == "s60" and valid.answers["authorisation_recorded"] == "yes"
    assert valid.answers["strip_search_authorised"] == "na"
    assert (valid.case_type, valid.reviewer) == ("stop_search", "QA Reviewer 1")


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


# --------------------------------------------------------------------------- row and column problems


def test_the_issue_example_message(tmp_path: Path) -> None:
    rows = ss_rows(13)
    rows[12]["grounds_recorded"] = "Y"
    path = write_csv(tmp_path / "ss_week47.csv", rows)
    assert problems_of([path]) == [f"{path}:14:grounds_recorded: 'Y' is not one of yes, no"]


def test_duplicate_assessment_id_in_one_file_names_both_rows(tmp_path: Path) -> None:
    rows = ss_rows(3)
    rows[2]["assessment_id"] = "SS-0001"
    path = write_csv(tmp_path / "dup.csv", rows)
    assert problems_of([path]) == [
        f"{path}:4:assessment_id: duplicate assessment_id 'SS-0001': also at {path} row 2"
    ]


def test_duplicate_assessment_id_across_files_of_one_invocation(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", ss_rows(1))
    b = write_json(tmp_path / "b.json", [build_row("stop_search", assessment_id="SS-0001 ")])
    assert problems_of([a, b]) == [
        f"{b}:1:assessment_id: duplicate assessment_id 'SS-0001': also at {a} row 2"
    ]


def test_unknown_case_type_and_unknown_place(tmp_path: Path) -> None:
    rows = ss_rows(2)
    rows[0]["case_type"] = "stop_serch"
    rows[1]["place"] = "XYZ"
    path = write_csv(tmp_path / "bad.csv", rows)
    assert problems_of([path]) == [
        f"{path}:2:case_type: 'stop_serch' is not a case type (did you mean 'stop_search'?)",
        f"{path}:3:place: 'XYZ' is not a place of this force (known: {', '.join(DEMO_PLACE_CODES)})",
    ]


def test_missing_required_column_is_one_problem_not_one_per_row(tmp_path: Path) -> None:
    rows = ss_rows(5)
    columns = [c for c in rows[0] if c not in ("reviewer", "power")]
    path = write_csv(tmp_path / "cols.csv", rows, columns)
    assert problems_of([path]) == [
        f"{path}:1:reviewer: missing required column",
        f"{path}:1:power: missing column required by the stop_search form",
    ]


def test_optional_or_conditional_columns_may_be_left_out(tmp_path: Path) -> None:
    rows = ss_rows(2)
    columns = [c for c in rows[0] if c not in ("notes", "authorisation_recorded", "strip_search_authorised")]
    assert len(load([write_csv(tmp_path / "short.csv", rows, columns)])) == 2


def test_extra_unknown_column_suggests_the_nearest_name(tmp_path: Path) -> None:
    rows = [{**r, "grounds_recorderd": "yes", "colour": "red"} for r in ss_rows(2)]
    path = write_csv(tmp_path / "extra.csv", rows)
    assert problems_of([path]) == [
        f"{path}:1:grounds_recorderd: unknown column (did you mean 'grounds_recorded'?)",
        f"{path}:1:colour: unknown column",
    ]


def test_answer_to_another_forms_question_is_a_problem(tmp_path: Path) -> None:
    da = build_row("domestic_abuse")
    ss = {**build_row("stop_search"), "dash_risk": "high"}
    columns = list(dict.fromkeys([*ss, *da]))
    path = write_csv(tmp_path / "mixed.csv", [ss, da], columns)
    assert problems_of([path]) == [
        f"{path}:2:dash_risk: is not a question of the stop_search form (leave it blank)"
    ]


def test_all_problems_of_all_files_at_once_and_nothing_returned(tmp_path: Path) -> None:
    a_rows = ss_rows(3)
    a_rows[0]["grounds_recorded"] = "maybe"
    a_rows[2]["case_date"] = "16/11/2026"
    b_rows = [build_row("domestic_abuse", assessment_id="DA-1", dash_yes_count="30")]
    a = write_csv(tmp_path / "a.csv", a_rows)
    b = write_json(tmp_path / "b.json", b_rows)
    with pytest.raises(SubmissionError) as info:
        load([a, b])
    assert [str(p) for p in info.value.problems] == [
        f"{a}:2:grounds_recorded: 'maybe' is not one of yes, no",
        f"{a}:4:case_date: '16/11/2026' is not a date (use YYYY-MM-DD)",
        f"{b}:1:dash_yes_count: 30 is above the maximum 27",
    ]
    assert str(info.value).startswith("nothing stored: 3 problems in 2 files")


def test_many_problems_are_capped_with_a_count(tmp_path: Path) -> None:
    rows = ss_rows(80, bwv_activated="maybe")
    with pytest.raises(SubmissionError) as info:
        load([write_csv(tmp_path / "many.csv", rows)])
    assert len(info.value.problems) == 80
    assert "... and 30 more problems" in str(info.value)


# --------------------------------------------------------------------------- notes kept exactly

NASTY_NOTES = [
    "<b>bold</b><script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","click")',
    "+44 7700 900123",
    "-2+3",
    "@SUM(A1)",
    'line one\nline two, "quoted"',
    "  leading and trailing  ",
]


@pytest.mark.parametrize("writer", [write_csv, write_xlsx, write_json])
def test_notes_with_markup_and_formula_prefixes_are_kept_exactly(tmp_path: Path, writer: Any) -> None:
    rows = [build_row("stop_search", assessment_id=f"N{i}", notes=n) for i, n in enumerate(NASTY_NOTES)]
    suffix = {write_csv: ".csv", write_xlsx: ".xlsx", write_json: ".json"}[writer]
    valid = load([writer(tmp_path / f"notes{suffix}", rows)])
    assert [v.answers["notes"] for v in valid] == NASTY_NOTES
    assert [v.raw["notes"] for v in valid] == NASTY_NOTES


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


# --------------------------------------------------------------------------- a 50 MB file


@pytest.mark.slow
def test_a_50_mb_csv_is_read_and_validated(tmp_path: Path) -> None:
    form = FORMS["stop_search"]
    columns = list(form.columns)
    path = tmp_path / "big.csv"
    # Realistic reviewer notes (~400 characters) so the file is 50 MB of rows, not of padding.
    note = "Searched after a report of a man with a knife near the station; grounds were the description " * 4
    base = build_row("stop_search", notes=note)
    values = [base[c] for c in columns]
    id_col, ref_col, place_col = (
        columns.index("assessment_id"),
        columns.index("case_ref"),
        columns.index("place"),
    )
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        n = 0
        while fh.tell() < 50_000_000:
            values[id_col], values[ref_col] = f"SS-{n:07d}", f"SS/{n:07d}/26"
            values[place_col] = DEMO_PLACE_CODES[n % len(DEMO_PLACE_CODES)]
            writer.writerow(values)
            n += 1
    assert path.stat().st_size >= 50_000_000
    valid = load([path])
    assert len(valid) == n
    assert valid[-1].source_row == n + 1 and valid[-1].answers["notes"] == note


# --------------------------------------------------------------------------- fuzzing the validator

_BAD_CLOSED = ["Y", "maybe", "yes please", "1", "true", "nope", "0", "-", "?", "na na", "é"]
_BAD_DATES = ["16/11/2026", "2026-02-30", "yesterday", "20261116", "1850-01-01", "2026-11", True, -3.0]
_BAD_INTEGERS = ["-1", "28", "many", "3.5", "1e3", True, 99]


_SAMPLE_DAYS = [dt.date(2000, 1, 1), dt.date(2024, 2, 29), dt.date(2026, 11, 16), dt.date(2099, 12, 31)]


def _date_options(day: dt.date) -> list[tuple[Any, str]]:
    serial = (day - dt.date(1899, 12, 30)).days
    iso = day.isoformat()
    shown = [
        iso,
        f" {iso} ",
        f"{iso} 00:00:00",
        serial,
        float(serial),
        str(serial),
        dt.datetime.combine(day, dt.time()),
    ]
    return [(s, iso) for s in shown]


@functools.cache
def _valid_answers(
    case_type: str, qid: str, condition_holds: bool | None
) -> st.SearchStrategy[tuple[Any, Any]]:
    """(presented value, expected normalised value) pairs that are valid for the question.

    ``condition_holds`` is None for unconditional questions. Strategies are built once: building
    them per draw costs more than the validation being tested.
    """
    q = FORMS[case_type].question(qid)
    blank: list[tuple[Any, Any]] = [("", None), (None, None), ("   ", None)]
    if condition_holds is False:
        return st.sampled_from(blank + ([("na", "na"), ("N/A ", "na"), ("NA", "na")] if q.allows_na else []))
    optional = not q.required and not q.required_when
    options: list[tuple[Any, Any]] = blank if optional else []
    if q.type in (AnswerType.JUDGEMENT, AnswerType.CHOICE):
        assert q.allowed is not None
        for value in q.allowed:
            if not (condition_holds and value == "na"):
                options += [
                    (value, value),
                    (value.upper(), value),
                    (f" {value.title()} ", value),
                    (f"{value}\t", value),
                ]
    elif q.type is AnswerType.DATE:
        for day in _SAMPLE_DAYS:
            options += _date_options(day)
    elif q.type is AnswerType.INTEGER:
        lo, hi = q.minimum or 0, q.maximum if q.maximum is not None else 1000
        for number in range(lo, hi + 1):
            options += [
                (str(number), number),
                (number, number),
                (float(number), number),
                (f" {number} ", number),
            ]
    else:
        return st.text(max_size=20).map(lambda t: (t, t if t.strip() else None))
    return st.sampled_from(options)


_BAD_CLOSED = ["Y", "maybe", "yes please", "1", "true", "nope", "0", "-", "?", "na na", "é", True, 1.5]
_BAD_DATES = ["16/11/2026", "2026-02-30", "yesterday", "20261116", "1850-01-01", "2026-11", True, -3.0, "nan"]
_BAD_INTEGERS = ["-1", "28", "many", "3.5", "1e3", True, 99, -0.5]
_BAD_COMMON: dict[str, Any] = {
    "assessment_id": "  ",
    "case_type": "stop search",
    "case_ref": "",
    "place": "ZZZ",
    "team": "t" * 201,
    "officer": None,
    "reviewer": "",
    "assessed_on": "2026-13-01",
    "case_date": "2099-12-31",  # after assessed_on: that is where the problem is reported
}


@functools.cache
def _base_row(case_type: str) -> dict[str, str]:
    return build_row(case_type)


@st.composite
def _case(
    draw: st.DrawFn, form: Form, index: int
) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """A row, its expected answers when valid, and the column made invalid (None if valid)."""
    row: dict[str, Any] = {**_base_row(form.case_type), "assessment_id": f"F-{index}"}
    row["place"] = draw(st.sampled_from(["BLK", " crn ", "Fen"]))
    expected: dict[str, Any] = {}
    holds: dict[str, bool | None] = {}
    for q in form.questions:
        holds[q.id] = all(expected.get(c) in v for c, v in q.required_when) if q.required_when else None
        shown, value = draw(_valid_answers(form.case_type, q.id, holds[q.id]))
        row[q.id] = shown
        if value is not None:
            expected[q.id] = value
    column = draw(st.sampled_from([None] * len(form.columns) + list(form.columns)))
    if column is None:
        return row, expected, None
    if column in _BAD_COMMON:
        row[column] = _BAD_COMMON[column]
        return row, None, "assessed_on" if column == "case_date" else column
    q = form.question(column)
    if q.type is AnswerType.TEXT:
        return row, expected, None  # free text cannot be wrong
    if q.required_when and holds[q.id] is False and q.allowed is not None:
        row[column] = draw(
            st.sampled_from([a for a in q.allowed if a != "na"])
        )  # answered when it must not be
    elif q.required_when and holds[q.id] or q.required:
        row[column] = draw(st.sampled_from(["", "na"] if q.allows_na and q.required_when else [""]))
    elif q.type in (AnswerType.JUDGEMENT, AnswerType.CHOICE):
        row[column] = draw(st.sampled_from(_BAD_CLOSED))
    elif q.type is AnswerType.DATE:
        row[column] = draw(st.sampled_from(_BAD_DATES))
    else:
        row[column] = draw(st.sampled_from(_BAD_INTEGERS))
    return row, None, column


@st.composite
def _batch(draw: st.DrawFn, form: Form) -> list[tuple[dict[str, Any], dict[str, Any] | None, str | None]]:
    return [draw(_case(form, i)) for i in range(40)]


@pytest.mark.parametrize("case_type", CASE_TYPES)
@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_fuzzed_rows_never_crash_valid_round_trip_invalid_are_named(
    case_type: str, data: st.DataObject
) -> None:
    form = FORMS[case_type]
    cases = data.draw(_batch(form))
    raws = [RawRow("fuzz.csv", i + 2, row, 1) for i, (row, _, _) in enumerate(cases)]
    valid, problems = validate_rows(raws, FORMS, DEMO_PLACE_CODES)
    assert all(isinstance(p, Problem) for p in problems)
    by_row: dict[int, set[str | None]] = {}
    for p in problems:
        assert p.location.file == "fuzz.csv" and p.location.line is not None
        by_row.setdefault(p.location.line, set()).add(p.location.field)
    valid_by_id = {v.assessment_id: v for v in valid}
    for i, (row, expected, bad_column) in enumerate(cases):
        number = i + 2
        if bad_column is None:
            assert number not in by_row, (row, by_row.get(number))
            assert valid_by_id[f"F-{i}"].answers == expected
        else:
            assert bad_column in by_row.get(number, set()), (bad_column, row[bad_column], by_row.get(number))
            assert f"F-{i}" not in valid_by_id
    assert len(valid) == sum(1 for _, _, bad in cases if bad is None)


def test_problem_locations_render_as_file_row_column() -> None:
    assert str(Problem(Location("a.csv", 3, "notes"), "x")) == "a.csv:3:notes: x"
