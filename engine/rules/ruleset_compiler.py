"""Phase 2 of loading a ruleset: a parsed spec is checked against the measure catalogue, the case type's
QA form or the extract's definition, and the settings, and compiled into a Ruleset; every problem goes
to the ShapeChecker."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from engine.core.errors import ExpressionError, Location
from engine.core.metrics import METRIC_SETTINGS
from engine.core.models import AnswerType, FieldSpec
from engine.core.shape import ShapeChecker, describe, suggest
from engine.inputs.extract_definitions import SHARE_KINDS, ExtractDefinitions, MetricDefinition
from engine.rules.catalogue import MeasureCatalogue
from engine.rules.expressions import Condition, compile_condition
from engine.rules.ruleset_yaml import FORMAT, RulesetSpec, RuleSpec, Setting
from engine.rules.rulesets import Criterion, Ruleset, Threshold, canonical_content, content_sha256

#: reachability checks enumerate every answer combination up to this many
_MAX_COMBINATIONS = 2048


def compile_ruleset(
    spec: RulesetSpec,
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    catalogue: MeasureCatalogue,
    settings: tuple[Setting, ...],
    check: ShapeChecker,
    extracts: ExtractDefinitions | None = None,
) -> Ruleset | None:
    """Phase 2: measures, PEEL/I-SERVE tags, conditions against the form, thresholds against the
    metrics the extract's definition declares (``extracts``; needed by an extract ruleset) and
    their settings."""
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
    declared: Mapping[str, MetricDefinition] = {}
    if spec.extract is not None:
        declared = _extract_metrics(spec.extract, spec.kind_line, extracts, check)
    criteria: list[Criterion] = []
    thresholds: list[Threshold] = []
    for rule in spec.rules:
        # a bad tag does not stop the conditions being checked: every problem is reported at once
        peel, iserve = _check_tags(rule, spec.priority, catalogue, check) or ("", ())
        if rule.noun == "threshold":
            threshold = _compile_threshold(rule, peel, iserve, values, declared, extracts, check)
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
    if not measure.defined:
        check.problem(
            rule.at("measure"),
            f"{what}: item {measure.id} is not defined in the catalogue (defined: false): give it a name, "
            "pillar and strands in the catalogue before a ruleset feeds it",
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
        guidance=rule.guidance,
    )
    for message in _reachability(criterion, fields):
        check.problem(rule.line, f"{what}: {message}")
    return criterion


def _extract_metrics(
    extract: str, line: int, extracts: ExtractDefinitions | None, check: ShapeChecker
) -> Mapping[str, MetricDefinition]:
    """The metrics the extract's definition declares, by id; a problem when it has no definition."""
    definition = extracts.extracts.get(extract) if extracts is not None else None
    if extracts is None or definition is None:
        known = ", ".join(sorted(extracts.extracts)) if extracts is not None else ""
        folder = f" in {extracts.folder}" if extracts is not None else ""
        check.problem(
            line,
            f"no extract definition '{extract}'{folder} (defined: {known or 'none'}): "
            f"an extract ruleset's thresholds name metrics its extracts/{extract}.yaml declares",
        )
        return {}
    return {m.id: m for m in extracts.of_extract(extract)}


def _compile_threshold(
    rule: RuleSpec,
    peel: str,
    iserve: tuple[str, ...],
    settings: Mapping[str, int | str],
    declared: Mapping[str, MetricDefinition],
    extracts: ExtractDefinitions | None,
    check: ShapeChecker,
) -> Threshold | None:
    what = f"threshold {rule.id}"
    metric_id = str(rule.metric)
    metric = declared.get(metric_id)
    if metric is None:
        if not declared:
            return None  # the extract itself is unknown: reported once, at its line
        elsewhere = extracts.metrics.get(metric_id) if extracts is not None else None
        extract = next(iter(declared.values())).extract
        if elsewhere is not None:
            message = (
                f"metric {metric_id} is declared by extract {elsewhere.extract} ({elsewhere.path}:"
                f"{elsewhere.line}), not by this ruleset's extract {extract}"
            )
        else:
            hint = suggest(metric_id, declared, list_known=False)
            message = (
                f"unknown metric '{metric_id}'{hint} (extract {extract} declares: {', '.join(declared)})"
            )
        check.problem(rule.at("metric"), f"{what}: {message}")
        return None
    before = len(check.problems)
    if rule.measure != metric.item:
        check.problem(
            rule.at("measure"),
            f"{what}: metric {metric.id} feeds item {metric.item} ({metric.path}:{metric.line}), not {rule.measure}",
        )
    if metric.source == "incidents":
        for name in METRIC_SETTINGS.get(metric.id, ()):
            value = settings.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                shown = "it is missing" if name not in settings else f"got {describe(value)}"
                check.problem(
                    rule.at("metric"),
                    f"{what}: metric {metric.id} needs setting '{name}' (a whole number > 0); {shown}",
                )
    _check_standard(rule, metric, what, check)
    natural = metric.direction or "lower"  # an event: the fewer the better
    if rule.direction is not None and rule.direction != metric.direction:
        improves = (
            f"improves when {metric.direction}" if metric.direction else "is an event, with no direction"
        )
        check.problem(rule.at("direction"), f"{what}: metric {metric.id} {improves}, not {rule.direction}")
    if rule.statistic is not None and metric.kind != "time":
        check.problem(
            rule.at("statistic"),
            f"{what}: 'statistic' is for a time metric (mean or median); {metric.id} is {_a(metric.kind)}",
        )
    if len(check.problems) > before:
        return None
    return Threshold(
        id=rule.id,
        text=rule.text,
        standard=rule.standard,
        measure=rule.measure,
        peel=peel,
        iserve=iserve,
        metric=metric.id,
        minimum=rule.minimum,
        direction=natural,
        weight=rule.weight,
        line=rule.line,
        guidance=rule.guidance,
        maximum=rule.maximum,
        statistic=(rule.statistic or "mean") if metric.kind == "time" else "",
        kind=metric.kind,
        source=rule.source or "",
    )


def _check_standard(rule: RuleSpec, metric: MetricDefinition, what: str, check: ShapeChecker) -> None:
    """A minimum or a maximum (not both) in the metric's own terms, on the side it improves towards."""
    given = [
        (key, value)
        for key, value in (("minimum", rule.minimum), ("maximum", rule.maximum))
        if value is not None
    ]
    if not given:
        return
    if metric.kind == "event":
        check.problem(
            rule.at(given[0][0]),
            f"{what}: metric {metric.id} is an event: each one is itself an exception, so it has no "
            f"'{given[0][0]}' (remove it)",
        )
        return
    if len(given) > 1:
        check.problem(rule.at("maximum"), f"{what}: give a minimum or a maximum, not both")
        return
    key, value = given[0]
    wanted = "minimum" if metric.direction == "higher" else "maximum"
    if key != wanted:
        check.problem(
            rule.at(key),
            f"{what}: metric {metric.id} improves when {metric.direction}, so its standard is a {wanted}, not a {key}",
        )
    if metric.kind in SHARE_KINDS and value > 1:
        check.problem(
            rule.at(key),
            f"{what}: '{key}' of {_a(metric.kind)} metric is a share between 0 and 1 (0.9 for 90%), got {value:g}",
        )


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


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
