"""Ruleset files: compiled from specs (:mod:`engine.rules.ruleset_yaml`, phase 1) into checked, hashed Rulesets.

Ruleset file format 1
=====================
One YAML file per ruleset, in ``rulesets/priority<N>/`` (N = 1..4): the folder gives the Police and
Crime Plan priority. A file outside such a folder (``qam rulesets validate draft.yaml``) must say
``priority: N``; inside one, a ``priority:`` key that disagrees with the folder is an error.

Top-level keys::

    ruleset: stop-search-legitimacy   # id, kebab-case, unique across all files
    version: 1.0.0                    # semantic x.y.z; raise it for every published change
    format: 1
    title: Stop and search legitimacy
    description: ...                  # optional, for people
    case_type: stop_search            # assessment ruleset: one of the five case types, or
    extract: incidents                # quantitative ruleset: an extract kind (see EXTRACT_KINDS)
    settings:                         # optional named constants ([U] facts of DOMAIN.md)
      marac_yes_threshold:
        default: 14                   # a whole number or text, never a float
        description: SafeLives: 14+ "yes" answers on DASH is visible high risk
    criteria: [...]                   # assessment rulesets only
    thresholds: [...]                 # extract rulesets only

A criterion (assessment rulesets)::

    - id: DA02                        # stable across versions: findings and diffs follow it
      text: High-risk victim referred to MARAC      # what a place leader reads
      standard: SafeLives MARAC referral criteria    # the citation
      measure: D7                     # M1-M12 / D1-D12 from engine/data/measures.yaml
      peel: effectiveness             # optional, default the measure's pillar
      iserve: [safeguarding]          # optional, default the measure's strands
      applies: dash_risk == 'high' or dash_yes_count >= marac_yes_threshold   # optional; false = N/A
      pass: marac_referral_made == 'yes'
      weight: 1                       # > 0, default 1
      critical: true                  # default false: one failure is itself an exception
      minimum: 0.95                   # minimum standard, a proportion 0..1; absent = none
      direction: higher               # default higher (a higher pass rate is better)

Conditions are the expression language of :mod:`engine.rules.expressions`; every question id they use
must exist in the case type's QA form with a compatible type, and setting names stand for their
(effective) values. A setting may not share a name with a question. A criterion whose ``pass``
holds (or fails) for every answer the form allows wherever it applies is an error too: it could
never find anything (decided by enumeration when every question it reads is closed).
When a condition reads a question answered "na" or left blank, every comparison with it is false
(``answered(q)`` is the usual ``applies`` of a judgement, so "na" makes the criterion N/A).

A threshold (extract rulesets) has ``id, text, standard, measure, peel, iserve, weight`` as above,
plus ``metric`` (one of METRICS), ``minimum`` (proportion metrics only: a value metric such as
the 101 answer time has no standard and is watched by SPC alone) and ``direction`` (default: the
metric's own). Each metric reads the settings METRIC_SETTINGS names, which the ruleset must define.

Measure priority: a criterion's or threshold's measure must belong to the ruleset's priority.
This is an error, not a warning, because an exception carries both and they must agree.

Setting overrides: a force may override setting values per ruleset id (its force file); an
override must name a setting of that ruleset and have the default's type. Loading the whole tree
also refuses overrides for a ruleset id that does not exist.

Every problem of every file is collected and raised once as a RulesetError, ``file:line: message``.

Content hash: ``sha256`` is taken over :func:`canonical_content` of the parsed file with its
``priority`` filled in from the folder: whitespace, comments and key order do not change it;
any change of meaning (including moving the file to another priority folder) does. Force-level
setting overrides do not change the hash (the force file has its own).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.core.errors import ConfigError, ExpressionError, Location, Problem, RulesetError, problems_summary
from engine.core.metrics import METRIC_DIRECTIONS, METRIC_SETTINGS, METRICS, PROPORTION_METRICS
from engine.core.models import AnswerType, FieldSpec
from engine.core.shape import ShapeChecker, describe, suggest
from engine.core.yamlio import load_yaml, parse_yaml
from engine.rules.catalogue import MeasureCatalogue, load_measure_catalogue
from engine.rules.expressions import Condition, compile_condition
from engine.rules.ruleset_yaml import EXTRACT_KINDS, FORMAT, RulesetSpec, RuleSpec, Setting, parse_ruleset

__all__ = [
    "EXTRACT_KINDS",
    "FORMAT",
    "METRICS",
    "METRIC_DIRECTIONS",
    "METRIC_SETTINGS",
    "PROPORTION_METRICS",
    "Criterion",
    "Ruleset",
    "Setting",
    "Threshold",
    "canonical_content",
    "content_sha256",
    "load_rulesets",
    "ruleset_from_content",
    "validate_rulesets",
]

#: reachability checks enumerate every answer combination up to this many
_MAX_COMBINATIONS = 2048


# --------------------------------------------------------------------------- compiled results


@dataclass(frozen=True)
class Criterion:
    """One checked criterion of an assessment ruleset."""

    id: str
    text: str
    standard: str
    measure: str
    peel: str
    iserve: tuple[str, ...]
    applies: Condition | None
    passes: Condition
    weight: float
    critical: bool
    minimum: float | None
    direction: str
    line: int

    @property
    def fields(self) -> frozenset[str]:
        """Every question id the criterion reads."""
        return self.passes.fields | (self.applies.fields if self.applies else frozenset())


@dataclass(frozen=True)
class Threshold:
    """One quantitative standard of an extract ruleset (its metric is computed elsewhere)."""

    id: str
    text: str
    standard: str
    measure: str
    peel: str
    iserve: tuple[str, ...]
    metric: str
    minimum: float | None
    direction: str
    weight: float
    line: int


@dataclass(frozen=True)
class Ruleset:
    """A validated ruleset, with its content hash and the settings in force."""

    id: str
    version: str
    format: int
    title: str
    priority: int
    case_type: str | None
    extract: str | None
    path: Path | None
    sha256: str
    canonical: str  # the canonical JSON the hash is taken over (what the registry stores)
    settings: Mapping[str, int | str]
    setting_specs: tuple[Setting, ...]
    criteria: tuple[Criterion, ...]
    thresholds: tuple[Threshold, ...]
    description: str = ""

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)


def canonical_content(data: Any) -> str:
    """Parsed ruleset content as canonical JSON: sorted keys, no whitespace, 1.0 written as 1.

    Example: ``canonical_content({"b": 1.0, "a": [True]}) == '{"a":[true],"b":1}'``
    """
    return json.dumps(_normalise(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_sha256(canonical: str) -> str:
    """The sha256 hex digest of canonical content."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _normalise(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- phase 2: compile


