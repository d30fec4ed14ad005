"""Reviewer submissions: validating raw rows against the QA forms and the force's places, and the whole
of reading and validating a submission's files. Pure: no database; every problem of every file is collected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError

from engine.core.errors import Location, Problem, SubmissionError, problems_summary
from engine.core.models import COMMON_COLUMNS
from engine.core.shape import suggest
from engine.inputs.cells import as_text, is_blank
from engine.inputs.forms import Form
from engine.inputs.row_schemas import common_schema
from engine.inputs.submission_files import RawRow, read_submission


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
        if all(r.template_case_type for r in rows):
            present.add("case_type")  # the template's own case type stands in for the column
        case_types = {_case_type(r) for r in rows}
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
        case_type = _case_type(row)
        form = self.forms.get(case_type)
        schema = self.schemas[case_type] if form else self.common
        payload: dict[str, Any] = {}
        found: list[tuple[str, str]] = []
        for column, value in row.values.items():
            if column in schema.fields:
                payload[column] = value
            elif form is not None and column in self.order and not is_blank(value):
                found.append((column, f"is not a question of the {case_type} form (leave it blank)"))
        template = row.template_case_type
        if template:
            typed = as_text(row.values.get("case_type")).strip()
            if typed and typed.lower() != template.lower():
                found.append(
                    (
                        "case_type",
                        f"'{typed}' does not match this sheet, a {template} template: "
                        f"leave case_type blank or write {template}",
                    )
                )
            payload["case_type"] = template
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


def _case_type(row: RawRow) -> str:
    """The form a row answers (lower case): its template's case type, or the case_type typed."""
    return (row.template_case_type or as_text(row.values.get("case_type"))).strip().lower()


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
