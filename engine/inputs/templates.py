"""Blank (or pre-filled) submission templates for a QA form: an XLSX a reviewer fills in Excel or
LibreOffice and submits unchanged (its case type recorded, so case_type may be left blank), or a CSV header.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from engine.core.errors import Location, ReportError
from engine.core.models import AnswerType
from engine.core.text import inert_cell
from engine.inputs.cells import DATE_MAX, DATE_MIN, EXCEL_EPOCH
from engine.inputs.forms import COMMON_HELP, Form, Question
from engine.inputs.row_schemas import COMMON_DATE_COLUMNS
from engine.inputs.submission_files import CASE_TYPE_NAME

TemplateFormat = Literal["xlsx", "csv"]
DATE_NUMBER_FORMAT = "yyyy-mm-dd"
LISTS_SHEET = "lists"
_LAST_ROW = 1_048_576  # Excel's last row: validation covers every row a reviewer may fill
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FONT = Font(bold=True)
_OPTIONAL_FONT = Font(bold=False, italic=True)


def write_template(
    form: Form,
    fmt: TemplateFormat,
    out: Path,
    *,
    place_codes: Collection[str] = (),
    prefill: Sequence[Mapping[str, str]] = (),
) -> Path:
    """Write a submission template for ``form`` to ``out`` and return the path.

    ``prefill`` rows (column -> text) fill the first data rows, e.g. a sampling worklist's cases.
    Raises ReportError when the file cannot be written.
    """
    columns = form.columns
    for index, row in enumerate(prefill, start=1):
        unknown = sorted(set(row) - set(columns))
        if unknown:
            raise ValueError(f"prefill row {index} has columns not on the {form.case_type} form: {unknown}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            _write_csv(columns, out, prefill)
        elif fmt == "xlsx":
            _write_xlsx(form, out, tuple(place_codes), prefill)
        else:
            raise ValueError(f"unknown template format {fmt!r}")
    except OSError as exc:
        raise ReportError(
            f"cannot write template: {exc.strerror or exc}", location=Location(str(out))
        ) from None
    return out


def _write_csv(columns: Sequence[str], out: Path, prefill: Sequence[Mapping[str, str]]) -> None:
    # utf-8-sig: Excel opens a UTF-8 CSV correctly only with the BOM; the reader accepts both.
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in prefill:
            # inert: a pre-filled '=...' shows as text; `qam submit` takes the ' off again
            writer.writerow([inert_cell(row.get(c, "")) for c in columns])


def _write_xlsx(
    form: Form, out: Path, place_codes: tuple[str, ...], prefill: Sequence[Mapping[str, str]]
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = form.case_type[:31]
    # The sheet's case type, which a row with a blank case_type cell takes (engine.inputs.submissions):
    # a defined name travels with the sheet when Excel copies it to another workbook.
    sheet.defined_names.add(DefinedName(CASE_TYPE_NAME, attr_text=f'"{form.case_type}"'))
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    questions = {q.id: q for q in form.questions}
    list_column = 0

    for col, name in enumerate(form.columns, start=1):
        letter = get_column_letter(col)
        question = questions.get(name)
        cell = sheet.cell(row=1, column=col, value=name)
        cell.fill = _HEADER_FILL
        required = name != "case_type" and (question is None or question.required)
        cell.font = _REQUIRED_FONT if required else _OPTIONAL_FONT
        cell.alignment = Alignment(vertical="top")
        comment = Comment(_comment_text(name, question, form.case_type), "QAM")
        comment.width, comment.height = 320, 200
        cell.comment = comment
        rng = f"{letter}2:{letter}{_LAST_ROW}"

        values = _closed_values(name, question, form, place_codes)
        is_date = name in COMMON_DATE_COLUMNS or (question is not None and question.type is AnswerType.DATE)
        if values:
            list_column += 1
            ref = _write_list(lists, list_column, name, values)
            _validate(sheet, rng, DataValidation(type="list", formula1=ref, allow_blank=True), name, values)
        elif is_date:
            dv = DataValidation(
                type="date",
                operator="between",
                formula1=str(_serial(DATE_MIN)),
                formula2=str(_serial(DATE_MAX)),
                allow_blank=True,
            )
            _validate(sheet, rng, dv, name, ("a date, YYYY-MM-DD",))
            sheet.column_dimensions[letter].number_format = DATE_NUMBER_FORMAT
        elif question is not None and question.type is AnswerType.INTEGER:
            dv = _integer_validation(question)
            _validate(sheet, rng, dv, name, (question.values_text(),))
        else:
            # Text format, so Excel keeps what is typed ('=...', '007', '1-2') instead of converting it.
            sheet.column_dimensions[letter].number_format = "@"
        width = 60 if question is not None and question.type is AnswerType.TEXT else max(12, len(name) + 3)
        sheet.column_dimensions[letter].width = width

    for row_index, row in enumerate(prefill, start=2):
        for col, name in enumerate(form.columns, start=1):
            text = row.get(name, "")
            if text == "":
                continue
            cell = sheet.cell(row=row_index, column=col)
            is_date = name in COMMON_DATE_COLUMNS or (
                name in questions and questions[name].type is AnswerType.DATE
            )
            day = _iso_date(text) if is_date else None
            if day is not None:
                cell.value = day
                cell.number_format = DATE_NUMBER_FORMAT
            else:
                cell.value = text
                cell.data_type = "s"  # never a formula, whatever the text starts with
                cell.number_format = "@"

    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(form.columns))}1"
    workbook.save(out)


def _comment_text(name: str, question: Question | None, case_type: str) -> str:
    if name == "case_type":
        return f"{name}: {COMMON_HELP[name]}\n(may be left blank: every row of this sheet is {case_type})"
    if question is None:
        return f"{name}: {COMMON_HELP[name]}\n(required)"
    parts = [
        question.text,
        f"Answer: {question.values_text()} ({question.requirement_text()}).",
        question.help,
    ]
    return "\n\n".join(parts)


def _closed_values(
    name: str, question: Question | None, form: Form, place_codes: tuple[str, ...]
) -> tuple[str, ...]:
    if name == "case_type":
        return (form.case_type,)
    if name == "place":
        return place_codes
    if question is not None and question.allowed is not None:
        return question.allowed
    return ()


def _write_list(lists: Worksheet, column: int, name: str, values: Sequence[str]) -> str:
    # Lists on a hidden sheet, not inline: inline lists are capped at 255 characters.
    lists.cell(row=1, column=column, value=name)
    for row, value in enumerate(values, start=2):
        lists.cell(row=row, column=column, value=value)
    letter = get_column_letter(column)
    return f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}"


def _integer_validation(question: Question) -> DataValidation:
    lo, hi = question.minimum, question.maximum
    if lo is not None and hi is not None:
        return DataValidation(
            type="whole", operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True
        )
    if lo is not None:
        return DataValidation(type="whole", operator="greaterThanOrEqual", formula1=str(lo), allow_blank=True)
    if hi is not None:
        return DataValidation(type="whole", operator="lessThanOrEqual", formula1=str(hi), allow_blank=True)
    return DataValidation(
        type="whole", operator="between", formula1="-2147483648", formula2="2147483647", allow_blank=True
    )


def _validate(sheet: Worksheet, rng: str, dv: DataValidation, name: str, allowed: Sequence[str]) -> None:
    shown = ", ".join(allowed)
    dv.error = f"{name}: use {shown[:200]}"
    dv.errorTitle = "Not an allowed answer"
    dv.showErrorMessage = True
    dv.add(rng)
    sheet.add_data_validation(dv)


def _serial(day: dt.date) -> int:
    return (day - EXCEL_EPOCH).days


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
