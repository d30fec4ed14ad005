"""Reviewer submissions: validating raw rows against the QA forms and the force's places, and the whole
of reading and validating a submission's files. Pure: no database; every problem of every file is
counted (the first ones kept), and the files are read as they are validated, so memory does not grow
with them (a 200 MB CSV included).
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError

from engine.core.errors import Location, Problem, SubmissionError
from engine.core.models import COMMON_COLUMNS
from engine.core.shape import suggest
from engine.inputs.cells import as_text, is_blank
from engine.inputs.forms import Form
from engine.inputs.problem_log import Phase, ProblemLog
from engine.inputs.row_schemas import common_schema
from engine.inputs.submission_files import RawRow, submission_rows
from engine.inputs.valid_row import ValidRow as ValidRow
from engine.inputs.valid_row import canonical_content as canonical_content
from engine.inputs.valid_row import content_hash as content_hash
from engine.inputs.validated_rows import ValidatedRows

_HINT = "Fix these rows and submit the files again; valid rows were not stored either."

# --------------------------------------------------------------------------- validating rows


def validate_rows(
    rows: Iterable[RawRow], forms: Mapping[str, Form], place_codes: Collection[str]
) -> tuple[list[ValidRow], list[Problem]]:
    """Validate raw rows against their case type's form, the common columns and the place list.

    Returns the valid rows and every problem found (file:row:column: message); a row with any
    problem is not in the valid list.
    """
    rows = list(rows)
    by_file: dict[str, list[RawRow]] = {}
    for row in rows:
        by_file.setdefault(row.source_file, []).append(row)
    log = ProblemLog(list(by_file), keep=None)
    validator = _Validator(forms, place_codes, log)
    for source, file_rows in by_file.items():
        validator.begin_file(source, file_rows)
    results = [validator.row(row) for row in rows]
    for source in by_file:
        validator.finish_file(source)
    twice = validator.duplicates(lambda: ((row, frozenset()) for row in rows))
    valid = [r for r in results if r is not None and (r.source_file, r.source_row) not in twice]
    return valid, log.problems()


@dataclass
class _FileState:
    """What the validator knows of one file: its columns, and the case types its rows have shown."""

    header_row: int | None
    #: the columns the file has (with case_type when its template records it)
    present: set[str] = field(default_factory=set)
    #: columns missing from the file that a form in it requires: reported once, not on every row
    suppress: set[str] = field(default_factory=set)
    case_types: set[str] = field(default_factory=set)
    #: (row, column) of each problem the reader found, whose cell the validator does not report again
    unread: set[tuple[int | None, str]] = field(default_factory=set)
    finished: bool = False


class _Validator:
    def __init__(self, forms: Mapping[str, Form], place_codes: Collection[str], log: ProblemLog) -> None:
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
        self.log = log
        self.files: dict[str, _FileState] = {}
        #: hash() of every assessment id seen, 8 bytes each: duplicates are found from these
        self.ids: array[int] = array("q")

    def _add(self, state: _FileState, where: Location, message: str, phase: Phase) -> None:
        if (where.line, where.field or "") not in state.unread:
            self.log.add(Problem(where, message), phase)

    def begin_file(
        self, source: str, rows: Sequence[RawRow], unread: Iterable[tuple[int | None, str]] = ()
    ) -> _FileState:
        """Check a file's columns from ``rows`` (its first row, when every row has the same columns
        as CSV and XLSX rows have; else all of them): unknown ones, and the common ones missing.
        ``unread``: the cells (row, column) of the problems its reader found so far."""
        state = self.files.get(source)
        if state is not None:  # the same file given twice: its columns are known already
            state.unread.update(unread)
            return state
        state = self.files[source] = _FileState(rows[0].header_row, unread=set(unread))
        first_with: dict[str, RawRow] = {}
        for row in rows:
            for column in row.values:
                first_with.setdefault(column, row)
        for column, row in first_with.items():
            if column not in self.order:
                loc = Location(source, state.header_row if state.header_row is not None else row.row, column)
                hint = suggest(column, self.known, ignore_case=False, list_known=False)
                self._add(state, loc, f"unknown column{hint}", Phase.COLUMNS)
        state.present = set(first_with)
        if all(r.template_case_type for r in rows):
            state.present.add("case_type")  # the template's own case type stands in for the column
        state.suppress = {c for c in COMMON_COLUMNS if c not in state.present}
        return state

    def finish_file(self, source: str) -> None:
        """Report the columns missing from a file that are required: the common ones, and each
        question every row of a case type in it must answer."""
        state = self.files[source]
        if state.finished:
            return
        state.finished = True
        required = [(c, "missing required column") for c in COMMON_COLUMNS]
        for case_type in sorted(state.case_types & set(self.forms)):
            required += [
                (q.id, f"missing column required by the {case_type} form")
                for q in self.forms[case_type].questions
                if q.required
            ]
        reported: set[str] = set()
        for column, message in required:
            if column not in state.present and column not in reported:
                reported.add(column)
                self._add(state, Location(source, state.header_row, column), message, Phase.COLUMNS)

    def row(self, row: RawRow) -> ValidRow | None:
        state = self.files[row.source_file]
        case_type = _case_type(row)
        if case_type not in state.case_types:
            state.case_types.add(case_type)
            form = self.forms.get(case_type)
            if form is not None:
                state.suppress.update(
                    q.id for q in form.questions if q.required and q.id not in state.present
                )
        assessment_id = row.values.get("assessment_id")
        if not is_blank(assessment_id):
            self.ids.append(hash(as_text(assessment_id).strip()))
        return self._row(row, state)

    def duplicates(
        self, rows_again: Callable[[], Iterable[tuple[RawRow, Collection[tuple[int | None, str]]]]]
    ) -> set[tuple[str, int]]:
        """Report every row whose assessment id an earlier row has; returns their (file, row).

        Found from the ids' hashes; only when two are equal are the rows read again (``rows_again``:
        each with the (row, column) of its reader problems) to name both rows."""
        ordered = sorted(self.ids)
        candidates = {a for a, b in zip(ordered, ordered[1:], strict=False) if a == b}
        del ordered
        twice: set[tuple[str, int]] = set()
        if not candidates:
            return twice
        first_seen: dict[str, tuple[str, int]] = {}
        for row, unread in rows_again():
            assessment_id = row.values.get("assessment_id")
            if is_blank(assessment_id):
                continue
            key = as_text(assessment_id).strip()
            if hash(key) not in candidates:
                continue
            earlier = first_seen.setdefault(key, (row.source_file, row.row))
            if earlier != (row.source_file, row.row):
                twice.add((row.source_file, row.row))
                if (row.row, "assessment_id") not in unread:
                    where = f"{earlier[0]} row {earlier[1]}"
                    self.log.add(
                        Problem(
                            Location(row.source_file, row.row, "assessment_id"),
                            f"duplicate assessment_id '{key}': also at {where}",
                        ),
                        Phase.ROW,
                    )
        return twice

    def _row(self, row: RawRow, state: _FileState) -> ValidRow | None:
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
        found = [(c, m) for c, m in found if c not in state.suppress]
        for column, message in sorted(found, key=lambda cm: self.order.get(cm[0], len(self.order))):
            self._add(state, Location(row.source_file, row.row, column), message, Phase.ROW)
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
    """Read and validate every file; any problem in any file raises one SubmissionError (store nothing).
    The valid rows as a list: see :func:`validate_submission` for a submission of any size."""
    valid: list[ValidRow] = []
    _validate_files(paths, forms, place_codes, sheet, valid.append)
    return valid


def validate_submission(
    paths: Sequence[Path],
    forms: Mapping[str, Form],
    place_codes: Collection[str],
    sheet: str | None = None,
) -> ValidatedRows:
    """Read and validate every file as :func:`load_submission_files` does, keeping the valid rows in
    a temporary file instead of memory: iterate the result (a context manager) to store them.

    Example: with validate_submission(paths, forms, places) as rows: store(rows)
    """
    rows = ValidatedRows()
    try:
        _validate_files(paths, forms, place_codes, sheet, rows.add)
    except BaseException:
        rows.close()
        raise
    return rows


def _validate_files(
    paths: Sequence[Path],
    forms: Mapping[str, Form],
    place_codes: Collection[str],
    sheet: str | None,
    keep: Callable[[ValidRow], None],
) -> None:
    log = ProblemLog([str(p) for p in paths])
    validator = _Validator(forms, place_codes, log)
    for path in paths:
        _validate_file(path, sheet, validator, keep)
    validator.duplicates(lambda: _rows_again(paths, sheet))
    if log:
        raise SubmissionError(
            f"nothing stored: {log.summary()}", log.problems(), hint=_HINT, omitted=log.omitted
        )


def _validate_file(
    path: Path, sheet: str | None, validator: _Validator, keep: Callable[[ValidRow], None]
) -> None:
    """Read one file and validate each row as it is read; each reader problem is logged (and its cell
    not reported again) before the row it concerns is validated."""
    source, log = str(path), validator.log
    pending: list[Problem] = []
    reported = 0
    unread: set[tuple[int | None, str]] = set()

    def drain() -> None:
        nonlocal reported
        for problem in pending:
            log.add(problem, Phase.READER)
            if problem.location.field:
                unread.add((problem.location.line, problem.location.field))
        reported += len(pending)
        pending.clear()

    rows = submission_rows(path, pending, sheet=sheet)
    first = next(rows, None)
    if first is None:
        drain()
        if not reported:
            problem = Problem(Location(source), "no assessment rows found (is it the right file or sheet?)")
            log.add(problem, Phase.READER)
        return
    # JSON is read whole already, and its rows may have different columns: all of them say which
    whole = [first, *rows] if first.header_row is None else [first]
    drain()
    state = validator.begin_file(source, whole, unread)
    unread = state.unread
    for row in itertools.chain(whole, rows):
        if pending:
            drain()
        _keep(validator.row(row), keep)
        if len(unread) > 1000:  # only the header's cells and this row's still matter
            unread -= {u for u in unread if u[0] not in (state.header_row, row.row)}
    drain()
    validator.finish_file(source)


def _keep(row: ValidRow | None, keep: Callable[[ValidRow], None]) -> None:
    if row is not None:
        keep(row)


def _rows_again(
    paths: Sequence[Path], sheet: str | None
) -> Iterator[tuple[RawRow, Collection[tuple[int | None, str]]]]:
    """Every file's rows read again, each with the cells of the reader's problems at its row."""
    for path in paths:
        pending: list[Problem] = []
        for row in submission_rows(path, pending, sheet=sheet):
            yield row, {(p.location.line, p.location.field or "") for p in pending if p.location.field}
            pending.clear()
