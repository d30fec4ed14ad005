"""What briefings call a case now that several case types feed one item (D7: domestic abuse, missing
from home, child sexual exploitation, hate crime): a criterion's exception by its ruleset's form noun,
a whole measure fed by several types by "cases", a list of cases reviewed by each form's label."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from engine.core.models import ExceptionKind, PerformanceException
from engine.inputs.forms import load_forms
from engine.reports.briefing_data import DEFAULT_MEASURE_UNITS
from engine.reports.wording import case_types_text, reviewed_text, unit_for
from engine.rules.ruleset_loader import load_rulesets
from engine.runs.weekly import case_nouns, measure_case_types

REPO = Path(__file__).resolve().parents[2]
FORMS = load_forms(REPO / "qa_forms")
RULESETS = load_rulesets(REPO / "rulesets", {t: f.field_specs() for t, f in FORMS.items()})
CONTEXT: Any = SimpleNamespace(forms=FORMS, assessment_rulesets=[r for r in RULESETS if r.case_type])


def _exception(ruleset: str, measure: str, criterion: str = "X01") -> PerformanceException:
    return PerformanceException(
        place="BLK", priority=3, measure=measure, peel="effectiveness", iserve=("safeguarding",),
        ruleset=ruleset, criterion=criterion, kind=ExceptionKind.BELOW_STANDARD, reason="",
        n=30, passed=9, rate=0.3, ci_low=0.17, ci_high=0.48, standard=0.9, cases=(),
    )  # fmt: skip


def test_a_run_names_cases_by_ruleset_and_a_shared_measure_plainly() -> None:
    units = {**DEFAULT_MEASURE_UNITS, **case_nouns(CONTEXT)}
    assert unit_for(_exception("missing-from-home", "D7"), units) == "missing episodes"
    assert unit_for(_exception("missing-from-home", "M7"), units) == "missing episodes"
    assert (
        unit_for(_exception("child-sexual-exploitation", "D7"), units) == "children at risk of exploitation"
    )
    assert unit_for(_exception("domestic-abuse-safeguarding", "D7"), units) == "domestic abuse cases"
    # the whole of D7 (a measure's special cause) counts cases of four types
    assert unit_for(_exception("", "D7", criterion=""), units) == "cases"
    assert unit_for(_exception("", "D10", criterion=""), units) == "problem-solving plans"
    assert unit_for(_exception("", "D11", criterion=""), units) == "searches"
    assert reviewed_text(_exception("hate-crime", "D7"), unit_for(_exception("hate-crime", "D7"), units)) == (
        "30 hate crime reports reviewed"
    )


def test_without_a_run_the_measure_decides_as_before() -> None:
    assert unit_for(_exception("missing-from-home", "D7"), DEFAULT_MEASURE_UNITS) == "domestic abuse cases"


def test_the_cases_csv_knows_each_rulesets_case_type() -> None:
    types = measure_case_types(CONTEXT)
    assert "D7" not in types  # four case types feed it
    assert types["D11"] == "stop_search"
    assert types["missing-from-home"] == "missing_from_home" and types["hate-crime"] == "hate_crime"


def test_cases_reviewed_are_listed_by_each_forms_label() -> None:
    labels = {t: f.label for t, f in FORMS.items()}
    counts = {"child_sexual_exploitation": 4, "missing_from_home": 5, "stop_search": 30}
    assert case_types_text(counts, {"stop_search": 212}, labels) == (
        "child sexual exploitation 4, missing from home 5, stop searches 30 of 212"
    )
    # a form with no label of its own: its case type in words
    assert case_types_text({"racist_graffiti": 2}, None) == "racist graffiti 2"
