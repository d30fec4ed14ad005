"""QA form definitions (qa_forms/<case_type>.yaml): the Form and its Questions, and loading and validating
the form files, every problem with its line. The only place the form file schema lives.

The case types are the forms found in the forms folder: a new ``<type>.yaml`` is a new case type.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import Schema

from engine.core.errors import ConfigError, FormError, Location, Problem, UsageError, problems_summary
from engine.core.models import COMMON_COLUMNS, JUDGEMENT_ANSWERS, AnswerType, FieldSpec
from engine.core.shape import ShapeChecker
from engine.core.yamlio import LineDict, LineList, load_yaml
from engine.inputs.canonical_questions import CANONICAL_QUESTIONS, canonical_problems
from engine.inputs.row_schemas import CommonSpec, build_schema

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

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: a case type is stored in columns of this width (engine.store.db)
CASE_TYPE_MAX_LENGTH = 40
_MEASURE_RE = re.compile(r"^[MD](?:[1-9]|1[0-2])$")
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_FORM_KEYS = ("form", "title", "version", "measure", "questions")
#: optional keys: what one case is called in briefings and reasons ("missing from home", "missing episodes")
_FORM_OPTIONAL = ("label", "noun")
#: a label or noun is a short phrase of plain words
_WORDS_MAX = 60
#: the words of the bundled case types, where their form declares none
BUNDLED_WORDS: Mapping[str, tuple[str, str]] = {
    "stop_search": ("stop searches", "searches"),
    "victim_care": ("victim care", "victim cases"),
    "crime_file": ("crime files", "case files"),
    "investigation": ("investigations", "investigations"),
    "domestic_abuse": ("domestic abuse", "domestic abuse cases"),
}
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
    #: what a case of this type is called: the label in lists ("missing from home 12"), the noun
    #: in reasons ("30 of 212 missing episodes reviewed"); default_words() when the form gives none
    label: str = ""
    noun: str = ""

    def __post_init__(self) -> None:
        label, noun = default_words(self.case_type)
        object.__setattr__(self, "label", self.label or label)
        object.__setattr__(self, "noun", self.noun or noun)

    @property
    def items(self) -> tuple[str, ...]:
        """The catalogue items the form feeds, its own first, then those its questions name:
        ('D7', 'M7') for missing from home."""
        return tuple(dict.fromkeys((self.measure, *(q.measure for q in self.questions))))

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
        return build_schema(f"{self.case_type}_answers", self.questions, common=None)

    def row_schema(self, place_codes: Collection[str], case_types: Collection[str] | None = None) -> Schema:
        """Like :meth:`schema`, plus the common columns (place must be one of ``place_codes``)."""
        common = CommonSpec(tuple(place_codes), tuple(case_types or (self.case_type,)))
        return build_schema(f"{self.case_type}_row", self.questions, common=common)


# --------------------------------------------------------------------------- loading form files


def load_forms(forms_dir: Path) -> dict[str, Form]:
    """Load every ``<case_type>.yaml`` in ``forms_dir``: the case types in use, sorted by id (the order
    every list of case types follows). All problems of all files raise one FormError.

    A form of one of the five bundled case types must keep its canonical questions (docs/submissions.md);
    any other file is a case type of the force's own.
    """
    problems: list[Problem] = []
    forms: dict[str, Form] = {}
    if not forms_dir.is_dir():
        raise FormError(
            "cannot load QA forms", [Problem(Location(str(forms_dir)), "is not a folder of QA form files")]
        )
    paths = sorted(p for p in forms_dir.glob("*.yaml") if not p.name.startswith("."))
    if not paths:
        raise FormError(
            "cannot load QA forms", [Problem(Location(str(forms_dir)), "holds no QA form files (*.yaml)")]
        )
    for path in paths:
        form, found = _load(path)
        problems.extend(found)
        if form is not None:
            forms[form.case_type] = form
    if problems:
        raise FormError(f"invalid QA forms: {problems_summary(problems, 'file')}", problems)
    return dict(sorted(forms.items()))


def default_words(case_type: str) -> tuple[str, str]:
    """(label, noun) of a case type whose form declares none: the bundled types' own words, else the
    type's id in words and "cases" ("hate_crime" -> ("hate crime", "hate crime cases"))."""
    if case_type in BUNDLED_WORDS:
        return BUNDLED_WORDS[case_type]
    words = case_type.replace("_", " ")
    return words, f"{words} cases"


