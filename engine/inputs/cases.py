"""The cases extract: the population of cases eligible for QA review (the sampling frame), read and
validated like every other input, and stored idempotently on (case_type, case_ref).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from engine.core.errors import ExtractError, Location, Problem, problems_summary
from engine.core.hashing import canonical_json, sha256_text
from engine.core.shape import suggest
from engine.inputs.cells import as_text, to_date
from engine.inputs.row_schemas import COMMON_MAX_LENGTH
from engine.inputs.submission_files import RawRow, read_submission

CASE_COLUMNS: tuple[str, ...] = ("case_ref", "case_type", "place", "team", "officer", "case_date")
_SUBMISSION_ONLY = ("assessment_id", "reviewer", "assessed_on")
_STRATUM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
STRATUM_MAX_LENGTH = 200


@dataclass(frozen=True)
class Case:
    """A case eligible for QA review, as the cases extract describes it (fields = CASE_COLUMNS)."""

    case_ref: str
    case_type: str
    place: str
    team: str
    officer: str
    case_date: dt.date

    def columns(self) -> dict[str, str]:
        """The case's columns as submission-template text."""
        return {**{c: getattr(self, c) for c in CASE_COLUMNS}, "case_date": self.case_date.isoformat()}


def case_fields(obj: Any) -> dict[str, Any]:
    """The CASE_COLUMNS attributes of anything that has them (a Case, a stored case, an assessment)."""
    return {c: getattr(obj, c) for c in CASE_COLUMNS}


@dataclass(frozen=True)
class CaseRow(Case):
    """One validated row of the cases extract."""

    #: optional strata columns (column -> text, '' when blank)
    strata: Mapping[str, str]
    source_file: str
    source_row: int
    content_hash: str


def read_cases(path: Path, place_codes: Collection[str], case_types: Collection[str]) -> list[CaseRow]:
    """Read and validate a cases extract (CSV, XLSX or JSON, read as submissions are).

    Columns: case_ref, case_type, place, team, officer, case_date, then optional strata columns
    (e.g. crime_type). ``case_types``: the case types in use (the forms' ids, engine.inputs.forms).
    Every problem is collected, then one ExtractError names each file, row and column; nothing is
    returned unless the whole file is valid.
    Example: ``read_cases(Path("cases-w47.csv"), force.place_codes, tuple(forms))``.
    """
    problems: list[Problem] = []
    raw = read_submission(path, problems=problems)
    if not raw and not problems:
        problems.append(Problem(Location(str(path)), "no case rows found (is it the right file?)"))
    rows = _CasesValidator(place_codes, case_types, problems).run(raw)
    if problems:
        raise ExtractError(
            f"nothing loaded: {problems_summary(problems, 'file')}",
            problems,
            hint="Fix these rows and load the extract again; valid rows were not loaded either.",
        )
    return rows


class _CasesValidator:
    def __init__(
        self, place_codes: Collection[str], case_types: Collection[str], problems: list[Problem]
    ) -> None:
        self.places = {p.upper(): p for p in place_codes}
        self.case_types = {c.lower(): c for c in case_types}
        self.problems = problems
        self.missing: set[str] = set()
        self.strata: list[str] = []

    def _add(self, row: RawRow, column: str | None, message: str) -> None:
        self.problems.append(Problem(Location(row.source_file, row.row, column), message))

    def run(self, rows: list[RawRow]) -> list[CaseRow]:
        if not rows:
            return []
        self._columns(rows)
        first_row: dict[tuple[str, str], int] = {}
        out: list[CaseRow] = []
        for row in rows:
            case = self._row(row)
            if case is None:
                continue
            key = (case.case_type, case.case_ref)
            if key in first_row:
                self._add(
                    row,
                    "case_ref",
                    f"'{case.case_ref}' appears again for {case.case_type} (first at row {first_row[key]})",
                )
                continue
            first_row[key] = row.row
            out.append(case)
        return out

    def _columns(self, rows: list[RawRow]) -> None:
        first = rows[0]
        header = first.header_row if first.header_row is not None else first.row
        present: dict[str, None] = {}
        for row in rows:
            present.update(dict.fromkeys(row.values))
        where = Location(first.source_file, header)
        for column in CASE_COLUMNS:
            if column not in present:
                self.missing.add(column)
                self.problems.append(
                    Problem(Location(where.file, where.line, column), "missing required column")
                )
        for column in present:
            if column in CASE_COLUMNS:
                continue
            if column in _SUBMISSION_ONLY:
                message = "is a submission column, not part of the cases extract (remove it)"
            elif not _STRATUM_NAME.match(column):
                fixed = re.sub(r"[^a-z0-9_]+", "_", column).strip("_")
                message = f"a strata column name must be lower-case letters, digits and _ (e.g. '{fixed}')"
            else:
                self.strata.append(column)
                continue
            self.problems.append(Problem(Location(where.file, where.line, column), message))

    def _text(self, row: RawRow, column: str, max_length: int) -> str | None:
        text = as_text(row.values.get(column)).strip()
        if not text:
            self._add(row, column, "a value is required")
            return None
        if len(text) > max_length:
            self._add(row, column, f"is {len(text)} characters long; at most {max_length} are allowed")
            return None
        return text

    def _code(self, row: RawRow, column: str, known: Mapping[str, str], noun: str, upper: bool) -> str | None:
        text = as_text(row.values.get(column)).strip()
        if not text:
            self._add(row, column, "a value is required")
            return None
        found = known.get(text.upper() if upper else text.lower())
        if found is None:
            options = sorted(known.values())
            hint = (
                suggest(text, options, ignore_case=False, list_known=False)
                or f" (known: {', '.join(options)})"
            )
            self._add(row, column, f"'{text}' is not {noun}{hint}")
        return found

    def _row(self, row: RawRow) -> CaseRow | None:
        before = len(self.problems)
        values = {c: None for c in CASE_COLUMNS if c in self.missing}
        ref = None if "case_ref" in values else self._text(row, "case_ref", COMMON_MAX_LENGTH["case_ref"])
        case_type = (
            None
            if "case_type" in values
            else self._code(row, "case_type", self.case_types, "a case type", False)
        )
        place = (
            None
            if "place" in values
            else self._code(row, "place", self.places, "a place of this force", True)
        )
        team = None if "team" in values else self._text(row, "team", COMMON_MAX_LENGTH["team"])
        officer = None if "officer" in values else self._text(row, "officer", COMMON_MAX_LENGTH["officer"])
        case_date = None
        if "case_date" not in values:
            try:
                case_date = to_date(row.values.get("case_date"))
            except ValidationError as exc:
                self._add(row, "case_date", "; ".join(str(m) for m in exc.messages))
            else:
                if case_date is None:
                    self._add(row, "case_date", "a value is required")
        strata: dict[str, str] = {}
        for column in self.strata:
            text = as_text(row.values.get(column)).strip()
            if len(text) > STRATUM_MAX_LENGTH:
                self._add(
                    row, column, f"is {len(text)} characters long; at most {STRATUM_MAX_LENGTH} are allowed"
                )
            strata[column] = text
        if len(self.problems) > before or None in (ref, case_type, place, team, officer, case_date):
            return None
        assert ref and case_type and place and team and officer and case_date
        case = Case(ref, case_type, place, team, officer, case_date)
        return CaseRow(
            **case_fields(case),
            strata=strata,
            source_file=row.source_file,
            source_row=row.row,
            content_hash=sha256_text(canonical_json({**case.columns(), "strata": strata})),
        )
