"""Submission templates: the XLSX a reviewer fills (headers, dropdowns, date and whole-number
validation, help comments, frozen header) is accepted unchanged once filled; CSV templates and
pre-filled worklist rows.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from engine.core.errors import ReportError, SubmissionError
from engine.core.models import COMMON_COLUMNS, AnswerType
from engine.inputs.canonical_questions import CANONICAL_CASE_TYPES
from engine.inputs.forms import Form, load_forms
from engine.inputs.submission_files import read_submission, write_submission_csv
from engine.inputs.submissions import load_submission_files
from engine.inputs.templates import write_template
from tests.factories import DEMO_PLACE_CODES, build_row

REPO = Path(__file__).resolve().parents[2]
FORMS = load_forms(REPO / "qa_forms")


def _xlsx(tmp_path: Path, case_type: str, **kwargs: Any) -> Path:
    return write_template(
        FORMS[case_type], "xlsx", tmp_path / f"{case_type}.xlsx", place_codes=DEMO_PLACE_CODES, **kwargs
    )


def _validations(sheet: Worksheet) -> dict[str, Any]:
    """Column letter -> its data validation."""
    out: dict[str, Any] = {}
    for dv in sheet.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[openpyxl.utils.get_column_letter(rng.min_col)] = dv
            assert (rng.min_row, rng.max_row) == (2, 1_048_576)
    return out


def _list_values(workbook: Any, formula: str) -> list[str]:
    sheet_name, cells = formula.split("!")
    sheet = workbook[sheet_name.strip("'")]
    return [c[0].value for c in sheet[cells.replace("$", "")]]


def _fill_like_a_reviewer(path: Path, form: Form, rows: list[dict[str, str]]) -> None:
    """Type the rows into the template: dates as date cells, counts as numbers, text as typed."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    types = {q.id: q.type for q in form.questions}
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(header, start=1):
            value: Any = row.get(name, "")
            if value == "":
                continue
            if name in ("assessed_on", "case_date") or types.get(name) is AnswerType.DATE:
                value = dt.date.fromisoformat(value)
            elif types.get(name) is AnswerType.INTEGER:
                value = int(value)
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # the column is text-formatted: '=...' stays text
    workbook.save(path)


@pytest.mark.parametrize("case_type", CANONICAL_CASE_TYPES)
def test_filled_xlsx_template_is_accepted_unchanged(tmp_path: Path, case_type: str) -> None:
    form = FORMS[case_type]
    path = _xlsx(tmp_path, case_type)
    rows = [build_row(case_type, notes='=HYPERLINK("http://x","<b>see</b>")'), build_row(case_type)]
    _fill_like_a_reviewer(path, form, rows)
    valid = load_submission_files([path], FORMS, DEMO_PLACE_CODES)
    assert [v.assessment_id for v in valid] == [r["assessment_id"] for r in rows]
    assert valid[0].answers["notes"] == '=HYPERLINK("http://x","<b>see</b>")'
    assert valid[0].source_row == 2


def test_a_blank_case_type_takes_the_templates_own(tmp_path: Path) -> None:
    """A reviewer never types case_type in a single-type template: the sheet records it."""
    path = _xlsx(tmp_path, "victim_care")
    rows = [build_row("victim_care", case_type=""), build_row("victim_care", case_type="Victim_Care")]
    _fill_like_a_reviewer(path, FORMS["victim_care"], rows)
    valid = load_submission_files([path], FORMS, DEMO_PLACE_CODES)
    assert [v.case_type for v in valid] == ["victim_care", "victim_care"]
    assert valid[0].raw["case_type"] == ""  # stored as submitted: the cell was blank
    # the same assessment with case_type typed (here in a CSV) is the same content
    typed = write_submission_csv(tmp_path / "typed.csv", [{**rows[0], "case_type": "victim_care"}])
    [again] = load_submission_files([typed], FORMS, DEMO_PLACE_CODES)
    assert again.content_hash == valid[0].content_hash


def test_another_case_type_in_a_template_is_an_error_naming_file_row_and_field(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, "stop_search")
    rows = [build_row("stop_search", case_type=""), build_row("stop_search", case_type="victim_care")]
    _fill_like_a_reviewer(path, FORMS["stop_search"], rows)
    with pytest.raises(SubmissionError) as info:
        load_submission_files([path], FORMS, DEMO_PLACE_CODES)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3:case_type: 'victim_care' does not match this sheet, a stop_search template: "
        "leave case_type blank or write stop_search"
    ]


