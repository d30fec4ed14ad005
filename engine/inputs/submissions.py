"""Reviewer submissions: reading CSV, XLSX and JSON files into raw rows, and validating them against
the QA forms and the force's places. Pure: no database; every problem of every file is collected.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import warnings
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from xml.etree.ElementTree import ParseError

from marshmallow import EXCLUDE, Schema, ValidationError

from engine.core.errors import Location, Problem, SubmissionError, problems_summary
from engine.core.models import COMMON_COLUMNS
from engine.core.shape import suggest
from engine.inputs.cells import as_text, is_blank
from engine.inputs.forms import Form
from engine.inputs.row_schemas import common_schema

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".json")
_ZIP_MAGIC = b"PK\x03\x04"
# Spreadsheet answers repeat endlessly ("yes", "no", place codes): share one string object per value.
# Bounded, because unique values (ids, references) would only fill the table.
_INTERN_MAX_LENGTH = 24
_INTERN_MAX_VALUES = 5000


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


@dataclass(frozen=True, slots=True)
class ValidRow:
    """One validated, normalised assessment row: what the repository stores."""

    assessment_id: str
    case_type: str
    case_ref: str
    place: str
    team: str
    officer: str
    reviewer: str
    assessed_on: dt.date
    case_date: dt.date
    #: question id -> normalised answer (str, int, or 'YYYY-MM-DD'); blank answers omitted
    answers: Mapping[str, Any]
    #: column -> the submitted value as text, exactly (blank cells as '')
    raw: Mapping[str, str]
    source_file: str
    source_row: int
    content_hash: str
    form_version: str = ""

    def canonical(self) -> dict[str, Any]:
        """The normalised content the hash covers (no source, no raw text)."""
        return canonical_content(
            {c: getattr(self, c) for c in COMMON_COLUMNS},
            self.answers,
        )


def canonical_content(common: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised common columns (dates as ISO text) and answers (blanks dropped), as plain JSON data."""
    out: dict[str, Any] = {}
    for column in COMMON_COLUMNS:
        value = common[column]
        out[column] = value.isoformat() if isinstance(value, dt.date) else value
    out["answers"] = {k: v for k, v in sorted(answers.items()) if v is not None}
    return out


