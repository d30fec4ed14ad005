"""Pass, fail and N/A cases of the missing-from-home, child-sexual-exploitation, hate-crime and
problem-solving-quality criteria, as a QA lead would expect them (tests/rules/test_ruleset_content.py
runs them against the real rulesets and forms). Unlisted questions are blank; 2026-11-16 is a Monday.
"""

from __future__ import annotations

from typing import Any

Case = tuple[str, dict[str, Any]]


def simple(question: str, fail: str = "no", na: str | None = None) -> list[Case]:
    """A yes/no judgement: yes passes, ``fail`` fails, ``na`` (blank by default) is N/A."""
    return [("pass", {question: "yes"}), ("fail", {question: fail}), ("na", {question: na})]


CHILD = {"person_is_child": "yes"}
ADULT = {"person_is_child": "no"}

MISSING: dict[str, list[Case]] = {
    "MF01": simple("risk_assessment_recorded"),
    "MF02": [
        ("pass", {"risk_assessment_recorded": "yes", "risk_level_appropriate": "yes"}),
        ("fail", {"risk_assessment_recorded": "yes", "risk_level_appropriate": "partly"}),
        ("na", {"risk_assessment_recorded": "no"}),
    ],
    "MF03": simple("previous_episodes_checked"),
    "MF04": simple("supervisor_review_recorded"),
    "MF05": [
        ("pass", {**CHILD, "risk_level": "high", "supervisor_review_recorded": "yes"}),
        ("fail", {**CHILD, "risk_level": "high", "supervisor_review_recorded": "no"}),
        ("fail", {**CHILD, "risk_level": "high"}),  # nothing recorded is no review
        ("na", {**ADULT, "risk_level": "high", "supervisor_review_recorded": "no"}),
        ("na", {**CHILD, "risk_level": "medium", "supervisor_review_recorded": "no"}),
    ],
    "MF06": [
        ("pass", {"risk_level": "high", "supervisor_review_recorded": "yes", "supervisor_review_hours": 1}),
        ("fail", {"risk_level": "high", "supervisor_review_recorded": "yes", "supervisor_review_hours": 2}),
        ("pass", {"risk_level": "medium", "supervisor_review_recorded": "yes", "supervisor_review_hours": 4}),
        ("fail", {"risk_level": "medium", "supervisor_review_recorded": "yes", "supervisor_review_hours": 5}),
        (
            "pass",
            {"risk_level": "very_low", "supervisor_review_recorded": "yes", "supervisor_review_hours": 24},
        ),
        ("fail", {"risk_level": "low", "supervisor_review_recorded": "yes", "supervisor_review_hours": 30}),
        ("na", {"risk_level": "high", "supervisor_review_recorded": "no"}),  # MF04 and MF05 judge that
    ],
    "MF07": [
        ("pass", {"risk_level": "high", "senior_oversight_recorded": "yes"}),
        ("fail", {"risk_level": "high", "senior_oversight_recorded": "no"}),
        ("fail", {"risk_level": "high", "senior_oversight_recorded": "na"}),
        ("na", {"risk_level": "medium"}),
    ],
    "MF08": [
        ("pass", {**CHILD, "children_services_informed": "yes"}),
        ("fail", {**CHILD, "children_services_informed": "no"}),
        ("na", {**ADULT}),
    ],
    "MF09": [
        ("pass", {**CHILD, "exploitation_risk_considered": "yes"}),
        ("fail", {**CHILD, "exploitation_risk_considered": "no"}),
        ("na", {**ADULT}),
    ],
    "MF10": [
        ("pass", {"returned_on": "2026-11-16", "prevention_interview_done": "yes"}),
        ("fail", {"returned_on": "2026-11-16", "prevention_interview_done": "no"}),
        ("fail", {"returned_on": "2026-11-16"}),
        ("na", {}),  # still missing when reviewed
    ],
    "MF11": [
        ("pass", {**CHILD, "returned_on": "2026-11-16", "rhi_offered_on": "2026-11-19"}),  # 72 hours
        ("fail", {**CHILD, "returned_on": "2026-11-16", "rhi_offered_on": "2026-11-20"}),
        ("fail", {**CHILD, "returned_on": "2026-11-16", "rhi_offered_on": "2026-11-15"}),  # before return
        ("fail", {**CHILD, "returned_on": "2026-11-16"}),  # never offered
        ("na", {**ADULT, "returned_on": "2026-11-16"}),
        ("na", {**CHILD}),  # not returned
    ],
    "MF12": [
        ("pass", {"repeat_missing": "yes", "repeat_plan_recorded": "yes"}),
        ("fail", {"repeat_missing": "yes", "repeat_plan_recorded": "no"}),
        ("na", {"repeat_missing": "no"}),
    ],
}