def test_a_template_without_its_case_type_column_still_knows_its_type(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, "stop_search")
    _fill_like_a_reviewer(path, FORMS["stop_search"], [build_row("stop_search", case_type="")])
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    sheet.delete_cols([c.value for c in sheet[1]].index("case_type") + 1)
    workbook.save(path)
    [valid] = load_submission_files([path], FORMS, DEMO_PLACE_CODES)
    assert valid.case_type == "stop_search"


def test_rows_copied_out_of_the_template_need_their_case_type(tmp_path: Path) -> None:
    """Only the template's own sheet carries its case type: a CSV or another workbook does not."""
    template = openpyxl.load_workbook(_xlsx(tmp_path, "stop_search")).worksheets[0]
    other = openpyxl.Workbook()
    sheet = other.active
    assert sheet is not None
    sheet.append([c.value for c in template[1]])
    row = build_row("stop_search", case_type="")
    sheet.append([row.get(str(c.value), "") or None for c in template[1]])
    other.save(tmp_path / "copy.xlsx")
    with pytest.raises(SubmissionError) as info:
        load_submission_files([tmp_path / "copy.xlsx"], FORMS, DEMO_PLACE_CODES)
    assert f"{tmp_path / 'copy.xlsx'}:2:case_type: a value is required" in str(info.value)


def test_header_row_has_common_columns_then_questions_frozen_with_help(tmp_path: Path) -> None:
    form = FORMS["stop_search"]
    workbook = openpyxl.load_workbook(_xlsx(tmp_path, "stop_search"))
    sheet = workbook.worksheets[0]
    assert sheet.title == "stop_search"
    assert [c.value for c in sheet[1]] == list(COMMON_COLUMNS) + list(form.question_ids)
    assert sheet.freeze_panes == "A2"
    comments = {c.value: c.comment.text for c in sheet[1]}
    assert "PACE Code A para 3.7" in comments["strip_search_authorised"]
    assert "required when strip_search is yes, else na or blank" in comments["strip_search_authorised"]
    assert "from the force's place list" in comments["place"]
    assert "may be left blank: every row of this sheet is stop_search" in comments["case_type"]
    assert not sheet["B1"].font.b and sheet["A1"].font.b  # case_type is not a column to fill
    assert sheet.max_row == 1  # no pre-filled case_type or blanks that would read as rows


def test_every_closed_answer_has_a_dropdown_of_its_allowed_values(tmp_path: Path) -> None:
    form = FORMS["stop_search"]
    workbook = openpyxl.load_workbook(_xlsx(tmp_path, "stop_search"))
    sheet = workbook.worksheets[0]
    assert workbook["lists"].sheet_state == "hidden"
    letters = {c.value: c.column_letter for c in sheet[1]}
    validations = _validations(sheet)
    for q in form.questions:
        if q.allowed is not None:
            dv = validations[letters[q.id]]
            assert dv.type == "list" and dv.allow_blank and dv.showErrorMessage
            assert _list_values(workbook, dv.formula1) == list(q.allowed), q.id
    assert _list_values(workbook, validations[letters["place"]].formula1) == list(DEMO_PLACE_CODES)
    assert _list_values(workbook, validations[letters["case_type"]].formula1) == ["stop_search"]
    assert letters["notes"] not in validations and letters["team"] not in validations
    assert sheet.column_dimensions[letters["notes"]].number_format == "@"


