"""QA form definitions (qa_forms/<case_type>.yaml): loading, validating, and the marshmallow schemas
built from them. The only place the form schema and the canonical question ids (DOMAIN.md Part A) live.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validates_schema
from marshmallow import missing as missing_

from engine.core.errors import ConfigError, FormError, Location, Problem, problems_summary
from engine.core.models import CASE_TYPES, COMMON_COLUMNS, JUDGEMENT_ANSWERS, AnswerType, FieldSpec
from engine.core.yamlio import LineDict, LineList, load_yaml

# Dates outside this range are almost always a typo in the year (0224, 2224).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)
# Excel's day 0; serial 60 is its phantom 1900-02-29, irrelevant after DATE_MIN's first weeks.
EXCEL_EPOCH = dt.date(1899, 12, 30)

#: longest value stored for each free-text common column (engine/store/db.py column sizes)
COMMON_MAX_LENGTH: Mapping[str, int] = {
    "assessment_id": 120,
    "case_ref": 120,
    "team": 200,
    "officer": 200,
    "reviewer": 200,
}
COMMON_DATE_COLUMNS: tuple[str, ...] = ("assessed_on", "case_date")
#: what each common column means, for templates and `qam forms show`
COMMON_HELP: Mapping[str, str] = {
    "assessment_id": "Your unique id for this assessment, e.g. SS-2026-0001. Re-using it replaces nothing: "
    "a changed row under an existing id is rejected unless submitted as an amendment.",
    "case_type": "The QA form this row answers (fixed for this template).",
    "case_ref": "The force's reference for the sampled case (crime, search or incident reference).",
    "place": "The place (district) code the case belongs to, from the force's place list.",
    "team": "The team that handled the case.",
    "officer": "The officer in the case (name or collar number).",
    "reviewer": "Your name: the QA reviewer who assessed the case.",
    "assessed_on": "The date you assessed the case (YYYY-MM-DD); not before the case date.",
    "case_date": "The date of the case: the search, the report, or the charge (YYYY-MM-DD).",
}


@dataclass(frozen=True)
class _Canon:
    """What DOMAIN.md Part A fixes for one canonical question: its type(s) and allowed values."""

    types: frozenset[AnswerType]
    values: tuple[str, ...] | None = None  # None: the form chooses (choice codes or free text)
    minimum: int | None = None
    maximum: int | None = None


_J = AnswerType.JUDGEMENT
_YN = _Canon(frozenset({_J}), ("yes", "no"))
_YNNA = _Canon(frozenset({_J}), ("yes", "no", "na"))
_YPN = _Canon(frozenset({_J}), ("yes", "partly", "no"))
_DATE = _Canon(frozenset({AnswerType.DATE}))
_TEXT = _Canon(frozenset({AnswerType.TEXT}))
_CHOICE_OR_TEXT = _Canon(frozenset({AnswerType.CHOICE, AnswerType.TEXT}))


def _choice(*values: str) -> _Canon:
    return _Canon(frozenset({AnswerType.CHOICE}), values)


#: DOMAIN.md Part A: the question ids each form must keep, with their answer types and values.
CANONICAL_QUESTIONS: Mapping[str, Mapping[str, _Canon]] = {
    "stop_search": {
        "power": _choice("pace_s1", "mda_s23", "s60", "s47a", "other"),
        "grounds_recorded": _YN,
        "grounds_reasonable": _YPN,
        "object_recorded": _YN,
        "object_found": _YN,
        "outcome_recorded": _YN,
        "outcome_linked_to_object": _YN,
        "ethnicity_self_defined_recorded": _YN,
        "officer_identity_recorded": _YN,
        "gowisely_given": _YPN,
        "bwv_activated": _YN,
        "receipt_offered": _YN,
        "authorisation_recorded": _YNNA,
        "strip_search": _YN,
        "strip_search_authorised": _YNNA,
        "supervisor_reviewed": _YN,
        "notes": _TEXT,
    },
    "victim_care": {
        "enhanced_rights_eligible": _YN,
        "enhanced_rights_identified": _YN,
        "crime_recorded_on": _DATE,
        "written_confirmation_given": _YN,
        "needs_assessment_done": _YN,
        "support_referral_on": _DATE,
        "support_referral_declined": _YN,
        "suspect_event_on": _DATE,
        "victim_updated_on": _DATE,
        "update_plan_agreed": _YN,
        "vps_offered": _YN,
        "update_quality": _choice("good", "adequate", "poor"),
        "notes": _TEXT,
    },
    "crime_file": {
        "anticipated_plea": _choice("gap", "ngap"),
        "charged_on": _DATE,
        "file_submitted_on": _DATE,
        "mg5_present": _YN,
        "mg5_balanced": _YPN,
        "points_to_prove_set_out": _YN,
        "interview_summary_adequate": _Canon(frozenset({_J}), ("yes", "partly", "no", "na")),
        "key_statements_present": _YN,
        "exhibits_present": _YN,
        "previous_convictions_attached": _YN,
        "unused_schedule_present": _YNNA,
        "unused_items_described": _YNNA,
        "disclosure_officer_report_present": _YNNA,
        "supervisor_certified": _YN,
        "da_checklist_present": _YNNA,
        "victim_details_protected": _YN,
        "cps_rejected": _YN,
        "rejection_reason": _CHOICE_OR_TEXT,
        "notes": _TEXT,
    },
    "investigation": {
        "crime_type": _CHOICE_OR_TEXT,
        "investigation_plan_recorded": _YN,
        "supervisor_review_recorded": _YN,
        "supervisory_direction_quality": _choice("good", "adequate", "poor", "none"),
        "loe_scene_forensic": _YNNA,
        "loe_cctv": _YNNA,
        "loe_house_to_house": _YNNA,
        "loe_witnesses": _YNNA,
        "loe_digital": _YNNA,
        "loe_bwv": _YNNA,
        "suspect_identified": _YN,
        "victim_contact_per_plan": _YN,
        "outcome_appropriate": _YN,
        "victim_view_recorded": _YN,
        "notes": _TEXT,
    },
    "domestic_abuse": {
        "dash_completed": _YN,
        "dash_risk": _choice("standard", "medium", "high"),
        "dash_yes_count": _Canon(frozenset({AnswerType.INTEGER}), None, 0, 27),
        "marac_referral_made": _YN,
        "children_present": _YN,
        "child_referral_made": _YN,
        "bwv_captured": _YN,
        "evidence_led_considered": _YN,
        "dvpn_considered": _YN,
        "dvds_considered": _YN,
        "repeat_victim": _YN,
        "safeguarding_plan_recorded": _YN,
        "notes": _TEXT,
    },
}

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_MEASURE_RE = re.compile(r"^[MD](?:[1-9]|1[0-2])$")
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_FORM_KEYS = ("form", "title", "version", "measure", "questions")
_QUESTION_KEYS = (
    "id",
    "text",
    "help",
    "type",
    "answers",
    "choices",
    "min",
    "max",
    "required",
    "required_when",
    "measure",
)
_CLOSED = (AnswerType.JUDGEMENT, AnswerType.CHOICE)


@dataclass(frozen=True)
class Question:
    """One question of a QA form."""

    id: str
    text: str
    help: str
    type: AnswerType
    measure: str
    #: allowed answers (judgement subset or choice codes); None for date/integer/text
    allowed: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    #: all must hold: ((question id, allowed values), ...); then the answer is required and not na
    required_when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    line: int = 0

    @property
    def allows_na(self) -> bool:
        return self.allowed is not None and "na" in self.allowed

    def values_text(self) -> str:
        """The answers a reviewer may give, for tables and template comments."""
        if self.allowed is not None:
            return " | ".join(self.allowed)
        if self.type is AnswerType.INTEGER:
            lo = "" if self.minimum is None else str(self.minimum)
            hi = "" if self.maximum is None else str(self.maximum)
            return f"whole number {lo}-{hi}" if lo or hi else "whole number"
        if self.type is AnswerType.DATE:
            return "date YYYY-MM-DD"
        return "free text"

    def condition_text(self) -> str:
        """'power is s60 or s47a and ...' (empty when unconditional)."""
        return " and ".join(f"{qid} is {' or '.join(values)}" for qid, values in self.required_when)

    def requirement_text(self) -> str:
        """'required', 'optional', or 'required when strip_search is yes, else na or blank'."""
        if self.required_when:
            otherwise = "na or blank" if self.allows_na else "blank"
            return f"required when {self.condition_text()}, else {otherwise}"
        return "required" if self.required else "optional"

    def field_spec(self) -> FieldSpec:
        return FieldSpec(self.id, self.type, self.allowed, self.minimum, self.maximum)


@dataclass(frozen=True)
class Form:
    """A loaded, validated QA form for one case type."""

    case_type: str
    title: str
    version: str
    measure: str
    questions: tuple[Question, ...]
    source: str = ""
    sha256: str = ""

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of a submission row for this form, in template order."""
        return COMMON_COLUMNS + self.question_ids

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def field_specs(self) -> dict[str, FieldSpec]:
        """Question id -> FieldSpec, for the ruleset validator."""
        return {q.id: q.field_spec() for q in self.questions}

    def schema(self) -> Schema:
        """A marshmallow schema validating and normalising one row's answers (question ids only)."""
        return _build_schema(f"{self.case_type}_answers", self.questions, common=None)

    def row_schema(self, place_codes: Collection[str], case_types: Collection[str] | None = None) -> Schema:
        """Like :meth:`schema`, plus the common columns (place must be one of ``place_codes``)."""
        common = _CommonSpec(tuple(place_codes), tuple(case_types or (self.case_type,)))
        return _build_schema(f"{self.case_type}_row", self.questions, common=common)