def content_hash(canonical: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON: the same content in any file format or encoding hashes the same."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- reading files


def write_submission_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write row dicts as a submission CSV (UTF-8): columns in first-seen order, missing cells blank.
    The demo writes its generated weeks this way; `qam submit` reads them back like any reviewer's file."""
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
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
    reader = _Reader(path, found)
    rows = reader.read(sheet)
    if problems is not None:
        problems.extend(found)
    elif found:
        raise SubmissionError(f"cannot read {path}: {problems_summary(found, 'file')}", found)
    return rows


class _Reader:
    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.source = str(path)
        self.problems = problems

    def _add(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(Location(self.source, row, column), message))

    def read(self, sheet: str | None) -> list[RawRow]:
        suffix = self.path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            hint = " (save it as .xlsx)" if suffix in (".xls", ".ods") else ""
            self._add(f"unsupported file type '{suffix or self.path.name}'{hint}; use .csv, .xlsx or .json")
            return []
        try:
            with self.path.open("rb") as fh:
                head = fh.read(4)
        except OSError as exc:
            self._add(f"cannot read file: {exc.strerror or exc}")
            return []
        if suffix != ".xlsx" and head == _ZIP_MAGIC:
            self._add(f"this is a spreadsheet (XLSX), not {suffix[1:].upper()}: rename it to .xlsx")
            return []
        if suffix == ".csv":
            return self._csv(head)
        if suffix == ".json":
            return self._json(head)
        return self._xlsx(sheet)

    # ---- CSV

    def _csv(self, head: bytes) -> list[RawRow]:
        utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
        for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "cp1252"):
            attempt: list[Problem] = []
            try:
                with self.path.open(encoding=encoding, newline="") as fh:
                    rows = _Reader(self.path, attempt)._parse_csv(fh)
            except UnicodeError:
                continue
            self.problems.extend(attempt)
            return rows
        self._add("cannot read as text (neither UTF-8 nor Windows-1252); save it again as CSV UTF-8")
        return []

    def _parse_csv(self, fh: TextIO) -> list[RawRow]:
        first = fh.readline()
        delimiter = max((",", ";", "\t"), key=first.count) if first.strip() else ","
        reader = csv.reader(itertools.chain([first], fh), delimiter=delimiter, strict=True)
        records: list[tuple[int, list[Any]]] = []
        number = 0
        shared: dict[str, str] = {}

        def intern(value: str) -> str:
            found = shared.get(value)
            if found is not None:
                return found
            if len(value) <= _INTERN_MAX_LENGTH and len(shared) < _INTERN_MAX_VALUES:
                shared[value] = value
            return value

        width: int | None = None
        try:
            for number, record in enumerate(reader, start=1):
                if not any(v.strip() for v in record):
                    continue
                if width is None:
                    width = len(record)
                elif len(record) != width and not self._fields_ok(record, width, number):
                    continue
                records.append((number, [intern(v) for v in record]))
        except csv.Error as exc:
            self._add(f"cannot read CSV ({exc}); the file may be truncated or badly quoted", number + 1)
        return self._table(records)

    def _fields_ok(self, record: list[str], width: int, number: int) -> bool:
        if len(record) > width and not any(v.strip() for v in record[width:]):
            return True  # trailing empty fields, as some spreadsheets write them
        self._add(
            f"row has {len(record)} values but the header has {width} columns"
            + (" (is the file truncated?)" if len(record) < width else ""),
            number,
        )
        return False

    # ---- XLSX

    def _xlsx(self, sheet: str | None) -> list[RawRow]:
        import openpyxl  # only XLSX submissions need it
        from openpyxl.utils.exceptions import InvalidFileException

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
        return self._table(records)

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
        text: str | None = None
        for encoding in ("utf-16",) if head[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "cp1252"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeError:
                continue
        if text is None:
            self._add("cannot read as text (neither UTF-8 nor Windows-1252)")
            return []
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            at_end = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
            cut = " (the file may be truncated)" if at_end else ""
            self._add(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{cut}")
            return []
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, nesting 1,000 deep
            self._add(f"not usable JSON: {exc}")
            return []
        if not isinstance(items, list):
            self._add("a JSON submission must be a list of objects, one per assessment")
            return []
        rows: list[RawRow] = []
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                self._add("each item must be an object of column: value", index)
                continue
            values: dict[str, Any] = {}
            for key, value in item.items():
                name = str(key).strip().lower()
                if isinstance(value, (dict, list)):
                    self._add("must be a single value, not a list or object", index, name)
                elif name in values:
                    self._add("column appears twice in this object", index, name)
                else:
                    values[name] = value
            if any(not is_blank(v) for v in values.values()):
                rows.append(RawRow(self.source, index, values))
        return rows

    # ---- shared by CSV and XLSX

    def _table(self, records: list[tuple[int, list[Any]]]) -> list[RawRow]:
        """Header = first non-blank record; later blank records are skipped."""
        rows: list[RawRow] = []
        body = iter(r for r in records if any(not is_blank(v) for v in r[1]))
        first = next(body, None)
        if first is None:
            return rows
        header_row, header = first[0], _header_of([first])
        seen: dict[str, int] = {}
        for col, name in enumerate(header):
            if name and name in seen:
                self._add(f"column appears twice (columns {seen[name] + 1} and {col + 1})", header_row, name)
            elif name:
                seen[name] = col
        unnamed_reported: set[int] = set()
        named = [(col, name) for name, col in seen.items()]
        for number, values in body:
            for col in range(len(header), len(values)):
                if not is_blank(values[col]) and col not in unnamed_reported:
                    unnamed_reported.add(col)
                    self._add(f"column {col + 1} has values but no header", number)
            for col, name in enumerate(header):
                if (
                    not name
                    and col < len(values)
                    and not is_blank(values[col])
                    and col not in unnamed_reported
                ):
                    unnamed_reported.add(col)
                    self._add(f"column {col + 1} has values but no header", number)
            row_values = {name: (values[col] if col < len(values) else None) for col, name in named}
            rows.append(RawRow(self.source, number, row_values, header_row))
        return rows


class _SheetMissing(Exception):
    pass


def _header_of(records: Sequence[tuple[int, list[Any]]]) -> list[str]:
    for _, values in records:
        if any(not is_blank(v) for v in values):
            names = ["" if is_blank(v) else as_text(v).strip().lower() for v in values]
            while names and not names[-1]:
                names.pop()
            return names
    return []


# --------------------------------------------------------------------------- validating rows


def validate_rows(
    rows: Iterable[RawRow], forms: Mapping[str, Form], place_codes: Collection[str]
) -> tuple[list[ValidRow], list[Problem]]:
    """Validate raw rows against their case type's form, the common columns and the place list.

    Returns the valid rows and every problem found (file:row:column: message); a row with any
    problem is not in the valid list.
    """
    return _Validator(forms, place_codes).run(list(rows))


class _Validator:
    def __init__(self, forms: Mapping[str, Form], place_codes: Collection[str]) -> None:
        self.forms = forms
        case_types = tuple(forms)
        self.schemas: dict[str, Schema] = {
            ct: f.row_schema(place_codes, case_types) for ct, f in forms.items()
        }
        self.common = common_schema(place_codes, case_types)
        known = list(COMMON_COLUMNS)
        for form in forms.values():
            known.extend(q for q in form.question_ids if q not in known)
        self.known: tuple[str, ...] = tuple(known)
        self.order = {c: i for i, c in enumerate(self.known)}
        self.problems: list[Problem] = []
        #: (file, column) pairs already reported missing, whose per-row 'required' messages are noise
        self.missing: set[tuple[str, str]] = set()

    def run(self, rows: list[RawRow]) -> tuple[list[ValidRow], list[Problem]]:
        by_file: dict[str, list[RawRow]] = {}
        for row in rows:
            by_file.setdefault(row.source_file, []).append(row)
        for source, file_rows in by_file.items():
            self._check_columns(source, file_rows)
        valid: list[ValidRow] = []
        first_seen: dict[str, RawRow] = {}
        for row in rows:
            result = self._row(row)
            assessment_id = row.values.get("assessment_id")
            if not is_blank(assessment_id):
                key = as_text(assessment_id).strip()
                earlier = first_seen.setdefault(key, row)
                if earlier is not row:
                    where = f"{earlier.source_file} row {earlier.row}"
                    self._add(row, "assessment_id", f"duplicate assessment_id '{key}': also at {where}")
                    result = None
            if result is not None:
                valid.append(result)
        return valid, self.problems

    def _add(self, row: RawRow | None, column: str | None, message: str, *, source: str = "") -> None:
        where = Location(row.source_file, row.row, column) if row else Location(source, None, column)
        self.problems.append(Problem(where, message))

    def _check_columns(self, source: str, rows: list[RawRow]) -> None:
        header_row = rows[0].header_row
        first_with: dict[str, RawRow] = {}
        for row in rows:
            for column in row.values:
                first_with.setdefault(column, row)
        for column, row in first_with.items():
            if column not in self.order:
                loc = Location(source, header_row if header_row is not None else row.row, column)
                hint = suggest(column, self.known, ignore_case=False, list_known=False)
                self.problems.append(Problem(loc, f"unknown column{hint}"))
        present = set(first_with)
        case_types = {as_text(r.values.get("case_type")).strip().lower() for r in rows}
        required = [(c, "missing required column") for c in COMMON_COLUMNS]
        for case_type in sorted(case_types & set(self.forms)):
            required += [
                (q.id, f"missing column required by the {case_type} form")
                for q in self.forms[case_type].questions
                if q.required
            ]
        for column, message in required:
            if column not in present and (source, column) not in self.missing:
                self.missing.add((source, column))
                self.problems.append(Problem(Location(source, header_row, column), message))

    def _row(self, row: RawRow) -> ValidRow | None:
        case_type = as_text(row.values.get("case_type")).strip().lower()
        form = self.forms.get(case_type)
        schema = self.schemas[case_type] if form else self.common
        payload: dict[str, Any] = {}
        found: list[tuple[str, str]] = []
        for column, value in row.values.items():
            if column in schema.fields:
                payload[column] = value
            elif form is not None and column in self.order and not is_blank(value):
                found.append((column, f"is not a question of the {case_type} form (leave it blank)"))
        try:
            data = schema.load(payload, unknown=EXCLUDE)  # payload holds only the schema's columns
        except ValidationError as exc:
            found.extend(_flatten(exc.messages))
            data = None
        found = [(c, m) for c, m in found if (row.source_file, c) not in self.missing]
        for column, message in sorted(found, key=lambda cm: self.order.get(cm[0], len(self.order))):
            self._add(row, column, message)
        if found or data is None or form is None:
            return None
        answers = {q: data[q] for q in form.question_ids if data.get(q) is not None}
        common = {c: data[c] for c in COMMON_COLUMNS}
        return ValidRow(
            **common,
            answers=answers,
            raw=_raw_text(row.values),
            source_file=row.source_file,
            source_row=row.row,
            content_hash=content_hash(canonical_content(common, answers)),
            form_version=form.version,
        )


def _raw_text(values: Mapping[str, Any]) -> Mapping[str, str]:
    # CSV rows are already all text: share the mapping rather than copy it (memory on big files).
    if all(isinstance(v, str) for v in values.values()):
        return values
    return {k: as_text(v) for k, v in values.items()}


def _flatten(messages: Any, column: str | None = None) -> Iterator[tuple[str, str]]:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _flatten(value, None if key == "_schema" else str(key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, column)
    else:
        yield column or "", str(messages)


# --------------------------------------------------------------------------- the whole invocation


def load_submission_files(
    paths: Sequence[Path],
    forms: Mapping[str, Form],
    place_codes: Collection[str],
    sheet: str | None = None,
) -> list[ValidRow]:
    """Read and validate every file; any problem in any file raises one SubmissionError (store nothing)."""
    problems: list[Problem] = []
    rows: list[RawRow] = []
    for path in paths:
        before = len(problems)
        file_rows = read_submission(path, sheet=sheet, problems=problems)
        if not file_rows and len(problems) == before:
            problems.append(
                Problem(Location(str(path)), "no assessment rows found (is it the right file or sheet?)")
            )
        rows.extend(file_rows)
    valid, row_problems = validate_rows(rows, forms, place_codes)
    # One problem per cell: a cell the reader could not read (a formula without a value) is not
    # reported again as, say, a missing answer.
    unread = {(p.location.file, p.location.line, p.location.field) for p in problems if p.location.field}
    problems.extend(
        p for p in row_problems if (p.location.file, p.location.line, p.location.field) not in unread
    )
    if problems:
        order = {str(p): i for i, p in enumerate(paths)}
        problems.sort(key=lambda p: (order.get(p.location.file or "", len(order)), p.location.line or 0))
        raise SubmissionError(
            f"nothing stored: {problems_summary(problems, 'file')}",
            problems,
            hint="Fix these rows and submit the files again; valid rows were not stored either.",
        )
    return valid