def test_dates_and_whole_numbers_are_validated_and_formatted(tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(_xlsx(tmp_path, "domestic_abuse"))
    sheet = workbook.worksheets[0]
    letters = {c.value: c.column_letter for c in sheet[1]}
    validations = _validations(sheet)
    count = validations[letters["dash_yes_count"]]
    assert (count.type, count.operator, count.formula1, count.formula2) == ("whole", "between", "0", "27")
    for column in ("assessed_on", "case_date"):
        dv = validations[letters[column]]
        assert (dv.type, dv.operator) == ("date", "between")
        assert sheet.column_dimensions[letters[column]].number_format == "yyyy-mm-dd"
    victim = openpyxl.load_workbook(_xlsx(tmp_path, "victim_care")).worksheets[0]
    letters = {c.value: c.column_letter for c in victim[1]}
    assert _validations(victim)[letters["victim_updated_on"]].type == "date"


def test_prefilled_worklist_rows_keep_text_as_text(tmp_path: Path) -> None:
    prefill = [
        {
            "case_ref": "=CMD|'/c calc'!A0",
            "case_type": "stop_search",
            "place": "BLK",
            "case_date": "2026-11-16",
        },
        {"case_ref": "SS/2/26", "case_type": "stop_search", "place": "CRN", "case_date": "2026-11-17"},
    ]
    workbook = openpyxl.load_workbook(_xlsx(tmp_path, "stop_search", prefill=prefill))
    sheet = workbook.worksheets[0]
    letters = {c.value: c.column_letter for c in sheet[1]}
    ref = sheet[f"{letters['case_ref']}2"]
    assert (ref.value, ref.data_type) == ("=CMD|'/c calc'!A0", "s")
    assert sheet[f"{letters['case_date']}3"].value == dt.datetime(2026, 11, 17)
    assert sheet.max_row == 3


def test_prefilled_rows_without_answers_are_not_silently_accepted(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, "stop_search", prefill=[{"case_ref": "SS/1/26", "case_type": "stop_search"}])
    with pytest.raises(SubmissionError) as info:
        load_submission_files([path], FORMS, DEMO_PLACE_CODES)
    fields = {p.location.field for p in info.value.problems}
    assert {"assessment_id", "power", "grounds_recorded"} <= fields


def test_prefill_with_an_unknown_column_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not on the stop_search form: \\['colour'\\]"):
        _xlsx(tmp_path, "stop_search", prefill=[{"colour": "red"}])


def test_csv_template_is_the_header_and_prefill(tmp_path: Path) -> None:
    form = FORMS["investigation"]
    path = write_template(form, "csv", tmp_path / "inv.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines() == [",".join(form.columns)]
    with pytest.raises(SubmissionError, match="no assessment rows found"):
        load_submission_files([path], FORMS, DEMO_PLACE_CODES)
    row = build_row("investigation", notes="café, £5")
    filled = write_template(form, "csv", tmp_path / "filled.csv", prefill=[row])
    [valid] = load_submission_files([filled], FORMS, DEMO_PLACE_CODES)
    assert valid.answers["notes"] == "café, £5"


def test_unwritable_output_is_a_report_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ReportError, match="cannot write template"):
        write_template(FORMS["stop_search"], "csv", blocker / "sub" / "t.csv")


#: text a spreadsheet would run as a formula, and text that only looks like QAM's inert prefix
FORMULA_LIKE = ['=HYPERLINK("x")', "+44", "-3", "@x", "\t=1", "\r=1", "'=1", "''+2", "'tis"]


def test_a_submission_csv_written_with_inert_cells_reads_back_exactly(tmp_path: Path) -> None:
    """write_submission_csv writes text starting like a formula with a leading ' (so Excel shows it
    as text); `qam submit` takes that ' off again, so every value is stored as it was given."""
    rows = [
        build_row("stop_search", team="=Team", officer="+PC 1", case_ref=f"-CR{i}", notes=note)
        for i, note in enumerate(FORMULA_LIKE)
    ]
    path = write_submission_csv(tmp_path / "s.csv", rows)
    with path.open(encoding="utf-8", newline="") as fh:
        written = list(csv.DictReader(fh))
    assert [r["notes"] for r in written] == [*("'" + n for n in FORMULA_LIKE[:-1]), "'tis"]
    assert {(r["team"], r["officer"]) for r in written} == {("'=Team", "'+PC 1")}
    valid = load_submission_files([path], FORMS, DEMO_PLACE_CODES)
    assert [v.answers["notes"] for v in valid] == FORMULA_LIKE
    assert [(v.case_ref, v.team, v.officer) for v in valid] == [
        (r["case_ref"], "=Team", "+PC 1") for r in rows
    ]
    assert [dict(v.raw) for v in valid] == rows  # "as submitted" is what was given, too


def test_a_prefilled_csv_template_is_inert_and_reads_back_exactly(tmp_path: Path) -> None:
    form = FORMS["stop_search"]
    prefill = [{"case_ref": "=CR1", "place": "BLK", "notes": "@x"}]
    path = write_template(form, "csv", tmp_path / "t.csv", prefill=prefill)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["case_ref"], row["place"], row["notes"]) == ("'=CR1", "BLK", "'@x")
    (raw,) = read_submission(path)
    assert (raw.values["case_ref"], raw.values["notes"]) == ("=CR1", "@x")