EXPLOITATION: dict[str, list[Case]] = {
    "CE01": simple("indicators_recorded"),
    "CE02": simple("risk_assessment_completed"),
    "CE03": simple("referral_made"),  # every child reviewed is at risk; the form requires the answer
    "CE04": [
        # concern on Friday 2026-11-20: the next working day is Monday 2026-11-23
        (
            "pass",
            {"concern_identified_on": "2026-11-20", "referral_made": "yes", "referral_on": "2026-11-23"},
        ),
        (
            "fail",
            {"concern_identified_on": "2026-11-20", "referral_made": "yes", "referral_on": "2026-11-24"},
        ),
        ("fail", {"concern_identified_on": "2026-11-20", "referral_made": "yes"}),  # no date recorded
        ("na", {"concern_identified_on": "2026-11-20", "referral_made": "no"}),  # CE03 judges that
    ],
    "CE05": [
        ("pass", {"significant_harm_suspected": "yes", "strategy_discussion_held": "yes"}),
        ("fail", {"significant_harm_suspected": "yes", "strategy_discussion_held": "no"}),
        ("na", {"significant_harm_suspected": "no"}),
    ],
    "CE06": simple("safety_plan_recorded"),
    "CE07": [
        ("pass", {"missing_history": "yes", "missing_episodes_linked": "yes"}),
        ("fail", {"missing_history": "yes", "missing_episodes_linked": "no"}),
        ("na", {"missing_history": "no"}),
    ],
    "CE08": simple("disruption_considered"),
    "CE09": simple("victim_language_appropriate"),
}

HATE: dict[str, list[Case]] = {
    "HC01": [
        ("pass", {"report_type": "crime", "perceived_as_hate": "yes", "flagged_as_hate": "yes"}),
        ("fail", {"report_type": "crime", "perceived_as_hate": "yes", "flagged_as_hate": "no"}),
        ("na", {"report_type": "crime", "perceived_as_hate": "no", "flagged_as_hate": "no"}),
        ("na", {"report_type": "non_crime_incident", "perceived_as_hate": "yes", "flagged_as_hate": "no"}),
    ],
    "HC02": simple("strand_recorded"),
    "HC03": [
        ("pass", {"report_type": "non_crime_incident", "nchi_threshold_met": "yes"}),
        ("fail", {"report_type": "non_crime_incident", "nchi_threshold_met": "no"}),
        ("na", {"report_type": "crime", "nchi_threshold_met": "na"}),
    ],
    "HC04": [
        ("pass", {"report_type": "crime", "hostility_evidence_gathered": "yes"}),
        ("fail", {"report_type": "crime", "hostility_evidence_gathered": "no"}),
        ("na", {"report_type": "crime", "hostility_evidence_gathered": "na"}),  # no line of evidence to take
        ("na", {"report_type": "non_crime_incident"}),
    ],
    "HC05": simple("victim_needs_assessed"),
    "HC06": simple("support_referral_offered"),
    "HC07": simple("repeat_victimisation_checked"),
    "HC08": [
        # recorded Friday 2026-11-20: 5 working days is Friday 2026-11-27
        ("pass", {"report_type": "crime", "recorded_on": "2026-11-20", "first_update_on": "2026-11-27"}),
        ("fail", {"report_type": "crime", "recorded_on": "2026-11-20", "first_update_on": "2026-11-30"}),
        ("fail", {"report_type": "crime", "recorded_on": "2026-11-20"}),  # never updated
        ("na", {"report_type": "non_crime_incident", "recorded_on": "2026-11-20"}),
    ],
    "HC09": simple("supervisor_reviewed"),
    "HC10": simple("community_impact_considered"),
}

PROBLEM_SOLVING: dict[str, list[Case]] = {
    "PS01": simple("problem_defined", fail="partly"),
    "PS02": simple("community_involved"),
    "PS03": simple("objectives_set", fail="partly"),
    "PS04": simple("analysis_recorded", fail="partly"),
    "PS05": simple("response_tailored"),
    "PS06": simple("partners_involved", na="na"),  # na: the problem needed no partner
    "PS07": simple("supervisor_reviewed"),
    "PS08": [
        ("pass", {"vulnerable_victim": "yes", "safeguarding_addressed": "yes"}),
        ("fail", {"vulnerable_victim": "yes", "safeguarding_addressed": "no"}),
        ("fail", {"vulnerable_victim": "yes"}),
        ("na", {"vulnerable_victim": "no"}),
    ],
    "PS09": [
        ("pass", {"plan_status": "closed", "assessment_recorded": "yes"}),
        ("fail", {"plan_status": "closed", "assessment_recorded": "no"}),
        ("na", {"plan_status": "open"}),
    ],
    "PS10": [
        ("pass", {"plan_status": "closed", "learning_shared": "yes"}),
        ("fail", {"plan_status": "closed", "learning_shared": "no"}),
        ("na", {"plan_status": "open"}),
    ],
}

#: criterion id -> [(expected outcome, answers)]
SAFEGUARDING_CASES: dict[str, list[Case]] = {**MISSING, **EXPLOITATION, **HATE, **PROBLEM_SOLVING}

#: the new critical criteria: a high-risk missing child with no supervisor review, a child at risk of
#: sexual exploitation not referred, a problem-solving plan leaving a vulnerable victim unprotected
SAFEGUARDING_CRITICAL = {"MF05", "CE03", "PS08"}

#: (ruleset, priority, case type, measures it feeds)
SAFEGUARDING_RULESETS = [
    ("missing-from-home", 3, "missing_from_home", {"D7", "M7"}),
    ("child-sexual-exploitation", 3, "child_sexual_exploitation", {"D7"}),
    ("hate-crime", 3, "hate_crime", {"D7"}),
    ("problem-solving-quality", 4, "problem_solving", {"D10"}),
]

#: (ruleset, setting, default) for every figure the standards leave to the force [U]
SAFEGUARDING_SETTINGS = [
    ("missing-from-home", "review_hours_high", 1),
    ("missing-from-home", "review_hours_medium", 4),
    ("missing-from-home", "review_hours_low", 24),
    ("missing-from-home", "rhi_offer_days", 3),
    ("child-sexual-exploitation", "referral_working_days", 1),
    ("hate-crime", "first_update_working_days", 5),
]