def _compile(
    spec: RulesetSpec,
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    catalogue: MeasureCatalogue,
    settings: tuple[Setting, ...],
    check: ShapeChecker,
) -> Ruleset | None:
    """Phase 2: measures, PEEL/I-SERVE tags, conditions against the form, metric settings."""
    before = len(check.problems)
    values: dict[str, int | str] = {s.name: s.value for s in settings}
    fields: Mapping[str, FieldSpec] = {}
    if spec.case_type is not None:
        form = fields_by_case_type.get(spec.case_type)
        if form is None:
            known = ", ".join(sorted(fields_by_case_type)) or "none"
            check.problem(spec.kind_line, f"no QA form defines case type '{spec.case_type}' (forms: {known})")
        else:
            fields = form
        for s in settings:
            if s.name in fields:
                check.problem(
                    s.line, f"setting '{s.name}' has the name of a question of the {spec.case_type} form"
                )
    criteria: list[Criterion] = []
    thresholds: list[Threshold] = []
    for rule in spec.rules:
        # a bad tag does not stop the conditions being checked: every problem is reported at once
        peel, iserve = _check_tags(rule, spec.priority, catalogue, check) or ("", ())
        if rule.noun == "threshold":
            threshold = _compile_threshold(rule, peel, iserve, values, check)
            if threshold is not None:
                thresholds.append(threshold)
        elif fields:
            criterion = _compile_criterion(rule, peel, iserve, fields, values, check, spec.source)
            if criterion is not None:
                criteria.append(criterion)
    if len(check.problems) > before or spec.id is None:
        return None
    canonical = canonical_content(spec.content)
    return Ruleset(
        id=spec.id,
        version=spec.version,
        format=FORMAT,
        title=spec.title,
        priority=spec.priority,
        case_type=spec.case_type,
        extract=spec.extract,
        path=spec.path,
        sha256=content_sha256(canonical),
        canonical=canonical,
        settings=MappingProxyType(values),
        setting_specs=settings,
        criteria=tuple(criteria),
        thresholds=tuple(thresholds),
        description=spec.description,
    )