def form_of(forms: Mapping[str, Form], case_type: str) -> Form:
    """The form of ``case_type``; a UsageError naming the known case types (the forms folder's) if none."""
    found = forms.get(case_type)
    if found is None:
        raise UsageError(f"unknown case type '{case_type}' (known: {', '.join(sorted(forms))})")
    return found


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


class _FormChecker(ShapeChecker):
    """Validates one parsed form file, collecting every problem with its line."""

    def __init__(self, source: str, stem: str) -> None:
        # a form's unknown keys are suggested case by case, and known keys are not listed
        super().__init__(source, [], ignore_case=False, list_known=False)
        self.stem = stem

    def check(self, data: Any, digest: str) -> Form | None:
        contents = "keys " + ", ".join(_FORM_KEYS)
        if self.mapping(data, 1, "a QA form", contents=contents) is None:
            return None
        assert isinstance(data, LineDict)  # every mapping load_yaml returns is one
        self.keys(data, "", required=_FORM_KEYS, optional=_FORM_OPTIONAL, missing="missing key '{key}'")
        case_type = self._string(data, "form")
        if case_type is not None and not _ID_RE.match(case_type):
            self.problem(
                data.line_of("form"),
                f"case type '{case_type}' must be lower_snake_case, like problem_solving",
            )
        elif case_type is not None and len(case_type) > CASE_TYPE_MAX_LENGTH:
            self.problem(
                data.line_of("form"),
                f"case type '{case_type}' is {len(case_type)} characters long; "
                f"at most {CASE_TYPE_MAX_LENGTH} are allowed",
            )
        elif case_type is not None and case_type != self.stem:
            self.problem(data.line_of("form"), f"form '{case_type}' must be in a file named {case_type}.yaml")
        title = self._string(data, "title")
        version = data.get("version")
        if "version" in data and not (isinstance(version, str) and _VERSION_RE.match(version)):
            self.problem(data.line_of("version"), f"version must be text like '1.0.0' (got {version!r})")
        measure = self._measure(data, "measure")
        questions = self._questions(data.get("questions"), data.line_of("questions"), measure or "")
        if case_type is not None and case_type in CANONICAL_QUESTIONS:
            for line, message in canonical_problems(case_type, questions, data.line_of("questions")):
                self.problem(line, message)
        label, noun = self._words(data, "label"), self._words(data, "noun")
        if self.problems or case_type is None or title is None or measure is None:
            return None
        words = {"label": label or "", "noun": noun or ""}
        return Form(case_type, title, str(version), measure, tuple(questions), self.source, digest, **words)

    def _words(self, node: LineDict, key: str) -> str | None:
        """An optional label or noun: one line of plain words as they read mid-sentence, each word in
        lower case or an acronym in capitals ('ASB case reviews', not 'Case Reviews')."""
        value = self._string(node, key)
        if value is None:
            return None
        words = [w for w in re.split(r"[ ()'-]+", value) if w]
        plain = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 '()-]*", value) and all(
            w.islower() or w.isupper() or w.isdigit() for w in words
        )
        if len(value) > _WORDS_MAX or not plain:
            self.problem(
                node.line_of(key),
                f"'{key}' must be a few words on one line, at most {_WORDS_MAX} characters, as they read "
                f"mid-sentence: lower case, or an acronym in capitals (got {value!r})",
            )
            return None
        return value

    def _string(self, node: LineDict, key: str) -> str | None:
        value = node.get(key)
        if key not in node:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(node.line_of(key), f"'{key}' must be non-empty text")
            return None
        return value.strip()

    def _measure(self, node: LineDict, key: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if not (isinstance(value, str) and _MEASURE_RE.match(value)):
            self.problem(node.line_of(key), f"measure must be one of M1-M12 or D1-D12 (got {value!r})")
            return None
        return value

    def _questions(self, items: Any, line: int, form_measure: str) -> list[Question]:
        if items is None:
            return []
        if not isinstance(items, LineList) or not items:
            self.problem(line, "'questions' must be a non-empty list")
            return []
        questions: list[Question] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            item_line = items.line_of(index)
            if not isinstance(item, LineDict):
                self.problem(item_line, "each question must be a mapping with id, text, help and type")
                continue
            q = self._question(item, form_measure, questions)
            if q is None:
                continue
            if q.id in seen:
                self.problem(
                    item.line_of("id"), f"duplicate question id '{q.id}' (first at line {seen[q.id]})"
                )
                continue
            seen[q.id] = q.line
            questions.append(q)
        return questions

    def _question(self, node: LineDict, form_measure: str, earlier: list[Question]) -> Question | None:
        before = len(self.problems)
        self.keys(
            node,
            "",
            required=("id", "text", "help", "type"),
            optional=_QUESTION_KEYS,
            missing="question is missing '{key}'",
        )
        qid = self._string(node, "id")
        if qid is not None and not _ID_RE.match(qid):
            self.problem(node.line_of("id"), f"question id '{qid}' must be lower_snake_case")
        elif qid in COMMON_COLUMNS:
            self.problem(node.line_of("id"), f"question id '{qid}' is a common column")
        text = self._string(node, "text")
        help_text = self._string(node, "help")
        qtype = self._type(node)
        allowed = self._allowed(node, qtype)
        minimum, maximum = self._range(node, qtype)
        required = node.get("required", False)
        if not isinstance(required, bool):
            self.problem(node.line_of("required"), f"'required' must be true or false (got {required!r})")
        conditions = self._conditions(node, qid, earlier)
        if required is True and conditions:
            self.problem(
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
            self.problem(node.line_of("type"), f"unknown answer type {value!r} (known: {known})")
            return None

    def _allowed(self, node: LineDict, qtype: AnswerType | None) -> tuple[str, ...] | None:
        for key, owner in (("answers", AnswerType.JUDGEMENT), ("choices", AnswerType.CHOICE)):
            if key in node and qtype is not None and qtype is not owner:
                self.problem(node.line_of(key), f"'{key}' is only for {owner.value} questions")
        if qtype is AnswerType.JUDGEMENT:
            return self._values(node, "answers", JUDGEMENT_ANSWERS)
        if qtype is AnswerType.CHOICE:
            return self._values(node, "choices", None)
        return None

    def _values(self, node: LineDict, key: str, universe: tuple[str, ...] | None) -> tuple[str, ...] | None:
        values = node.get(key)
        line = node.line_of(key)
        if key not in node:
            self.problem(node.line, f"question needs '{key}'")
            return None
        if not isinstance(values, list) or not values:
            self.problem(line, f"'{key}' must be a non-empty list")
            return None
        out: list[str] = []
        for value in values:
            if not isinstance(value, str) or value != value.strip().lower() or not value or "," in value:
                self.problem(line, f"{key} must be lower-case text codes without commas (got {value!r})")
            elif universe is not None and value not in universe:
                self.problem(line, f"'{value}' is not a judgement answer (allowed: {', '.join(universe)})")
            elif value in out:
                self.problem(line, f"'{value}' is listed twice in '{key}'")
            elif value == "n/a":
                self.problem(line, "'n/a' is read as na; use na")
            else:
                out.append(value)
        return tuple(out)

    def _range(self, node: LineDict, qtype: AnswerType | None) -> tuple[int | None, int | None]:
        bounds: list[int | None] = []
        for key in ("min", "max"):
            value = node.get(key)
            if key in node and qtype is not AnswerType.INTEGER:
                self.problem(node.line_of(key), f"'{key}' is only for integer questions")
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                self.problem(node.line_of(key), f"'{key}' must be a whole number (got {value!r})")
                value = None
            bounds.append(value)
        lo, hi = bounds
        if lo is not None and hi is not None and lo > hi:
            self.problem(node.line_of("min"), f"min {lo} is greater than max {hi}")
        return lo, hi

    def _conditions(
        self, node: LineDict, qid: str | None, earlier: list[Question]
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        spec = node.get("required_when")
        if spec is None:
            return ()
        line = node.line_of("required_when")
        if not isinstance(spec, LineDict) or not spec:
            self.problem(line, "'required_when' must map question ids to a value or a list of values")
            return ()
        by_id = {q.id: q for q in earlier}
        out: list[tuple[str, tuple[str, ...]]] = []
        for other, wanted in spec.items():
            where = spec.line_of(other)
            target = by_id.get(other)
            if other == qid:
                self.problem(where, f"question '{qid}' cannot depend on itself")
                continue
            if target is None:
                self.problem(
                    where,
                    f"condition on unknown question '{other}' (conditions may only use earlier questions)",
                )
                continue
            if target.allowed is None:
                self.problem(
                    where, f"condition on '{other}', a {target.type.value} question: use a closed question"
                )
                continue
            values = wanted if isinstance(wanted, list) else [wanted]
            bad = [v for v in values if v not in target.allowed]
            if bad or not values:
                self.problem(
                    where, f"'{other}' cannot be {bad or values!r} (allowed: {', '.join(target.allowed)})"
                )
                continue
            out.append((other, tuple(values)))
        return tuple(out)
