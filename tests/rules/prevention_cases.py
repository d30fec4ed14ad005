"""Pass, fail and N/A cases of the DVPN and Clare's Law, vulnerable caller, complaint handling and
high-impact investigation criteria, as a QA lead would expect them (tests/rules/test_ruleset_content.py
runs them against the real rulesets and forms). Unlisted questions are blank; 2026-11-16 is a Monday.
"""

from __future__ import annotations

from typing import Any

Case = tuple[str, dict[str, Any]]


def simple(question: str, fail: str = "no", na: str | None = None) -> list[Case]:
    """A yes/no judgement: yes passes, ``fail`` fails, ``na`` (blank by default) is N/A."""
    return [("pass", {question: "yes"}), ("fail", {question: fail}), ("na", {question: na})]


DVPN = {"decision_type": "dvpn"}
ASK = {"decision_type": "right_to_ask"}
KNOW = {"decision_type": "right_to_know"}

DVPN_DVDS: dict[str, list[Case]] = {
    "DP01": [
        ("pass", {**DVPN, "authorising_rank": "superintendent_or_above"}),
        ("fail", {**DVPN, "authorising_rank": "below_superintendent"}),
        ("fail", {**DVPN, "authorising_rank": "not_recorded"}),
        ("fail", {**DVPN}),  # nothing recorded is no lawful authority
        ("na", {**ASK}),
    ],
    "DP02": [
        ("pass", {**DVPN, "authorisation_considerations": "yes"}),
        ("fail", {**DVPN, "authorisation_considerations": "partly"}),
        ("na", {**KNOW}),
    ],
    "DP03": [
        ("pass", {**DVPN, "dvpn_served_personally": "yes"}),
        ("fail", {**DVPN, "dvpn_served_personally": "no"}),
        ("na", {**ASK}),
    ],
    "DP04": [
        ("pass", {**DVPN, "dvpo_applied": "yes", "dvpo_hearing_hours": 48}),
        ("pass", {**DVPN, "dvpo_applied": "yes", "dvpo_hearing_hours": 0}),
        ("fail", {**DVPN, "dvpo_applied": "yes", "dvpo_hearing_hours": 49}),  # out of time
        ("fail", {**DVPN, "dvpo_applied": "no"}),  # the Act says a constable must apply
        ("fail", {**DVPN, "dvpo_applied": "yes"}),  # hearing never recorded
        ("na", {**KNOW, "dvpo_applied": "no"}),
    ],
    "DP05": [
        ("pass", {**DVPN, "dvpo_granted": "yes", "victim_told_of_order": "yes"}),
        ("fail", {**DVPN, "dvpo_granted": "yes", "victim_told_of_order": "no"}),
        ("na", {**DVPN, "dvpo_granted": "no"}),
    ],
    "DP06": [
        ("pass", {**ASK, "process_started_on": "2026-11-16", "initial_checks_on": "2026-11-17"}),
        ("pass", {**KNOW, "process_started_on": "2026-11-16", "initial_checks_on": "2026-11-16"}),
        ("fail", {**ASK, "process_started_on": "2026-11-16", "initial_checks_on": "2026-11-18"}),
        ("fail", {**ASK, "process_started_on": "2026-11-16", "initial_checks_on": "2026-11-15"}),  # before
        ("fail", {**ASK, "process_started_on": "2026-11-16"}),  # never recorded
        ("na", {**DVPN, "initial_checks_on": "2026-11-30"}),
    ],
    "DP07": [
        ("pass", {**ASK, "immediate_risk_identified": "yes", "immediate_action_taken": "yes"}),
        ("fail", {**KNOW, "immediate_risk_identified": "yes", "immediate_action_taken": "no"}),
        ("fail", {**ASK, "immediate_risk_identified": "yes"}),
        ("na", {**ASK, "immediate_risk_identified": "no"}),
    ],
    "DP08": [
        ("pass", {**ASK, "decision_reasons_recorded": "yes"}),
        ("fail", {**KNOW, "decision_reasons_recorded": "partly"}),
        ("na", {**DVPN}),
    ],
    "DP09": [
        ("pass", {**ASK, "process_started_on": "2026-11-02", "outcome_on": "2026-11-30"}),  # day 28
        ("fail", {**ASK, "process_started_on": "2026-11-02", "outcome_on": "2026-12-01"}),
        ("fail", {**KNOW, "process_started_on": "2026-11-02"}),  # no outcome yet, reviewed after day 28
        ("na", {**DVPN}),
    ],
    "DP10": [
        ("pass", {**ASK, "disclosure_decision": "disclose", "safety_plan_given": "yes"}),
        ("fail", {**KNOW, "disclosure_decision": "disclose", "safety_plan_given": "no"}),
        ("na", {**ASK, "disclosure_decision": "not_disclose"}),
    ],
    "DP11": simple("victim_referred_to_support"),
}

