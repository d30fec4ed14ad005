"""The real rulesets/ against the real qa_forms/: every criterion passes, fails and is N/A on the
cases a QA lead would expect, failures explain themselves, the critical criteria are exactly the
four of docs/submissions.md, every form question is checked, and the [U] facts are settings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from engine.core.metrics import METRICS
from engine.core.models import AnswerType, FieldSpec
from engine.inputs.canonical_questions import CANONICAL_QUESTIONS
from engine.rules.ruleset_loader import load_rulesets
from engine.rules.rulesets import Criterion, Ruleset
from engine.rules.scoring import trace
from tests.rules.prevention_cases import (
    PREVENTION_CASES,
    PREVENTION_CRITICAL,
    PREVENTION_RULESETS,
    PREVENTION_SETTINGS,
)
from tests.rules.safeguarding_cases import (
    SAFEGUARDING_CASES,
    SAFEGUARDING_CRITICAL,
    SAFEGUARDING_RULESETS,
    SAFEGUARDING_SETTINGS,
)

forms_module = pytest.importorskip("engine.inputs.forms")

REPO = Path(__file__).resolve().parents[2]

# Questions no criterion judges, and why: free text, a classification the form itself enforces
# (required when cps_rejected is yes) that aggregation reports as the CPS failure taxonomy, the
# reviewer's mark on their note (good practice or learning), and what a case is (its facts, which
# decide when criteria apply: the hostility strand, the kind of problem).
NOT_JUDGED = {"notes", "rejection_reason", "note_kind", "hostility_strand", "problem_type"}


@pytest.fixture(scope="module")
def fields() -> dict[str, dict[str, FieldSpec]]:
    return {t: f.field_specs() for t, f in forms_module.load_forms(REPO / "qa_forms").items()}


@pytest.fixture(scope="module")
def rulesets(fields) -> list[Ruleset]:
    return load_rulesets(REPO / "rulesets", fields)


@pytest.fixture(scope="module")
def criteria(rulesets) -> dict[str, tuple[str, Criterion]]:
    """criterion id -> (case type, criterion); ids are unique across the real rulesets."""
    found = {c.id: (r.case_type, c) for r in rulesets if r.case_type for c in r.criteria}
    assert len(found) == sum(len(r.criteria) for r in rulesets), "criterion ids repeat across rulesets"
    return found


def outcome(criterion: Criterion, case: Mapping[str, Any]) -> str:
    if criterion.applies is not None and not criterion.applies.evaluate(case):
        return "na"
    return "pass" if criterion.passes.evaluate(case) else "fail"


def simple(question: str, fail: str = "no", na: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """A yes/no judgement: yes passes, ``fail`` fails, ``na`` (blank by default) is N/A."""
    return [("pass", {question: "yes"}), ("fail", {question: fail}), ("na", {question: na})]


# criterion id -> [(expected outcome, answers)]; unlisted questions are blank.
CASES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    # --- stop and search
    "SS01": [
        ("pass", {"power": "pace_s1", "grounds_recorded": "yes"}),
        ("fail", {"power": "mda_s23", "grounds_recorded": "no"}),
        ("na", {"power": "s60", "grounds_recorded": "no"}),  # s60 records the authorisation instead
    ],
    "SS02": [
        ("pass", {"power": "mda_s23", "grounds_reasonable": "yes"}),
        ("fail", {"power": "pace_s1", "grounds_reasonable": "partly"}),
        ("na", {"power": "s47a", "grounds_reasonable": "no"}),
    ],
    "SS03": simple("object_recorded"),
    "SS04": simple("outcome_recorded"),
    "SS05": [
        ("pass", {"object_found": "yes", "outcome_recorded": "yes", "outcome_linked_to_object": "yes"}),
        ("fail", {"object_found": "yes", "outcome_recorded": "yes", "outcome_linked_to_object": "no"}),
        ("na", {"object_found": "no", "outcome_recorded": "yes", "outcome_linked_to_object": "no"}),
    ],
    "SS06": simple("ethnicity_self_defined_recorded"),
    "SS07": simple("officer_identity_recorded"),
    "SS08": simple("gowisely_given", fail="partly"),
    "SS09": simple("bwv_activated"),
    "SS10": simple("receipt_offered"),
    "SS11": [
        ("pass", {"power": "s60", "authorisation_recorded": "yes"}),
        ("fail", {"power": "s47a", "authorisation_recorded": "no"}),
        ("fail", {"power": "s60"}),  # the record must show the authorisation
        ("na", {"power": "pace_s1", "authorisation_recorded": "na"}),
    ],
    "SS12": [
        ("pass", {"strip_search": "yes", "strip_search_authorised": "yes"}),
        ("fail", {"strip_search": "yes", "strip_search_authorised": "no"}),
        ("na", {"strip_search": "no", "strip_search_authorised": "na"}),
    ],
    "SS13": simple("supervisor_reviewed"),
    # --- victims' code (2026-11-16 is a Monday)
    "VC01": simple("written_confirmation_given"),
    "VC02": simple("needs_assessment_done"),
    "VC03": [
        ("pass", {"enhanced_rights_eligible": "yes", "enhanced_rights_identified": "yes"}),
        ("fail", {"enhanced_rights_eligible": "yes", "enhanced_rights_identified": "no"}),
        ("na", {"enhanced_rights_eligible": "no", "enhanced_rights_identified": "no"}),
    ],
    "VC04": [
        # Friday report: Monday and Tuesday are the 2 working days
        (
            "pass",
            {
                "crime_recorded_on": "2026-11-20",
                "support_referral_declined": "no",
                "support_referral_on": "2026-11-24",
            },
        ),
        (
            "fail",
            {
                "crime_recorded_on": "2026-11-20",
                "support_referral_declined": "no",
                "support_referral_on": "2026-11-25",
            },
        ),
        ("fail", {"crime_recorded_on": "2026-11-20", "support_referral_declined": "no"}),  # never referred
        # Christmas Eve: 25th and Boxing Day observed (28th) are bank holidays, 26-27 a weekend
        (
            "pass",
            {
                "crime_recorded_on": "2026-12-24",
                "support_referral_declined": "no",
                "support_referral_on": "2026-12-30",
            },
        ),
        (
            "fail",
            {
                "crime_recorded_on": "2026-12-24",
                "support_referral_declined": "no",
                "support_referral_on": "2026-12-31",
            },
        ),
        ("na", {"crime_recorded_on": "2026-11-20", "support_referral_declined": "yes"}),
    ],
    "VC05": [
        (
            "pass",
            {
                "suspect_event_on": "2026-11-16",
                "victim_updated_on": "2026-11-23",
                "enhanced_rights_eligible": "no",
            },
        ),
        (
            "fail",
            {
                "suspect_event_on": "2026-11-16",
                "victim_updated_on": "2026-11-24",
                "enhanced_rights_eligible": "no",
            },
        ),
        (
            "pass",
            {
                "suspect_event_on": "2026-11-16",
                "victim_updated_on": "2026-11-17",
                "enhanced_rights_eligible": "yes",
            },
        ),
        (
            "fail",
            {
                "suspect_event_on": "2026-11-16",
                "victim_updated_on": "2026-11-18",
                "enhanced_rights_eligible": "yes",
            },
        ),
        (
            "fail",
            {
                "suspect_event_on": "2026-11-16",
                "victim_updated_on": "2026-11-13",
                "enhanced_rights_eligible": "no",
            },
        ),
        ("fail", {"suspect_event_on": "2026-11-16", "enhanced_rights_eligible": "no"}),  # never updated
        ("na", {"victim_updated_on": "2026-11-18", "enhanced_rights_eligible": "yes"}),  # no suspect event
    ],
    "VC06": simple("update_plan_agreed"),
    "VC07": simple("vps_offered"),
    "VC08": [
        ("pass", {"update_quality": "adequate"}),
        ("fail", {"update_quality": "poor"}),
        ("na", {"update_quality": None}),
    ],
    # --- case files (charged Monday 2026-11-02)
    "CF01": simple("mg5_present"),
    "CF02": [
        ("pass", {"mg5_present": "yes", "mg5_balanced": "yes"}),
        ("fail", {"mg5_present": "yes", "mg5_balanced": "partly"}),
        ("na", {"mg5_present": "no"}),
    ],
    "CF03": simple("points_to_prove_set_out"),
    "CF04": simple("interview_summary_adequate", fail="partly", na="na"),
    "CF05": simple("key_statements_present"),
    "CF06": simple("exhibits_present"),
    "CF07": simple("previous_convictions_attached"),
    "CF08": [
        ("pass", {"anticipated_plea": "ngap", "unused_schedule_present": "yes"}),
        ("fail", {"anticipated_plea": "ngap", "unused_schedule_present": "na"}),
        ("na", {"anticipated_plea": "gap", "unused_schedule_present": "na"}),
    ],
    "CF09": [
        (
            "pass",
            {"anticipated_plea": "ngap", "unused_schedule_present": "yes", "unused_items_described": "yes"},
        ),
        (
            "fail",
            {"anticipated_plea": "ngap", "unused_schedule_present": "yes", "unused_items_described": "no"},
        ),
        ("na", {"anticipated_plea": "gap", "unused_schedule_present": "na", "unused_items_described": "na"}),
    ],
    "CF10": [
        ("pass", {"anticipated_plea": "ngap", "disclosure_officer_report_present": "yes"}),
        ("fail", {"anticipated_plea": "ngap", "disclosure_officer_report_present": "no"}),
        ("na", {"anticipated_plea": "gap", "disclosure_officer_report_present": "na"}),
    ],
    "CF11": simple("supervisor_certified"),
    "CF12": [
        ("pass", {"domestic_abuse_case": "yes", "da_checklist_present": "yes"}),
        ("fail", {"domestic_abuse_case": "yes", "da_checklist_present": "no"}),
        ("na", {"domestic_abuse_case": "no", "da_checklist_present": "na"}),
    ],
    "CF13": simple("victim_details_protected"),
    "CF14": [
        ("pass", {"anticipated_plea": "gap", "charged_on": "2026-11-02", "file_submitted_on": "2026-11-16"}),
        ("fail", {"anticipated_plea": "gap", "charged_on": "2026-11-02", "file_submitted_on": "2026-11-17"}),
        ("pass", {"anticipated_plea": "ngap", "charged_on": "2026-11-02", "file_submitted_on": "2026-11-30"}),
        ("fail", {"anticipated_plea": "ngap", "charged_on": "2026-11-02", "file_submitted_on": "2026-12-01"}),
        ("fail", {"anticipated_plea": "ngap", "charged_on": "2026-11-02"}),  # never submitted
        ("na", {"anticipated_plea": "gap", "file_submitted_on": "2026-11-16"}),
    ],
    "CF15": [
        ("pass", {"cps_rejected": "no"}),
        ("fail", {"cps_rejected": "yes", "rejection_reason": "no_mg3"}),
        ("na", {"cps_rejected": None}),
    ],
    # --- investigations
    "IQ01": simple("investigation_plan_recorded"),
    "IQ02": simple("supervisor_review_recorded"),
    "IQ03": [
        ("pass", {"supervisor_review_recorded": "yes", "supervisory_direction_quality": "good"}),
        ("fail", {"supervisor_review_recorded": "yes", "supervisory_direction_quality": "none"}),
        ("na", {"supervisor_review_recorded": "no", "supervisory_direction_quality": "none"}),
    ],
    **{
        cid: simple(q, na="na")  # na: the line of enquiry was not relevant
        for cid, q in (
            ("IQ04", "loe_scene_forensic"),
            ("IQ05", "loe_cctv"),
            ("IQ06", "loe_house_to_house"),
            ("IQ07", "loe_witnesses"),
            ("IQ08", "loe_digital"),
            ("IQ09", "loe_bwv"),
        )
    },
    "IQ10": simple("victim_contact_per_plan"),
    "IQ11": simple("outcome_appropriate"),
    "IQ12": [
        ("pass", {"suspect_identified": "yes", "victim_view_recorded": "yes"}),
        ("fail", {"suspect_identified": "yes", "victim_view_recorded": "no"}),
        ("na", {"suspect_identified": "no", "victim_view_recorded": "no"}),
    ],
    "IQ13": [
        ("pass", {"crime_type": "burglary_residential", "loe_scene_forensic": "yes"}),
        ("fail", {"crime_type": "burglary_residential", "loe_scene_forensic": "na"}),
        ("na", {"crime_type": "theft", "loe_scene_forensic": "na"}),
    ],
    # --- domestic abuse
    "DA01": simple("dash_completed"),
    "DA02": [
        ("pass", {"dash_risk": "high", "dash_yes_count": 10, "marac_referral_made": "yes"}),
        ("fail", {"dash_risk": "high", "dash_yes_count": 10, "marac_referral_made": "no"}),
        ("fail", {"dash_risk": "medium", "dash_yes_count": 14, "marac_referral_made": "no"}),  # 14+ is high
        ("na", {"dash_risk": "medium", "dash_yes_count": 13, "marac_referral_made": "no"}),
    ],
    "DA03": [
        ("pass", {"dash_yes_count": 16, "dash_risk": "high"}),
        ("fail", {"dash_yes_count": 14, "dash_risk": "medium"}),
        ("na", {"dash_yes_count": 13, "dash_risk": "medium"}),
    ],
    "DA04": [
        ("pass", {"children_present": "yes", "child_referral_made": "yes"}),
        ("fail", {"children_present": "yes", "child_referral_made": "no"}),
        ("na", {"children_present": "no"}),
    ],
    "DA05": simple("bwv_captured"),
    "DA06": simple("evidence_led_considered"),
    "DA07": simple("dvpn_considered"),
    "DA08": simple("dvds_considered"),
    "DA09": [
        ("pass", {"repeat_victim": "yes", "marac_referral_made": "yes"}),
        ("fail", {"repeat_victim": "yes", "marac_referral_made": "no"}),
        ("na", {"repeat_victim": "no", "marac_referral_made": "no"}),
    ],
    "DA10": simple("safeguarding_plan_recorded"),
    # --- missing from home, child sexual exploitation, hate crime, problem solving
    **SAFEGUARDING_CASES,
    # --- DVPN and Clare's Law, vulnerable callers, complaint handling, high-impact investigations
    **PREVENTION_CASES,
}


def _rows() -> Iterator[Any]:
    for cid, rows in CASES.items():
        for i, (expected, answers) in enumerate(rows):
            yield pytest.param(cid, expected, answers, id=f"{cid}-{i}-{expected}")


def test_every_criterion_has_a_pass_a_fail_and_an_na_case(criteria) -> None:
    assert set(CASES) == set(criteria)
    for cid, rows in CASES.items():
        assert {expected for expected, _ in rows} == {"pass", "fail", "na"}, cid


@pytest.mark.parametrize(("cid", "expected", "answers"), list(_rows()))
def test_criterion_outcome(criteria, fields, cid, expected, answers) -> None:
    case_type, criterion = criteria[cid]
    unknown = set(answers) - set(fields[case_type])
    assert not unknown, f"not questions of the {case_type} form: {unknown}"
    case = dict.fromkeys(fields[case_type]) | answers
    assert outcome(criterion, case) == expected
    if expected == "fail":
        why, *applies = trace(criterion, case)
        assert why and "\n" not in why
        assert len(applies) == (0 if criterion.applies is None else len(criterion.applies.explain(case)))
        assert all(line.startswith("applies: ") and "\n" not in line for line in applies)


def test_vc04_is_explained_by_what_was_found(criteria, fields) -> None:
    _, vc04 = criteria["VC04"]
    case = dict.fromkeys(fields["victim_care"]) | {
        "crime_recorded_on": "2026-11-20",  # a Friday
        "support_referral_declined": "no",
        "support_referral_on": "2026-11-26",
    }
    # it applied because the referral was NOT declined (it was explained as "support_referral_declined
    # was 'no' (needed 'yes')", the reverse)
    assert trace(vc04, case) == (
        "support referral 4 working days after crime recorded, more than 2 working days",
        "applies: support referral was not declined (answer: no)",
        "applies: crime recorded on 2026-11-20",
    )


def test_every_criterion_and_threshold_says_who_should_act_and_how(rulesets) -> None:
    items = [(r.id, i) for r in rulesets for i in (*r.criteria, *r.thresholds)]
    # the six QA and response rulesets (68), the 15 on the figures extracts (57), and missing from
    # home, child sexual exploitation, hate crime and problem solving (41), and DVPN and Clare's Law,
    # vulnerable callers, complaint handling and high-impact investigations (46)
    assert len(items) == 125 + 41 + 46
    for rid, item in items:
        assert 0 < len(item.guidance) <= 200 and "\n" not in item.guidance, (rid, item.id)
    # each says who acts: the officer, a supervisor or a named role
    whos = ("officer", "sergeant", "supervisor", "inspector", "manager")
    assert all(any(w in item.guidance.lower() for w in whos) for _, item in items)


def test_the_critical_criteria_are_exactly_the_four_of_the_contract(criteria) -> None:
    # docs/submissions.md: strip search without authorisation; high-risk DASH with no MARAC referral;
    # children present with no child referral; victim details not protected in disclosable material
    # and (tests/rules/safeguarding_cases.py) a high-risk missing child with no supervisor review, a
    # child at risk of sexual exploitation not referred, a vulnerable victim a plan left unprotected
    assert {cid for cid, (_, c) in criteria.items() if c.critical} == {
        "SS12",
        "DA02",
        "DA04",
        "CF13",
    } | SAFEGUARDING_CRITICAL | PREVENTION_CRITICAL


def test_every_question_of_every_form_is_checked_by_a_criterion(rulesets, fields) -> None:
    read: dict[str, set[str]] = {}
    for r in rulesets:
        for c in r.criteria:
            read.setdefault(str(r.case_type), set()).update(c.fields)
    for case_type, form in fields.items():
        # every question a form adds, and every question docs/submissions.md fixes (but the two above)
        expected = (set(form) | set(CANONICAL_QUESTIONS.get(case_type, ()))) - NOT_JUDGED
        assert not [q for q in expected if q in form and form[q].type is AnswerType.TEXT], case_type
        assert expected - read.get(case_type, set()) == set(), case_type


@pytest.mark.parametrize(
    ("ruleset_id", "priority", "case_type", "measures"),
    [
        ("stop-search-legitimacy", 4, "stop_search", {"D11"}),
        ("victims-code-compliance", 3, "victim_care", {"M8"}),
        ("case-file-quality", 2, "crime_file", {"M5"}),
        ("investigation-quality", 2, "investigation", {"D5"}),
        ("domestic-abuse-safeguarding", 3, "domestic_abuse", {"D7"}),
        *SAFEGUARDING_RULESETS,
        *PREVENTION_RULESETS,
    ],
)
def test_each_case_type_feeds_its_measure_and_priority(
    rulesets, ruleset_id, priority, case_type, measures
) -> None:
    (r,) = [r for r in rulesets if r.id == ruleset_id]
    assert (r.priority, r.case_type) == (priority, case_type)
    assert {c.measure for c in r.criteria} == measures
    assert r.description and all(c.minimum is not None and c.standard for c in r.criteria)


def test_stop_search_is_legitimacy(rulesets) -> None:
    (r,) = [r for r in rulesets if r.id == "stop-search-legitimacy"]
    assert {c.peel for c in r.criteria} == {"legitimacy"}


@pytest.mark.parametrize(
    ("ruleset_id", "name", "value"),
    [
        ("victims-code-compliance", "support_referral_working_days", 2),
        ("victims-code-compliance", "right6_update_working_days", 5),
        ("victims-code-compliance", "right6_update_working_days_enhanced", 1),
        ("domestic-abuse-safeguarding", "marac_yes_threshold", 14),
        ("case-file-quality", "gap_listing_days", 14),
        ("case-file-quality", "ngap_listing_days", 28),
        ("response-standards", "g1_urban_minutes", 15),
        ("response-standards", "g1_rural_minutes", 20),
        ("response-standards", "g2_minutes", 60),
        ("response-standards", "call999_seconds", 10),
        *SAFEGUARDING_SETTINGS,
        *PREVENTION_SETTINGS,
    ],
)
def test_unconfirmed_facts_are_documented_settings(rulesets, ruleset_id, name, value) -> None:
    (r,) = [r for r in rulesets if r.id == ruleset_id]
    assert r.settings[name] == value
    (spec,) = [s for s in r.setting_specs if s.name == name]
    assert spec.description.strip()


def test_a_force_override_moves_the_marac_threshold(fields) -> None:
    overrides = {"domestic-abuse-safeguarding": {"marac_yes_threshold": 12}}
    (r,) = [
        r
        for r in load_rulesets(REPO / "rulesets", fields, setting_overrides=overrides)
        if r.id.startswith("dom")
    ]
    case = dict.fromkeys(fields["domestic_abuse"]) | {
        "dash_risk": "medium",
        "dash_yes_count": 12,
        "marac_referral_made": "no",
    }
    assert outcome(r.criterion("DA02"), case) == "fail"  # 12 is high risk for this force, N/A by default


def test_a_working_day_settings_override_changes_the_deadline(fields) -> None:
    overrides = {"victims-code-compliance": {"right6_update_working_days": 10}}
    (r,) = [
        r
        for r in load_rulesets(REPO / "rulesets", fields, setting_overrides=overrides)
        if r.id == "victims-code-compliance"
    ]
    answers = {
        "suspect_event_on": "2026-11-16",
        "victim_updated_on": "2026-11-24",
        "enhanced_rights_eligible": "no",
    }
    assert outcome(r.criterion("VC05"), dict.fromkeys(fields["victim_care"]) | answers) == "pass"


def test_response_standards_thresholds(rulesets) -> None:
    (r,) = [r for r in rulesets if r.id == "response-standards"]
    assert (r.priority, r.extract, r.case_type) == (1, "incidents", None)
    by_metric = {t.metric: t for t in r.thresholds}
    assert set(by_metric) == set(METRICS)
    assert {t.measure for t in r.thresholds} == {"M2"}
    assert by_metric["call999_answered_within_10s"].minimum == 0.9  # National Call Handling Standard
    assert (by_metric["call101_answer_seconds"].minimum, by_metric["call101_answer_seconds"].direction) == (
        None,
        "lower",
    )