def _check_tags(
    rule: RuleSpec, priority: int, catalogue: MeasureCatalogue, check: ShapeChecker
) -> tuple[str, tuple[str, ...]] | None:
    """The rule's (peel, iserve), defaulting to its measure's; None after reporting a problem."""
    what = f"{rule.noun} {rule.id}"
    measure = catalogue.measures.get(rule.measure)
    if measure is None:
        check.problem(
            rule.at("measure"),
            f"{what}: unknown measure '{rule.measure}'{suggest(rule.measure, catalogue.measures)}",
        )
        return None
    ok = True
    if measure.priority != priority:
        ours = ", ".join(catalogue.of_priority(priority))
        check.problem(
            rule.at("measure"),
            f"{what}: measure {measure.id} belongs to priority {measure.priority}, but this ruleset is "
            f"priority {priority} (its measures: {ours})",
        )
        ok = False
    if rule.peel is not None and rule.peel not in catalogue.peel_pillars:
        check.problem(
            rule.at("peel"),
            f"{what}: unknown PEEL pillar '{rule.peel}'{suggest(rule.peel, catalogue.peel_pillars)}",
        )
        ok = False
    for strand in rule.iserve or ():
        if strand not in catalogue.iserve_strands:
            check.problem(
                rule.at("iserve"),
                f"{what}: unknown I-SERVE strand '{strand}'{suggest(strand, catalogue.iserve_strands)}",
            )
            ok = False
    if not ok:
        return None
    return rule.peel or measure.peel, rule.iserve or measure.iserve


def _compile_criterion(
    rule: RuleSpec,
    peel: str,
    iserve: tuple[str, ...],
    fields: Mapping[str, FieldSpec],
    settings: Mapping[str, int | str],
    check: ShapeChecker,
    source: str,
) -> Criterion | None:
    what = f"criterion {rule.id}"
    compiled: dict[str, Condition | None] = {"applies": None, "pass": None}
    for key, text in (("applies", rule.applies), ("pass", rule.passes)):
        if text is None:
            continue
        line = rule.at(key)
        try:
            compiled[key] = compile_condition(text, fields, settings, location=Location(source, line))
        except ExpressionError as exc:
            where = exc.location.line if exc.location and exc.location.line else line
            hint = f" ({exc.hint})" if exc.hint else ""
            check.problem(where, f"{what} '{key}': {exc.message}{hint}")
            return None
    passes = compiled["pass"]
    if passes is None:
        return None
    criterion = Criterion(
        id=rule.id,
        text=rule.text,
        standard=rule.standard,
        measure=rule.measure,
        peel=peel,
        iserve=iserve,
        applies=compiled["applies"],
        passes=passes,
        weight=rule.weight,
        critical=rule.critical,
        minimum=rule.minimum,
        direction=rule.direction or "higher",
        line=rule.line,
    )
    for message in _reachability(criterion, fields):
        check.problem(rule.line, f"{what}: {message}")
    return criterion


def _compile_threshold(
    rule: RuleSpec, peel: str, iserve: tuple[str, ...], settings: Mapping[str, int | str], check: ShapeChecker
) -> Threshold | None:
    what = f"threshold {rule.id}"
    metric = str(rule.metric)
    if metric not in METRICS:
        check.problem(
            rule.at("metric"), f"{what}: unknown metric '{metric}' (known: {', '.join(sorted(METRICS))})"
        )
        return None
    ok = True
    for name in METRIC_SETTINGS[metric]:
        value = settings.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            shown = "it is missing" if name not in settings else f"got {describe(value)}"
            check.problem(
                rule.at("metric"),
                f"{what}: metric {metric} needs setting '{name}' (a whole number > 0); {shown}",
            )
            ok = False
    if rule.minimum is not None and metric not in PROPORTION_METRICS:
        check.problem(
            rule.at("minimum"),
            f"{what}: metric {metric} is a value, not a proportion: it has no minimum standard "
            "and is watched by SPC alone (remove 'minimum')",
        )
        ok = False
    natural = METRIC_DIRECTIONS[metric]
    if rule.direction is not None and rule.direction != natural:
        check.problem(
            rule.at("direction"), f"{what}: metric {metric} improves when {natural}, not {rule.direction}"
        )
        ok = False
    if not ok:
        return None
    return Threshold(
        id=rule.id,
        text=rule.text,
        standard=rule.standard,
        measure=rule.measure,
        peel=peel,
        iserve=iserve,
        metric=metric,
        minimum=rule.minimum,
        direction=natural,
        weight=rule.weight,
        line=rule.line,
    )