FREQUENT = {"calls_90_days": 12}
OCCASIONAL = {"calls_90_days": 11}

VULNERABLE_CALLER: dict[str, list[Case]] = {
    "VL01": simple("thrive_recorded"),
    "VL02": [
        ("pass", {"thrive_recorded": "yes", "response_matched_risk": "yes"}),
        ("fail", {"thrive_recorded": "yes", "response_matched_risk": "partly"}),
        ("na", {"thrive_recorded": "no"}),
    ],
    "VL03": [
        ("pass", {"thrive_risk": "high", "safeguarding_action_taken": "yes"}),
        ("fail", {"thrive_risk": "high", "safeguarding_action_taken": "no"}),
        ("fail", {"thrive_risk": "high"}),
        ("na", {"thrive_risk": "medium"}),
    ],
    "VL04": simple("vulnerability_identified"),
    "VL05": [
        ("pass", {**OCCASIONAL, "vulnerability_identified": "yes", "caller_flagged": "yes"}),
        ("fail", {**OCCASIONAL, "vulnerability_identified": "yes", "caller_flagged": "no"}),
        ("fail", {**FREQUENT, "vulnerability_identified": "no", "caller_flagged": "no"}),  # 12 calls
        ("na", {**OCCASIONAL, "vulnerability_identified": "no", "caller_flagged": "no"}),
    ],
    "VL06": simple("voice_recorded"),
    "VL07": [
        ("pass", {"partner_need": "mental_health", "partner_referral_on": "2026-11-17"}),
        ("fail", {"partner_need": "housing"}),  # never referred
        ("na", {"partner_need": "none"}),
    ],
    "VL08": [
        # need recorded on Friday 2026-11-20: one working day is Monday 2026-11-23
        ("pass", {"need_identified_on": "2026-11-20", "partner_referral_on": "2026-11-23"}),
        ("fail", {"need_identified_on": "2026-11-20", "partner_referral_on": "2026-11-24"}),
        ("fail", {"need_identified_on": "2026-11-20", "partner_referral_on": "2026-11-19"}),  # before
        ("na", {"need_identified_on": "2026-11-20"}),  # VL07 judges a referral never made
    ],
    "VL09": simple("right_agency_handled", na="na"),  # na: police attendance was needed
    "VL10": [
        ("pass", {**FREQUENT, "case_plan_recorded": "yes"}),
        ("fail", {**FREQUENT, "case_plan_recorded": "no"}),
        ("fail", {**FREQUENT, "case_plan_recorded": "na"}),  # a frequent caller always needs one
        ("na", {**OCCASIONAL, "case_plan_recorded": "na"}),
    ],
    "VL11": [
        ("pass", {"case_plan_recorded": "yes", "plan_reviewed": "yes"}),
        ("fail", {"case_plan_recorded": "yes", "plan_reviewed": "no"}),
        ("na", {"case_plan_recorded": "na"}),
    ],
    "VL12": [
        ("pass", {"stepped_down": "yes", "step_down_review_recorded": "yes"}),
        ("fail", {"stepped_down": "yes", "step_down_review_recorded": "no"}),
        ("na", {"stepped_down": "no"}),
    ],
}

FINAL = {"complaint_status": "finalised"}

COMPLAINTS: dict[str, list[Case]] = {
    "CH01": simple("logged_and_assessed"),
    "CH02": [
        # received Friday 2026-11-20: 10 working days is Friday 2026-12-04
        ("pass", {"complaint_received_on": "2026-11-20", "initial_contact_on": "2026-12-04"}),
        ("fail", {"complaint_received_on": "2026-11-20", "initial_contact_on": "2026-12-07"}),
        ("fail", {"complaint_received_on": "2026-11-20"}),  # never contacted
        ("na", {"initial_contact_on": "2026-11-20"}),
    ],
    "CH03": simple("complainant_wishes_recorded"),
    "CH04": [
        ("pass", {"recording_required": "yes", "recorded_under_schedule_3": "yes"}),
        ("fail", {"recording_required": "yes", "recorded_under_schedule_3": "no"}),
        ("na", {"recording_required": "no", "recorded_under_schedule_3": "no"}),
    ],
    "CH05": [
        ("pass", {"referral_criteria_met": "yes", "referred_to_iopc": "yes"}),
        ("fail", {"referral_criteria_met": "yes", "referred_to_iopc": "no"}),
        ("fail", {"referral_criteria_met": "yes"}),
        ("na", {"referral_criteria_met": "no"}),
    ],
    "CH06": [
        ("pass", {"referred_to_iopc": "yes", "referral_days": 1}),
        ("fail", {"referred_to_iopc": "yes", "referral_days": 2}),
        ("na", {"referred_to_iopc": "no"}),
    ],
    "CH07": [
        ("pass", {"discrimination_alleged": "yes", "discrimination_handled": "yes"}),
        ("fail", {"discrimination_alleged": "yes", "discrimination_handled": "no"}),
        ("na", {"discrimination_alleged": "no"}),
    ],
    "CH08": simple("handled_proportionately", fail="partly"),
    "CH09": simple("kept_updated"),
    "CH10": [
        ("pass", {**FINAL, "outcome_letter_sent": "yes"}),
        ("fail", {**FINAL, "outcome_letter_sent": "no"}),
        ("na", {"complaint_status": "open"}),
    ],
    "CH11": [
        ("pass", {**FINAL, "recorded_under_schedule_3": "yes", "right_of_review_given": "yes"}),
        ("fail", {**FINAL, "recorded_under_schedule_3": "yes", "right_of_review_given": "no"}),
        ("na", {**FINAL, "recorded_under_schedule_3": "no"}),  # no review outside Schedule 3
        ("na", {"complaint_status": "open", "recorded_under_schedule_3": "yes"}),
    ],
    "CH12": [
        ("pass", {**FINAL, "service_acceptable": "not_acceptable", "learning_recorded": "yes"}),
        ("fail", {**FINAL, "service_acceptable": "not_acceptable", "learning_recorded": "no"}),
        ("na", {**FINAL, "service_acceptable": "acceptable"}),
    ],
}