# --------------------------------------------------------------------------- normalising values


def is_blank(value: Any) -> bool:
    """None, or a string of only whitespace: 'not answered'."""
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def as_text(value: Any) -> str:
    """A cell value as the text a reviewer typed (7.0 from a spreadsheet is '7', None is '')."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _closed(allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    lookup = {a: a for a in allowed}
    if "na" in lookup:
        lookup["n/a"] = "na"  # what reviewers commonly type

    def normalise(value: Any) -> str | None:
        text = as_text(value).strip()
        if not text:
            return None
        found = lookup.get(text.lower())
        if found is None:
            raise ValidationError(f"'{_shown(text)}' is not one of {', '.join(allowed)}")
        return found

    return normalise


_ISO_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_SERIAL_RE = re.compile(r"^\d{1,5}(?:\.\d+)?$")


def to_date(value: Any) -> dt.date | None:
    """ISO text, an Excel serial day number, or a date/datetime -> date; blank -> None.

    Raises marshmallow's ValidationError with a message for the reviewer.
    """
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        day = _from_serial(value)
    else:
        text = as_text(value).strip()
        if not text:
            return None
        if _SERIAL_RE.match(text):
            day = _from_serial(float(text))
        else:
            match = _ISO_DATE_RE.match(text)
            try:
                day = dt.date.fromisoformat(match.group(1)) if match else None
            except ValueError:
                raise ValidationError(f"'{_shown(text)}' is not a real date") from None
            if day is None:
                raise ValidationError(f"'{_shown(text)}' is not a date (use YYYY-MM-DD)")
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(f"{day.isoformat()} is outside {DATE_MIN.year}-{DATE_MAX.year}: check the year")
    return day


def _from_serial(serial: float) -> dt.date:
    if not 1 <= serial < (DATE_MAX - EXCEL_EPOCH).days + 1:
        raise ValidationError(f"'{as_text(serial)}' is not a date (use YYYY-MM-DD)")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _date_text(value: Any) -> str | None:
    day = to_date(value)
    return None if day is None else day.isoformat()


_INT_RE = re.compile(r"^[+-]?\d+(?:\.0*)?$")


def _integer(minimum: int | None, maximum: int | None) -> Callable[[Any], int | None]:
    def normalise(value: Any) -> int | None:
        if isinstance(value, bool):
            raise ValidationError(f"'{as_text(value)}' is not a whole number")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            text = as_text(value).strip()
            if not text:
                return None
            if not _INT_RE.match(text):
                raise ValidationError(f"'{_shown(text)}' is not a whole number")
            number = int(text.split(".")[0])
        if minimum is not None and number < minimum:
            raise ValidationError(f"{number} is below the minimum {minimum}")
        if maximum is not None and number > maximum:
            raise ValidationError(f"{number} is above the maximum {maximum}")
        return number

    return normalise


def _text(value: Any) -> str | None:
    # Stored exactly as given (markup, '=' prefixes and all): outputs make it inert, not inputs.
    text = as_text(value)
    return text if text.strip() else None


def _short_text(max_length: int) -> Callable[[Any], str | None]:
    def normalise(value: Any) -> str | None:
        text = as_text(value).strip()
        if len(text) > max_length:
            raise ValidationError(f"is {len(text)} characters long; at most {max_length} are allowed")
        return text or None

    return normalise


def _code(known: tuple[str, ...], noun: str, upper: bool) -> Callable[[Any], str | None]:
    lookup = {k.upper() if upper else k.lower(): k for k in known}

    def normalise(value: Any) -> str | None:
        text = as_text(value).strip()
        if not text:
            return None
        found = lookup.get(text.upper() if upper else text.lower())
        if found is None:
            hint = difflib.get_close_matches(text, known, n=1, cutoff=0.5)
            more = f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(known)})"
            raise ValidationError(f"'{_shown(text)}' is not a {noun}{more}")
        return found

    return normalise


def _normaliser(q: Question) -> Callable[[Any], Any]:
    if q.type in _CLOSED:
        assert q.allowed is not None
        return _closed(q.allowed)
    if q.type is AnswerType.DATE:
        return _date_text
    if q.type is AnswerType.INTEGER:
        return _integer(q.minimum, q.maximum)
    return _text


# --------------------------------------------------------------------------- the schema builder


class _Normalised(fields.Field):
    """A field whose loading is one normalising function; blank loads as None."""

    def __init__(self, normalise: Callable[[Any], Any]) -> None:
        super().__init__(allow_none=True)
        self._normalise = normalise

    def deserialize(
        self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        # The normaliser is the whole of loading (no validators or defaults): skipping the generic
        # machinery halves the cost per cell, which a 50 MB submission notices.
        if value is missing_ or value is None:
            return value
        return self._normalise(value)


@dataclass(frozen=True)
class _CommonSpec:
    place_codes: tuple[str, ...]
    case_types: tuple[str, ...]


def _common_fields(spec: _CommonSpec) -> dict[str, fields.Field]:
    out: dict[str, fields.Field] = {}
    for column in COMMON_COLUMNS:
        if column == "case_type":
            out[column] = _Normalised(_code(spec.case_types, "case type", upper=False))
        elif column == "place":
            out[column] = _Normalised(_code(spec.place_codes, "place of this force", upper=True))
        elif column in COMMON_DATE_COLUMNS:
            out[column] = _Normalised(to_date)
        else:
            out[column] = _Normalised(_short_text(COMMON_MAX_LENGTH[column]))
    return out


class _RowSchema(Schema):
    """Base of every generated schema: required and conditional answers, date order."""

    _questions: ClassVar[tuple[Question, ...]] = ()
    _with_common: ClassVar[bool] = False

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _check_requirements(
        self, data: dict[str, Any], original_data: Mapping[str, Any], **kwargs: Any
    ) -> None:
        # A field missing from ``data`` but present in the input already has its own error.
        failed = {k for k in original_data if k not in data}
        errors: dict[str, list[str]] = {}
        if self._with_common:
            for column in COMMON_COLUMNS:
                if column not in failed and data.get(column) is None:
                    errors[column] = ["a value is required"]
            assessed, case = data.get("assessed_on"), data.get("case_date")
            if assessed is not None and case is not None and assessed < case:
                errors["assessed_on"] = [f"{assessed.isoformat()} is before the case date {case.isoformat()}"]
        for q in self._questions:
            if q.id in failed:
                continue
            answer = data.get(q.id)
            message = _requirement_problem(q, answer, data, failed | set(errors))
            if message:
                errors[q.id] = [message]
        if errors:
            raise ValidationError(errors)


def _requirement_problem(q: Question, answer: Any, data: Mapping[str, Any], failed: set[str]) -> str | None:
    if not q.required_when:
        return "an answer is required" if q.required and answer is None else None
    if any(qid in failed for qid, _ in q.required_when):
        return None  # the controlling answer is already reported
    holds = all(data.get(qid) in values for qid, values in q.required_when)
    if holds:
        if answer is None:
            return f"an answer is required when {q.condition_text()}"
        if answer == "na":
            return f"must not be na when {q.condition_text()}"
        return None
    if answer is None or answer == "na":
        return None
    actual = ", ".join(f"{qid} is {data.get(qid) or 'blank'}" for qid, _ in q.required_when)
    otherwise = "na or blank" if q.allows_na else "blank"
    return f"must be {otherwise} unless {q.condition_text()} ({actual})"


def _build_schema(name: str, questions: Sequence[Question], common: _CommonSpec | None) -> Schema:
    field_map: dict[str, fields.Field] = _common_fields(common) if common else {}
    field_map.update({q.id: _Normalised(_normaliser(q)) for q in questions})
    cls = _RowSchema.from_dict(field_map, name=name)
    cls._questions = tuple(questions)
    cls._with_common = common is not None
    return cls()


def common_schema(place_codes: Collection[str], case_types: Collection[str]) -> Schema:
    """A schema for the common columns only (rows whose case type has no form)."""
    return _build_schema("common_row", (), _CommonSpec(tuple(place_codes), tuple(case_types)))


# --------------------------------------------------------------------------- loading form files


def load_forms(forms_dir: Path) -> dict[str, Form]:
    """Load every ``<case_type>.yaml`` in ``forms_dir``; all problems of all files raise one FormError.

    Every case type of DOMAIN.md must have a form.
    """
    problems: list[Problem] = []
    forms: dict[str, Form] = {}
    if not forms_dir.is_dir():
        raise FormError(
            "cannot load QA forms", [Problem(Location(str(forms_dir)), "is not a folder of QA form files")]
        )
    for path in sorted(forms_dir.glob("*.yaml")):
        form, found = _load(path)
        problems.extend(found)
        if form is not None:
            forms[form.case_type] = form
    loaded_stems = {p.stem for p in forms_dir.glob("*.yaml")}
    for case_type in CASE_TYPES:
        if case_type not in loaded_stems:
            problems.append(
                Problem(
                    Location(str(forms_dir / f"{case_type}.yaml")), f"no QA form for case type {case_type}"
                )
            )
    if problems:
        raise FormError(f"invalid QA forms: {problems_summary(problems, 'file')}", problems)
    return {ct: forms[ct] for ct in CASE_TYPES}


def load_form(path: Path) -> Form:
    """Load and validate one form file; every problem is reported at once as ``file:line: message``."""
    form, problems = _load(path)
    if problems or form is None:
        raise FormError(f"invalid QA form: {problems_summary(problems, 'file')}", problems)
    return form


def _load(path: Path) -> tuple[Form | None, list[Problem]]:
    source = str(path)
    try:
        data = load_yaml(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except ConfigError as exc:
        return None, [Problem(exc.location or Location(source), exc.message)]
    checker = _FormChecker(source, path.stem)
    form = checker.check(data, digest)
    return (form if not checker.problems else None), checker.problems


class _FormChecker:
    """Validates one parsed form file, collecting every problem with its line."""

    def __init__(self, source: str, stem: str) -> None:
        self.source = source
        self.stem = stem
        self.problems: list[Problem] = []

    def _add(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(Location(self.source, line), message))

    def check(self, data: Any, digest: str) -> Form | None:
        if not isinstance(data, LineDict):
            self._add(1, "a QA form must be a mapping with keys " + ", ".join(_FORM_KEYS))
            return None
        for key in data:
            if key not in _FORM_KEYS:
                self._add(data.line_of(key), f"unknown key '{key}'{suggest(key, _FORM_KEYS)}")
        for key in _FORM_KEYS:
            if key not in data:
                self._add(data.line, f"missing key '{key}'")
        case_type = self._string(data, "form")
        if case_type is not None and case_type not in CASE_TYPES:
            self._add(
                data.line_of("form"), f"unknown case type '{case_type}' (known: {', '.join(CASE_TYPES)})"
            )
        elif case_type is not None and case_type != self.stem:
            self._add(data.line_of("form"), f"form '{case_type}' must be in a file named {case_type}.yaml")
        title = self._string(data, "title")
        version = data.get("version")
        if "version" in data and not (isinstance(version, str) and _VERSION_RE.match(version)):
            self._add(data.line_of("version"), f"version must be text like '1.0.0' (got {version!r})")
        measure = self._measure(data, "measure")
        questions = self._questions(data.get("questions"), data.line_of("questions"), measure or "")
        if case_type in CANONICAL_QUESTIONS:
            self._check_canonical(case_type, questions, data.line_of("questions"))
        if self.problems or case_type is None or title is None or measure is None:
            return None
        return Form(case_type, title, str(version), measure, tuple(questions), self.source, digest)

    def _string(self, node: LineDict, key: str) -> str | None:
        value = node.get(key)
        if key not in node:
            return None
        if not isinstance(value, str) or not value.strip():
            self._add(node.line_of(key), f"'{key}' must be non-empty text")
            return None
        return value.strip()

    def _measure(self, node: LineDict, key: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if not (isinstance(value, str) and _MEASURE_RE.match(value)):
            self._add(node.line_of(key), f"measure must be one of M1-M12 or D1-D12 (got {value!r})")
            return None
        return value

    def _questions(self, items: Any, line: int, form_measure: str) -> list[Question]:
        if items is None:
            return []
        if not isinstance(items, LineList) or not items:
            self._add(line, "'questions' must be a non-empty list")
            return []
        questions: list[Question] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            item_line = items.line_of(index)
            if not isinstance(item, LineDict):
                self._add(item_line, "each question must be a mapping with id, text, help and type")
                continue
            q = self._question(item, form_measure, questions)
            if q is None:
                continue
            if q.id in seen:
                self._add(item.line_of("id"), f"duplicate question id '{q.id}' (first at line {seen[q.id]})")
                continue
            seen[q.id] = q.line
            questions.append(q)
        return questions

    def _question(self, node: LineDict, form_measure: str, earlier: list[Question]) -> Question | None:
        before = len(self.problems)
        for key in node:
            if key not in _QUESTION_KEYS:
                self._add(node.line_of(key), f"unknown key '{key}'{suggest(key, _QUESTION_KEYS)}")
        for key in ("id", "text", "help", "type"):
            if key not in node:
                self._add(node.line, f"question is missing '{key}'")
        qid = self._string(node, "id")
        if qid is not None and not _ID_RE.match(qid):
            self._add(node.line_of("id"), f"question id '{qid}' must be lower_snake_case")
        elif qid in COMMON_COLUMNS:
            self._add(node.line_of("id"), f"question id '{qid}' is a common column")
        text = self._string(node, "text")
        help_text = self._string(node, "help")
        qtype = self._type(node)
        allowed = self._allowed(node, qtype)
        minimum, maximum = self._range(node, qtype)
        required = node.get("required", False)
        if not isinstance(required, bool):
            self._add(node.line_of("required"), f"'required' must be true or false (got {required!r})")
        conditions = self._conditions(node, qid, earlier)
        if required is True and conditions:
            self._add(
                node.line_of("required_when"), "a question is either required or required_when, not both"
            )
        measure = self._measure(node, "measure") if "measure" in node else form_measure
        if len(self.problems) > before or qid is None or text is None or help_text is None or qtype is None:
            return None
        return Question(
            id=qid,
            text=text,
            help=help_text,
            type=qtype,
            measure=measure or form_measure,
            allowed=allowed,
            minimum=minimum,
            maximum=maximum,
            required=required is True,
            required_when=conditions,
            line=node.line_of("id"),
        )

    def _type(self, node: LineDict) -> AnswerType | None:
        value = node.get("type")
        if value is None:
            return None
        try:
            return AnswerType(value)
        except ValueError:
            known = ", ".join(t.value for t in AnswerType)
            self._add(node.line_of("type"), f"unknown answer type {value!r} (known: {known})")
            return None

    def _allowed(self, node: LineDict, qtype: AnswerType | None) -> tuple[str, ...] | None:
        for key, owner in (("answers", AnswerType.JUDGEMENT), ("choices", AnswerType.CHOICE)):
            if key in node and qtype is not None and qtype is not owner:
                self._add(node.line_of(key), f"'{key}' is only for {owner.value} questions")
        if qtype is AnswerType.JUDGEMENT:
            return self._values(node, "answers", JUDGEMENT_ANSWERS)
        if qtype is AnswerType.CHOICE:
            return self._values(node, "choices", None)
        return None

    def _values(self, node: LineDict, key: str, universe: tuple[str, ...] | None) -> tuple[str, ...] | None:
        values = node.get(key)
        line = node.line_of(key)
        if key not in node:
            self._add(node.line, f"question needs '{key}'")
            return None
        if not isinstance(values, list) or not values:
            self._add(line, f"'{key}' must be a non-empty list")
            return None
        out: list[str] = []
        for value in values:
            if not isinstance(value, str) or value != value.strip().lower() or not value or "," in value:
                self._add(line, f"{key} must be lower-case text codes without commas (got {value!r})")
            elif universe is not None and value not in universe:
                self._add(line, f"'{value}' is not a judgement answer (allowed: {', '.join(universe)})")
            elif value in out:
                self._add(line, f"'{value}' is listed twice in '{key}'")
            elif value == "n/a":
                self._add(line, "'n/a' is read as na; use na")
            else:
                out.append(value)
        return tuple(out)

    def _range(self, node: LineDict, qtype: AnswerType | None) -> tuple[int | None, int | None]:
        bounds: list[int | None] = []
        for key in ("min", "max"):
            value = node.get(key)
            if key in node and qtype is not AnswerType.INTEGER:
                self._add(node.line_of(key), f"'{key}' is only for integer questions")
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                self._add(node.line_of(key), f"'{key}' must be a whole number (got {value!r})")
                value = None
            bounds.append(value)
        lo, hi = bounds
        if lo is not None and hi is not None and lo > hi:
            self._add(node.line_of("min"), f"min {lo} is greater than max {hi}")
        return lo, hi

    def _conditions(
        self, node: LineDict, qid: str | None, earlier: list[Question]
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        spec = node.get("required_when")
        if spec is None:
            return ()
        line = node.line_of("required_when")
        if not isinstance(spec, LineDict) or not spec:
            self._add(line, "'required_when' must map question ids to a value or a list of values")
            return ()
        by_id = {q.id: q for q in earlier}
        out: list[tuple[str, tuple[str, ...]]] = []
        for other, wanted in spec.items():
            where = spec.line_of(other)
            target = by_id.get(other)
            if other == qid:
                self._add(where, f"question '{qid}' cannot depend on itself")
                continue
            if target is None:
                self._add(
                    where,
                    f"condition on unknown question '{other}' (conditions may only use earlier questions)",
                )
                continue
            if target.allowed is None:
                self._add(
                    where, f"condition on '{other}', a {target.type.value} question: use a closed question"
                )
                continue
            values = wanted if isinstance(wanted, list) else [wanted]
            bad = [v for v in values if v not in target.allowed]
            if bad or not values:
                self._add(
                    where, f"'{other}' cannot be {bad or values!r} (allowed: {', '.join(target.allowed)})"
                )
                continue
            out.append((other, tuple(values)))
        return tuple(out)

    def _check_canonical(self, case_type: str, questions: list[Question], line: int) -> None:
        present = {q.id: q for q in questions}
        extra = [q.id for q in questions if q.id not in CANONICAL_QUESTIONS[case_type]]
        for qid, canon in CANONICAL_QUESTIONS[case_type].items():
            q = present.get(qid)
            if q is None:
                near = difflib.get_close_matches(qid, extra, n=1, cutoff=0.6)
                renamed = f" (renamed to '{near[0]}'? canonical ids may not change)" if near else ""
                self._add(line, f"canonical question '{qid}' of {case_type} is missing{renamed}")
                continue
            if q.type not in canon.types:
                want = " or ".join(sorted(t.value for t in canon.types))
                self._add(q.line, f"'{qid}' must be a {want} question (DOMAIN.md Part A)")
            elif canon.values is not None and set(q.allowed or ()) != set(canon.values):
                self._add(q.line, f"'{qid}' must allow exactly {', '.join(canon.values)} (DOMAIN.md Part A)")
            elif (canon.minimum, canon.maximum) != (None, None) and (q.minimum, q.maximum) != (
                canon.minimum,
                canon.maximum,
            ):
                self._add(q.line, f"'{qid}' must range {canon.minimum}-{canon.maximum} (DOMAIN.md Part A)")


def suggest(word: str, options: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for the closest option, or ''."""
    near = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{near[0]}'?)" if near else ""
