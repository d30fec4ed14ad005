"""Reading reviewer submissions: CSV, XLSX and JSON files into raw rows, as typed, before validation
(and writing row dicts back as a submission CSV). Every file-level problem is collected with its row.
"""

from __future__ import annotations

import csv
import json
import math
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from engine.core.errors import Location, Problem, SubmissionError, problems_summary
from engine.core.files import input_file_problem
from engine.core.text import inert_cell
from engine.inputs.cells import as_text, is_blank
from engine.inputs.limits import MAX_CELL_CHARACTERS, MAX_COLUMNS, MAX_JSON_DEPTH, too_long, too_wide
from engine.inputs.submission_csv import CsvRecords
from engine.inputs.text_input import UTF8_BOM, control_problem
from engine.inputs.xlsx_scan import TOO_LONG_BYTES, oversized_text

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".json")
#: the defined name (scoped to the data sheet) by which an XLSX template records its case type,
#: as a text constant: ="stop_search". A row whose case_type cell is blank takes it.
CASE_TYPE_NAME = "QAM_CASE_TYPE"
_ZIP_MAGIC = b"PK\x03\x04"
#: the largest submission file read: a week of a force's reviews is a few MB; a bigger file is
#: almost certainly not a submission (and would be read into memory whole)
MAX_FILE_BYTES = 512 * 1024 * 1024
#: the most an XLSX file's parts may hold once unzipped (a zip bomb expands a few KB to many GB)
MAX_XLSX_EXPANDED_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row as read from a file, before validation."""

    source_file: str
    #: the row number a user sees: the spreadsheet row (header = 1 usually), or the 1-based JSON index
    row: int
    #: column name (trimmed, lower case) -> the value exactly as read (str, or a number/date from XLSX/JSON)
    values: Mapping[str, Any]
    #: the spreadsheet row of the header (CSV/XLSX); None for JSON
    header_row: int | None = None
    #: the case type the sheet's template records (CASE_TYPE_NAME), for a blank case_type cell
    template_case_type: str | None = None


def write_submission_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write row dicts as a submission CSV (UTF-8): columns in first-seen order, missing cells blank,
    text cells inert (core.text.inert_cell: =1 is written '=1, so a spreadsheet shows it as text).
    The demo writes its generated weeks this way; `qam submit` reads them back like any reviewer's file,
    taking the prefix off again, so every value reads back exactly as given."""
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows({k: inert_cell(v) for k, v in row.items()} for row in rows)
    return path


def read_submission(
    path: Path, *, sheet: str | None = None, problems: list[Problem] | None = None
) -> list[RawRow]:
    """Read one CSV, XLSX or JSON submission into raw rows (blank rows skipped).

    File-level problems (unreadable, truncated, wrong field count, formulas without a saved value)
    are appended to ``problems`` when given, with the rows that could be read returned; without a
    list, any problem raises SubmissionError.
    """
    found: list[Problem] = []
    rows = list(submission_rows(path, found, sheet=sheet))
    if problems is not None:
        problems.extend(found)
    elif found:
        raise SubmissionError(f"cannot read {path}: {problems_summary(found, 'file')}", found)
    return rows


def submission_rows(path: Path, problems: list[Problem], *, sheet: str | None = None) -> Iterator[RawRow]:
    """The raw rows of one submission as they are read (blank rows skipped), each file-level problem
    appended to ``problems`` before the row it concerns is yielded. A CSV file is read as a stream
    (memory does not grow with it); an XLSX or JSON file is read whole first, within MAX_FILE_BYTES
    (and MAX_XLSX_EXPANDED_BYTES unzipped)."""
    return _Reader(path, problems).rows(sheet)