HIGH_IMPACT: dict[str, list[Case]] = {
    "II01": [
        ("pass", {"scene_exists": "yes", "scene_preserved": "yes"}),
        ("fail", {"scene_exists": "yes", "scene_preserved": "no"}),
        ("fail", {"scene_exists": "yes"}),
        ("na", {"scene_exists": "no"}),
    ],
    "II02": simple("senior_officer_notified"),
    "II03": [
        ("pass", {"senior_officer_notified": "yes", "notification_hours": 1}),
        ("fail", {"senior_officer_notified": "yes", "notification_hours": 2}),
        ("na", {"senior_officer_notified": "no"}),  # II02 judges that
    ],
    "II04": [
        ("pass", {"event_type": "homicide", "sio_appointed": "yes"}),
        ("fail", {"event_type": "fatal_collision", "sio_appointed": "no"}),
        ("fail", {"event_type": "attempted_murder"}),
        ("na", {"event_type": "rape"}),
    ],
    "II05": simple("victim_liaison"),
    "II06": [
        ("pass", {"victim_liaison": "yes", "liaison_hours": 24}),
        ("fail", {"victim_liaison": "yes", "liaison_hours": 25}),
        ("na", {"victim_liaison": "no"}),
    ],
    "II07": simple("fast_track_actions", fail="partly"),
    "II08": simple("forensic_opportunities", fail="partly", na="na"),  # na: none existed
    "II09": simple("suspect_action", na="na"),  # na: no suspect known
    "II10": simple("community_impact_assessed", na="na"),
    "II11": simple("supervisor_review_recorded"),
}

#: criterion id -> [(expected outcome, answers)]
PREVENTION_CASES: dict[str, list[Case]] = {**DVPN_DVDS, **VULNERABLE_CALLER, **COMPLAINTS, **HIGH_IMPACT}

#: the new critical criteria: a DVPN not authorised by a superintendent, a DVPO application missing or
#: heard out of time, a person at immediate risk left unprotected in a Clare's Law case, a high-risk
#: caller left without safeguarding, a mandatory IOPC referral not made, a scene left unpreserved
PREVENTION_CRITICAL = {"DP01", "DP04", "DP07", "VL03", "CH05", "II01"}

#: (ruleset, priority, case type, measures it feeds)
PREVENTION_RULESETS = [
    ("dvpn-dvds-decisions", 2, "dvpn_dvds", {"M6"}),
    ("high-impact-investigation", 2, "high_impact_investigation", {"D6"}),
    ("vulnerable-caller-management", 3, "vulnerable_caller", {"M7"}),
    ("complaint-handling", 4, "complaint_handling", {"D12"}),
]

#: (ruleset, setting, default) for every figure a standard fixes or leaves to the force [U]
PREVENTION_SETTINGS = [
    ("dvpn-dvds-decisions", "dvpo_hearing_hours_max", 48),
    ("dvpn-dvds-decisions", "dvds_initial_checks_days", 1),
    ("dvpn-dvds-decisions", "dvds_outcome_days", 28),
    ("vulnerable-caller-management", "frequent_caller_calls", 12),
    ("vulnerable-caller-management", "referral_working_days", 1),
    ("complaint-handling", "initial_contact_working_days", 10),
    ("complaint-handling", "iopc_referral_days", 1),
    ("high-impact-investigation", "senior_notification_hours", 1),
    ("high-impact-investigation", "liaison_hours_max", 24),
]
