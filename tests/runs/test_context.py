"""engine.runs.context: the bundled rulesets' criteria and thresholds as the analysis takes them,
with the guidance that reaches each exception."""

from __future__ import annotations

from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, load_force
from engine.inputs.forms import load_forms
from engine.rules.catalogue import load_measure_catalogue
from engine.rules.ruleset_loader import load_rulesets
from engine.runs.context import RunContext, criteria_rows, metric_rows


def bundled_context() -> RunContext:
    forms = load_forms(DEFAULT_FORMS_DIR)
    fields = {case_type: f.field_specs() for case_type, f in forms.items()}
    rulesets = tuple(load_rulesets(DEFAULT_RULESETS_DIR, fields))
    return RunContext(load_force(DEFAULT_FORCE_FILE), forms, rulesets, load_measure_catalogue(), draft=True)


def test_criteria_and_metric_rows_carry_each_items_guidance() -> None:
    context = bundled_context()
    criteria = {r["criterion"]: r for r in criteria_rows(context)}
    metrics = {r["criterion"]: r for r in metric_rows(context)}
    ruleset = next(r for r in context.rulesets if r.id == "domestic-abuse-safeguarding")
    assert criteria["DA02"]["guidance"] == ruleset.criterion("DA02").guidance
    assert criteria["DA02"]["guidance"].startswith("The officer refers the high-risk victim to MARAC")
    assert metrics["RS03"]["guidance"].startswith("The control room manager")
    assert all(r["guidance"] for r in [*criteria.values(), *metrics.values()])