def _answer_domain(spec: FieldSpec) -> list[Any] | None:
    """Every answer a closed question allows, plus blank; None for open questions (dates, text)."""
    if spec.type in (AnswerType.JUDGEMENT, AnswerType.CHOICE) and spec.choices:
        return [*spec.choices, None]
    if spec.type is AnswerType.INTEGER and spec.minimum is not None and spec.maximum is not None:
        if spec.maximum - spec.minimum < 64:
            return [*range(spec.minimum, spec.maximum + 1), None]
    return None


def _reachability(criterion: Criterion, fields: Mapping[str, FieldSpec]) -> Iterator[str]:
    """A pass that can never fail, or never succeed, when the criterion applies, over every allowed answer.

    Only decidable when every question the criterion reads is closed (a judgement, a choice or a
    small integer range) and the combinations are few; otherwise nothing is said.
    """
    names = sorted(criterion.fields)
    domains = [_answer_domain(fields[n]) for n in names]
    if any(d is None for d in domains):
        return
    if not names or math.prod(len(d or ()) for d in domains) > _MAX_COMBINATIONS:
        return
    applicable = passed = 0
    for combo in itertools.product(*[d or () for d in domains]):
        case = dict(zip(names, combo, strict=True))
        if criterion.applies is not None and not criterion.applies.evaluate(case):
            continue
        applicable += 1
        passed += bool(criterion.passes.evaluate(case))
    if applicable == 0:
        return  # a constant 'applies' is already refused by compile_condition
    if passed == applicable:
        yield "'pass' is true for every applicable answer the form allows, so the criterion can never fail"
    elif passed == 0:
        yield "'pass' is false for every applicable answer the form allows, so the criterion can never pass"


# --------------------------------------------------------------------------- loading


def _effective_settings(
    spec: RulesetSpec, overrides: Mapping[str, int | str], source: str
) -> tuple[tuple[Setting, ...], list[Problem]]:
    """The ruleset's settings with a force's overrides applied, and any problems with them."""
    problems: list[Problem] = []
    by_name = {s.name: s for s in spec.settings}
    for name, value in overrides.items():
        where = Location(source, None, f"{spec.id}.{name}")
        setting = by_name.get(name)
        if setting is None:
            problems.append(
                Problem(where, f"ruleset {spec.id} has no setting '{name}'{suggest(name, by_name)}")
            )
        elif isinstance(value, bool) or type(value) is not type(setting.default):
            kind = "a whole number" if isinstance(setting.default, int) else "text"
            problems.append(
                Problem(where, f"must be {kind} like its default {setting.default!r}, got {describe(value)}")
            )
        else:
            by_name[name] = Setting(name, setting.default, value, setting.description, setting.line)
    return tuple(by_name[s.name] for s in spec.settings), problems


def _ruleset_files(rulesets_dir: Path, problems: list[Problem]) -> list[Path]:
    if not rulesets_dir.is_dir():
        problems.append(Problem(Location(str(rulesets_dir)), "no such rulesets folder"))
        return []
    files = sorted(
        p
        for p in rulesets_dir.rglob("*")
        if p.suffix in (".yaml", ".yml") and p.is_file() and not any(part.startswith(".") for part in p.parts)
    )
    if not files:
        problems.append(Problem(Location(str(rulesets_dir)), "no ruleset files (*.yaml) found"))
    return files


class _Options(NamedTuple):
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None
    overrides_source: str
    measures: MeasureCatalogue | None