class _Reader:
    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.source = str(path)
        self.problems = problems
        self.template_case_type: str | None = None

    def _add(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(Location(self.source, row, column), message))

    def rows(self, sheet: str | None) -> Iterator[RawRow]:
        suffix = self.path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            hint = " (save it as .xlsx)" if suffix in (".xls", ".ods") else ""
            self._add(f"unsupported file type '{suffix or self.path.name}'{hint}; use .csv, .xlsx or .json")
            return iter(())
        unsafe = input_file_problem(self.path, MAX_FILE_BYTES, "submission")
        if unsafe is not None:
            self._add(unsafe)
            return iter(())
        try:
            with self.path.open("rb") as fh:
                head = fh.read(4)
        except OSError as exc:
            self._add(f"cannot read file: {exc.strerror or exc}")
            return iter(())
        if suffix != ".xlsx" and head == _ZIP_MAGIC:
            self._add(f"this is a spreadsheet (XLSX), not {suffix[1:].upper()}: rename it to .xlsx")
            return iter(())
        if suffix == ".csv":
            return self._table(iter(CsvRecords(self.path, head, self.problems)))
        if suffix == ".json":
            return iter(self._json(head))
        return self._table(iter(self._xlsx(sheet)))

    # ---- XLSX

    def _xlsx(self, sheet: str | None) -> list[tuple[int, list[Any]]]:
        import openpyxl  # only XLSX submissions need it
        from openpyxl.utils.exceptions import InvalidFileException

        expanded = _xlsx_expanded_bytes(self.path)
        if expanded is not None and expanded > MAX_XLSX_EXPANDED_BYTES:
            self._add(
                f"the workbook unzips to {expanded / 2**20:,.0f} MB, more than the "
                f"{MAX_XLSX_EXPANDED_BYTES // 2**20} MB a submission may hold: split it into smaller files"
            )
            return []
        oversized = oversized_text(self.path)
        if oversized is not None:
            self._add(
                f"{oversized} holds a cell far longer than the {MAX_CELL_CHARACTERS:,} characters a "
                f"cell may hold (as in Excel), over {TOO_LONG_BYTES:,} bytes of text: shorten it"
            )
            return []
        # openpyxl warns about workbook features it does not read (extensions, validations); harmless here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                records, formulas = self._xlsx_pass(openpyxl, sheet, data_only=False)
                if formulas:
                    cached, _ = self._xlsx_pass(openpyxl, sheet, data_only=True)
                    records = self._use_cached(records, cached, formulas)
            except _SheetMissing as exc:
                self._add(str(exc))
                return []
            except (
                zipfile.BadZipFile,
                zlib.error,
                ParseError,
                InvalidFileException,
                EOFError,
                KeyError,
                ValueError,
                OSError,
                # openpyxl builds objects straight from XML attributes: a damaged part surfaces as these
                TypeError,
                AttributeError,
                IndexError,
            ) as exc:
                self._add(
                    f"not a readable XLSX file ({type(exc).__name__}: {exc}); is it truncated or corrupt?"
                )
                return []
        return self._checked(records)

    def _checked(self, records: list[tuple[int, list[Any]]]) -> list[tuple[int, list[Any]]]:
        """A sheet's records with each control character and each cell over MAX_CELL_CHARACTERS
        reported (such a cell passed on blank); none when the header is wider than MAX_COLUMNS."""
        header = _header_of(records)
        if len(header) > MAX_COLUMNS:
            first = next(number for number, values in records if any(not is_blank(v) for v in values))
            self._add(too_wide(len(header)), first)
            return []
        for number, values in records:
            for col, value in enumerate(values):
                if not isinstance(value, str):
                    continue
                long = len(value) > MAX_CELL_CHARACTERS
                problem = too_long(len(value)) if long else control_problem(value)
                if problem is not None:
                    name = header[col] if col < len(header) and header[col] else f"column {col + 1}"
                    self._add(problem, number, name)
                    if long:
                        values[col] = ""
        return records

    def _xlsx_pass(
        self, openpyxl: Any, sheet: str | None, *, data_only: bool
    ) -> tuple[list[tuple[int, list[Any]]], dict[tuple[int, int], str]]:
        workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=data_only)
        try:
            if sheet is None:
                worksheet = workbook.worksheets[0]
            elif sheet in workbook.sheetnames:
                worksheet = workbook[sheet]
            else:
                raise _SheetMissing(f"no sheet '{sheet}' (sheets: {', '.join(workbook.sheetnames)})")
            worksheet.reset_dimensions()  # some writers record a wrong used range
            if not data_only:
                self.template_case_type = _template_case_type(worksheet)
            records: list[tuple[int, list[Any]]] = []
            formulas: dict[tuple[int, int], str] = {}
            for number, cells in enumerate(worksheet.iter_rows(), start=1):
                values: list[Any] = []
                for col, cell in enumerate(cells):
                    value = cell.value
                    if not data_only and cell.data_type == "f":
                        formulas[(number, col)] = str(getattr(value, "text", value))
                    values.append(value)
                records.append((number, values))
            return records, formulas
        finally:
            workbook.close()

    def _use_cached(
        self,
        records: list[tuple[int, list[Any]]],
        cached: list[tuple[int, list[Any]]],
        formulas: Mapping[tuple[int, int], str],
    ) -> list[tuple[int, list[Any]]]:
        by_number = dict(cached)
        own = dict(records)
        header = _header_of(records)
        for (number, col), formula in formulas.items():
            saved = by_number.get(number, [])
            value = saved[col] if col < len(saved) else None
            row_values = own[number]
            if value is None:
                column = header[col] if col < len(header) and header[col] else None
                self._add(
                    f"formula {formula} has no saved value: open the file in Excel or LibreOffice and save it "
                    "again, or paste the values",
                    number,
                    column,
                )
            row_values[col] = value
        return records

    # ---- JSON

    def _json(self, head: bytes) -> list[RawRow]:
        data = self.path.read_bytes()
        not_utf8, bad_byte = False, ""
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            try:
                text = data.decode("utf-16")
            except UnicodeError:
                self._add("not valid UTF-16 despite its byte order mark: save the file as UTF-8")
                return []
        else:
            body = data.removeprefix(UTF8_BOM)
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                # each bad byte becomes a lone surrogate U+DC80..U+DCFF, so the row and field holding
                # it can be named below; a bad byte outside any string is reported here instead
                not_utf8 = True
                text = body.decode("utf-8", errors="surrogateescape")
                before = body[: exc.start].decode("utf-8")
                line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
                bad_byte = (
                    f"not UTF-8 (byte 0x{body[exc.start]:02x}) at line {line} column {column}: "
                    "save the file as UTF-8"
                )
        try:
            items = json.loads(
                text, object_pairs_hook=_JsonObject, parse_constant=_NonFinite, parse_float=_json_float
            )
        except json.JSONDecodeError as exc:
            if not_utf8:
                self._add(bad_byte)
                return []
            at_end = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
            cut = " (the file may be truncated)" if at_end else ""
            self._add(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{cut}")
            return []
        except RecursionError:  # nesting about 1,000 deep: json's own bound, located here
            self._add(_too_deep(text))
            return []
        except ValueError as exc:  # a 5,000-digit number
            self._add(f"not usable JSON: {exc}")
            return []
        if not isinstance(items, list):
            self._add("a JSON submission must be a list of objects, one per assessment")
            return []
        before_rows = len(self.problems)
        rows: list[RawRow] = []
        for index, item in enumerate(items, start=1):
            if not isinstance(item, _JsonObject):
                self._add("each item must be an object of column: value", index)
                continue
            if len(item.pairs) > MAX_COLUMNS:
                self._add(too_wide(len(item.pairs), "object"), index)
                continue
            values: dict[str, Any] = {}
            for key, value in item.pairs:
                if len(key) > MAX_CELL_CHARACTERS:
                    self._add(too_long(len(key)) + " (a column name)", index)
                    continue
                name = _shown(key.strip().lower())
                problem = _json_value_problem(key, not_utf8) or _json_value_problem(value, not_utf8)
                if isinstance(value, (_JsonObject, list)):
                    self._add("must be a single value, not a list or object", index, name)
                elif name in values:
                    self._add("column appears twice in this object", index, name)
                elif problem is not None:
                    self._add(problem, index, name)
                    values[name] = None
                else:
                    values[name] = value
            if any(not is_blank(v) for v in values.values()):
                rows.append(RawRow(self.source, index, values))
        if not_utf8 and len(self.problems) == before_rows:  # never accepted, wherever the byte was
            self._add(bad_byte)
        return rows

    # ---- shared by CSV and XLSX

    def _table(self, records: Iterator[tuple[int, list[Any]]]) -> Iterator[RawRow]:
        """Header = first non-blank record; later blank records are skipped."""
        body = (r for r in records if any(not is_blank(v) for v in r[1]))
        first = next(body, None)
        if first is None:
            return
        header_row, header = first[0], _header_of([first])
        seen: dict[str, int] = {}
        for col, name in enumerate(header):
            if name and name in seen:
                self._add(f"column appears twice (columns {seen[name] + 1} and {col + 1})", header_row, name)
            elif name:
                seen[name] = col
        unnamed_reported: set[int] = set()
        unnamed = [col for col, name in enumerate(header) if not name]
        named = [(col, name) for name, col in seen.items()]
        width = len(header)
        for number, values in body:
            if len(values) > width:
                for col in range(width, len(values)):
                    if not is_blank(values[col]) and col not in unnamed_reported:
                        unnamed_reported.add(col)
                        self._add(f"column {col + 1} has values but no header", number)
            for col in unnamed:
                if col < len(values) and not is_blank(values[col]) and col not in unnamed_reported:
                    unnamed_reported.add(col)
                    self._add(f"column {col + 1} has values but no header", number)
            if len(values) >= width:
                row_values = {name: values[col] for col, name in named}
            else:
                row_values = {name: (values[col] if col < len(values) else None) for col, name in named}
            yield RawRow(self.source, number, row_values, header_row, self.template_case_type)


class _SheetMissing(Exception):
    pass


class _JsonObject:
    """A JSON object as its (key, value) pairs in order, so that a key written twice is seen."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


@dataclass(frozen=True, slots=True)
class _NonFinite:
    """NaN, Infinity, -Infinity or a number too large for a float (1e400), as written."""

    text: str


def _json_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _shown(text: str) -> str:
    """Text for a message, with a lone surrogate (which cannot be printed) as its escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _json_value_problem(value: Any, not_utf8: bool = False) -> str | None:
    """Why a JSON key or value cannot be stored: not a finite number, too long, or not text (a lone
    surrogate)."""
    if isinstance(value, _NonFinite):
        return f"{value.text} is not a number that can be stored: write a finite number, or leave it blank"
    if not isinstance(value, str):
        return None
    if len(value) > MAX_CELL_CHARACTERS:
        return too_long(len(value))
    try:
        value.encode("utf-8")
        return control_problem(value)
    except UnicodeEncodeError as exc:
        char = ord(value[exc.start])
    if not_utf8 and 0xDC80 <= char <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"not UTF-8 (byte 0x{char - 0xDC00:02x}): save the file as UTF-8"
    return (
        f"contains \\u{char:04x}, half of a UTF-16 surrogate pair without its other half: "
        "not a character (is the text cut short?)"
    )


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(text: str) -> str:
    """The message for JSON nested too deeply for json to parse, at the bracket passing MAX_JSON_DEPTH."""
    depth, at = 0, len(text)
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                at = token.start()
                break
        elif bracket in "]}":
            depth -= 1
    line = text.count("\n", 0, at) + 1
    column = at - text.rfind("\n", 0, at)
    return (
        f"not usable JSON: nested more than {MAX_JSON_DEPTH} levels deep at line {line} column {column}; "
        "a submission is a list of objects, each of single values"
    )


def _xlsx_expanded_bytes(path: Path) -> int | None:
    """What the XLSX file's parts add up to unzipped, as its directory records it (None if it cannot
    be read: openpyxl then reports the damage)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _template_case_type(worksheet: Any) -> str | None:
    """The text constant the sheet's CASE_TYPE_NAME holds (written by engine.inputs.templates), if any."""
    name = getattr(worksheet, "defined_names", {}).get(CASE_TYPE_NAME)
    text = str(getattr(name, "attr_text", None) or "").strip().removeprefix("=")
    if len(text) < 3 or not (text.startswith('"') and text.endswith('"')):
        return None
    return text[1:-1].replace('""', '"').strip() or None


def _header_of(records: Sequence[tuple[int, list[Any]]]) -> list[str]:
    for _, values in records:
        if any(not is_blank(v) for v in values):
            names = ["" if is_blank(v) else as_text(v).strip().lower() for v in values]
            while names and not names[-1]:
                names.pop()
            return names
    return []
