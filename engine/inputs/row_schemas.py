"""The marshmallow schemas a QA form builds: each answer and common column normalised (closed answers,
dates, whole numbers, text, place and case type codes), then required and conditional answers and the
date order checked across the row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from marshmallow import Schema, ValidationError, fields, validates_schema
from marshmallow import missing as missing_

from engine.core.models import COMMON_COLUMNS, AnswerType
from engine.core.shape import suggest
from engine.inputs.cells import as_text, shown, to_date

if TYPE_CHECKING:
    from engine.inputs.forms import Question

#: longest value stored for each free-text common column (engine/store/db.py column sizes)
COMMON_MAX_LENGTH: Mapping[str, int] = {
    "assessment_id": 120,
    "case_ref": 120,
    "team": 200,
    "officer": 200,
    "reviewer": 200,
}
COMMON_DATE_COLUMNS: tuple[str, ...] = ("assessed_on", "case_date")
_CLOSED = (AnswerType.JUDGEMENT, AnswerType.CHOICE)


# --------------------------------------------------------------------------- normalising values


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
            raise ValidationError(f"'{shown(text)}' is not one of {', '.join(allowed)}")
        return found

    return normalise


def _date_text(value: Any) -> str | None:
    day = to_date(value)
    return None if day is None else day.isoformat()


_INT_RE = re.compile(r"^[+-]?\d+(?:\.0*)?$")
#: the most digits a whole-number answer may have: answers are counts, and a longer number is a typing
#: error (Python refuses to read one of over 4,300 digits; 18 digits still fit the rule engine's 64 bits)
MAX_INTEGER_DIGITS = 18


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
                raise ValidationError(f"'{shown(text)}' is not a whole number")
            whole = text.split(".")[0]
            digits = whole.lstrip("+-").lstrip("0")
            if len(digits) > MAX_INTEGER_DIGITS:
                raise ValidationError(
                    f"'{shown(text)}' has {len(digits):,} digits: a whole-number answer has at most "
                    f"{MAX_INTEGER_DIGITS}"
                )
            number = int(digits or "0") * (-1 if whole.startswith("-") else 1)
        if len(str(abs(number))) > MAX_INTEGER_DIGITS:
            raise ValidationError(
                f"'{shown(str(number))}' is too large: a whole-number answer has at most {MAX_INTEGER_DIGITS} digits"
            )
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
            # listed in the force's (or the forms') order, even when there are none
            hint = suggest(text, known, cutoff=0.5, ignore_case=False, list_known=False)
            more = hint or f" (known: {', '.join(known)})"
            raise ValidationError(f"'{shown(text)}' is not a {noun}{more}")
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


class _Normalised(fields.Field[Any]):
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
class CommonSpec:
    """What the common columns accept: the force's place codes and the case types."""

    place_codes: tuple[str, ...]
    case_types: tuple[str, ...]


def _common_fields(spec: CommonSpec) -> dict[str, fields.Field[Any]]:
    out: dict[str, fields.Field[Any]] = {}
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


def build_schema(name: str, questions: Sequence[Question], common: CommonSpec | None) -> Schema:
    """A schema for ``questions``' answers, plus the common columns when ``common`` is given."""
    field_map: dict[str, fields.Field[Any]] = _common_fields(common) if common else {}
    field_map.update({q.id: _Normalised(_normaliser(q)) for q in questions})
    cls = cast("type[_RowSchema]", _RowSchema.from_dict(field_map, name=name))
    cls._questions = tuple(questions)
    cls._with_common = common is not None
    return cls()


def common_schema(place_codes: Collection[str], case_types: Collection[str]) -> Schema:
    """A schema for the common columns only (rows whose case type has no form)."""
    return build_schema("common_row", (), CommonSpec(tuple(place_codes), tuple(case_types)))