def _load(
    documents: list[tuple[str, Path | None, Any]],
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    problems: list[Problem],
    options: _Options,
    *,
    whole_tree: bool = False,
) -> list[Ruleset]:
    """Both phases over parsed documents (source, path, data or a ConfigError); raise once at the end.

    ``whole_tree``: the documents are every ruleset there is, so overrides naming no loaded ruleset
    are typos; for one file or stored version they belong to the others.
    """
    setting_overrides, overrides_source, measures = options
    catalogue = measures or load_measure_catalogue()
    specs: list[RulesetSpec] = []
    first_file: dict[str, str] = {}
    for source, path, data in documents:
        check = ShapeChecker(source, problems)
        if isinstance(data, ConfigError):
            problems.append(Problem(data.location or Location(source), data.message))
            continue
        spec = parse_ruleset(data, source, path, check)
        if spec is None:
            continue
        if spec.id in first_file:
            check.problem(spec.id_line, f"ruleset id '{spec.id}' is already used by {first_file[spec.id]}")
            continue
        if spec.id is not None:
            first_file[spec.id] = source
        specs.append(spec)
    overrides = dict(setting_overrides or {})
    for rid in overrides if whole_tree else ():
        if rid not in first_file:
            problems.append(
                Problem(
                    Location(overrides_source),
                    f"settings for unknown ruleset '{rid}'{suggest(rid, first_file)}",
                )
            )
    rulesets: list[Ruleset] = []
    for spec in specs:
        settings, override_problems = _effective_settings(
            spec, overrides.get(spec.id or "", {}), overrides_source
        )
        problems.extend(override_problems)
        ruleset = _compile(
            spec, fields_by_case_type, catalogue, settings, ShapeChecker(spec.source, problems)
        )
        if ruleset is not None and not override_problems:
            rulesets.append(ruleset)
    if problems:
        ordered = sorted(problems, key=lambda p: (p.location.file or "", p.location.line or 0))
        raise RulesetError(f"invalid rulesets: {problems_summary(ordered, 'file')}", ordered)
    return sorted(rulesets, key=lambda r: (r.priority, r.id))


def _load_tree(
    rulesets_dir: Path, fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]], options: _Options
) -> list[Ruleset]:
    problems: list[Problem] = []
    documents = [(str(p), p, _read(p)) for p in _ruleset_files(rulesets_dir, problems)]
    return _load(documents, fields_by_case_type, problems, options, whole_tree=True)


def _read(path: Path) -> Any:
    try:
        return load_yaml(path)
    except ConfigError as exc:
        return exc


def load_rulesets(
    rulesets_dir: Path,
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    *,
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None = None,
    overrides_source: str = "setting overrides",
    measures: MeasureCatalogue | None = None,
) -> list[Ruleset]:
    """Load, check and compile every ruleset under ``rulesets_dir`` (sorted by priority, then id).

    ``fields_by_case_type`` gives each case type's form questions; ``setting_overrides`` maps a
    ruleset id to values for its settings (a force's own; ``overrides_source`` names where they
    came from in messages). Raises RulesetError listing every problem of every file at once.

    Example: ``load_rulesets(Path("rulesets"), {t: f.field_specs() for t, f in forms.items()})``
    """
    return _load_tree(
        rulesets_dir, fields_by_case_type, _Options(setting_overrides, overrides_source, measures)
    )


def validate_rulesets(
    path: Path,
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    *,
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None = None,
    overrides_source: str = "setting overrides",
    measures: MeasureCatalogue | None = None,
) -> list[Ruleset]:
    """Check one ruleset file or every file under a folder (the whole rulesets tree), without a database.

    Example: ``validate_rulesets(Path("rulesets/priority4/stop-search-legitimacy.yaml"), fields)``
    """
    options = _Options(setting_overrides, overrides_source, measures)
    if path.is_dir():
        return _load_tree(path, fields_by_case_type, options)
    return _load([(str(path), path, _read(path))], fields_by_case_type, [], options)


def ruleset_from_content(
    content: str,
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    *,
    source: str,
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None = None,
    overrides_source: str = "setting overrides",
    measures: MeasureCatalogue | None = None,
) -> Ruleset:
    """Compile stored canonical content (a published version) back into a Ruleset.

    The content carries its own ``priority``, so no folder is needed; the hash comes out the same
    as the file's. ``source`` names it in messages, e.g. ``"registry:stop-search-legitimacy@1.2.0"``.
    """
    try:
        data: Any = parse_yaml(content, source)  # canonical JSON is YAML
    except ConfigError as exc:
        data = exc
    options = _Options(setting_overrides, overrides_source, measures)
    (ruleset,) = _load([(source, None, data)], fields_by_case_type, [], options)
    return ruleset
