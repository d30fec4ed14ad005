"""factory-boy factories for the DVPN and Clare's Law, vulnerable caller, complaint handling and
high-impact investigation case types: one valid submission row (common columns + answers, all text as
in a CSV) per type, a case that meets every criterion, with traits for the kinds of case and the
failures scenarios need, e.g. ``DvpnDvdsFactory(dvpo_late=True, place="STN")`` or
``ComplaintHandlingFactory(still_open=True)``. A failure of one answer alone is an override
(``VulnerableCallerFactory(voice_recorded="no")``): each trait costs factory-boy time on every row the
demo builds, so only kinds of case and failures that change several answers or dates are traits.
"""

from __future__ import annotations

from typing import Any

import factory

from engine.demo.factories import AssessmentFactory, days_after

#: the disclosure scheme's answers blank, as a DVPN row has them
_NO_DVDS: dict[str, Any] = {
    "process_started_on": "",
    "initial_checks_on": "",
    "immediate_risk_identified": "",
    "immediate_action_taken": "",
    "decision_reasons_recorded": "",
    "disclosure_decision": "",
    "outcome_on": "",
    "safety_plan_given": "",
}
#: the DVPN's answers blank, as a Clare's Law row has them
_NO_DVPN: dict[str, Any] = {
    "authorising_rank": "",
    "authorisation_considerations": "",
    "dvpn_served_personally": "",
    "dvpo_applied": "",
    "dvpo_hearing_hours": "",
    "dvpo_granted": "",
    "victim_told_of_order": "",
}


def _clares_law(decision_type: str) -> dict[str, Any]:
    """A Clare's Law case checked the next day and concluded with a disclosure and a safety plan on
    day 20; no immediate risk."""
    return {
        **_NO_DVPN,
        "decision_type": decision_type,
        "process_started_on": factory.SelfAttribute("case_date"),
        "initial_checks_on": factory.LazyAttribute(lambda o: days_after(o.process_started_on, 1)),
        "immediate_risk_identified": "no",
        "decision_reasons_recorded": "yes",
        "disclosure_decision": "disclose",
        "outcome_on": factory.LazyAttribute(lambda o: days_after(o.process_started_on, 20)),
        "safety_plan_given": "yes",
    }


class DvpnDvdsFactory(AssessmentFactory):
    """A DVPN authorised by a superintendent with the considerations recorded, served in person, the
    DVPO heard 30 hours later and granted, the victim told its terms and referred to an IDVA."""

    class Params:
        right_to_ask = factory.Trait(**_clares_law("right_to_ask"))
        right_to_know = factory.Trait(**_clares_law("right_to_know"))
        not_disclosed = factory.Trait(disclosure_decision="not_disclose", safety_plan_given="")
        immediate_risk = factory.Trait(immediate_risk_identified="yes", immediate_action_taken="yes")
        #: critical: someone the checks showed at immediate risk, not protected
        immediate_risk_unprotected = factory.Trait(
            immediate_risk_identified="yes", immediate_action_taken="no"
        )
        dvds_late = factory.Trait(
            outcome_on=factory.LazyAttribute(lambda o: days_after(o.process_started_on, 36))
        )
        #: critical: a DVPN issued by an officer below superintendent
        not_superintendent = factory.Trait(authorising_rank="below_superintendent")
        #: critical: the DVPO application heard after the 48 hours
        dvpo_late = factory.Trait(dvpo_hearing_hours="52")
        dvpo_refused = factory.Trait(dvpo_granted="no", victim_told_of_order="")

    assessment_id = factory.Sequence(lambda n: f"DP-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"DP/{n:06d}/26")
    case_type = "dvpn_dvds"
    decision_type = "dvpn"
    authorising_rank = "superintendent_or_above"
    authorisation_considerations = "yes"
    dvpn_served_personally = "yes"
    dvpo_applied = "yes"
    dvpo_hearing_hours = "30"
    dvpo_granted = "yes"
    victim_told_of_order = "yes"
    process_started_on = ""
    initial_checks_on = ""
    immediate_risk_identified = ""
    immediate_action_taken = ""
    decision_reasons_recorded = ""
    disclosure_decision = ""
    outcome_on = ""
    safety_plan_given = ""
    victim_referred_to_support = "yes"
    notes = ""
    note_kind = ""


class VulnerableCallerFactory(AssessmentFactory):
    """A frequent caller (15 calls in 90 days) in mental health crisis: the latest call assessed as
    medium risk and answered to it, vulnerability recorded and flagged, their voice recorded,
    referred to the crisis team the same day (Right Care, Right Person) and managed under a case plan
    reviewed on time; not stepped down."""

    class Params:
        occasional = factory.Trait(calls_90_days="3", case_plan_recorded="na", plan_reviewed="")
        no_partner_need = factory.Trait(
            partner_need="none", need_identified_on="", partner_referral_on="", right_agency_handled="na"
        )
        housing_need = factory.Trait(partner_need="housing", right_agency_handled="na")
        high_risk = factory.Trait(thrive_risk="high", safeguarding_action_taken="yes")
        #: critical: a caller assessed at high risk, not kept safe
        high_risk_unsafeguarded = factory.Trait(thrive_risk="high", safeguarding_action_taken="no")
        referral_late = factory.Trait(
            partner_referral_on=factory.LazyAttribute(lambda o: days_after(o.need_identified_on, 6))
        )
        no_plan = factory.Trait(case_plan_recorded="no", plan_reviewed="")
        stepped_down_reviewed = factory.Trait(stepped_down="yes", step_down_review_recorded="yes")
        stepped_down_unreviewed = factory.Trait(stepped_down="yes", step_down_review_recorded="no")

    assessment_id = factory.Sequence(lambda n: f"VL-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"VL/{n:06d}/26")
    case_type = "vulnerable_caller"
    calls_90_days = "15"
    thrive_recorded = "yes"
    thrive_risk = "medium"
    response_matched_risk = "yes"
    safeguarding_action_taken = ""
    vulnerability_identified = "yes"
    caller_flagged = "yes"
    voice_recorded = "yes"
    partner_need = "mental_health"
    need_identified_on = factory.SelfAttribute("case_date")
    partner_referral_on = factory.SelfAttribute("need_identified_on")
    right_agency_handled = "yes"
    case_plan_recorded = "yes"
    plan_reviewed = "yes"
    stepped_down = "no"
    step_down_review_recorded = ""
    notes = ""
    note_kind = ""


class ComplaintHandlingFactory(AssessmentFactory):
    """A complaint recorded under Schedule 3, logged and assessed, the complainant called three days
    later and their wishes recorded, handled proportionately with updates, finalised with an outcome
    letter giving the right of review; the service found acceptable; no referral, no discrimination."""

    class Params:
        still_open = factory.Trait(
            complaint_status="open",
            outcome_letter_sent="",
            right_of_review_given="",
            service_acceptable="",
            learning_recorded="",
        )
        outside_schedule_3 = factory.Trait(
            recording_required="no", recorded_under_schedule_3="no", right_of_review_given=""
        )
        not_acceptable = factory.Trait(service_acceptable="not_acceptable", learning_recorded="yes")
        referred = factory.Trait(referral_criteria_met="yes", referred_to_iopc="yes", referral_days="0")
        #: critical: a complaint meeting the mandatory referral criteria, not referred to the IOPC
        referral_missed = factory.Trait(referral_criteria_met="yes", referred_to_iopc="no", referral_days="")
        discrimination = factory.Trait(discrimination_alleged="yes", discrimination_handled="yes")
        contact_late = factory.Trait(
            initial_contact_on=factory.LazyAttribute(lambda o: days_after(o.complaint_received_on, 24))
        )

    assessment_id = factory.Sequence(lambda n: f"CH-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"CH/{n:06d}/26")
    case_type = "complaint_handling"
    complaint_received_on = factory.SelfAttribute("case_date")
    logged_and_assessed = "yes"
    initial_contact_on = factory.LazyAttribute(lambda o: days_after(o.complaint_received_on, 3))
    complainant_wishes_recorded = "yes"
    recording_required = "yes"
    recorded_under_schedule_3 = "yes"
    referral_criteria_met = "no"
    referred_to_iopc = ""
    referral_days = ""
    discrimination_alleged = "no"
    discrimination_handled = ""
    handled_proportionately = "yes"
    kept_updated = "yes"
    complaint_status = "finalised"
    outcome_letter_sent = "yes"
    right_of_review_given = "yes"
    service_acceptable = "acceptable"
    learning_recorded = ""
    notes = ""
    note_kind = ""


class HighImpactInvestigationFactory(AssessmentFactory):
    """A serious assault: the scene cordoned and logged from the start, the on-call detective
    inspector told within the hour, a named officer with the victim within 6 hours, the fast-track
    actions, forensic opportunities and the suspect's arrest taken, the community impact assessed and
    the initial investigation reviewed."""

    class Params:
        homicide = factory.Trait(event_type="homicide", sio_appointed="yes")
        attempted_murder = factory.Trait(event_type="attempted_murder", sio_appointed="yes")
        fatal_collision = factory.Trait(
            event_type="fatal_collision", sio_appointed="yes", suspect_action="na"
        )
        no_scene = factory.Trait(scene_exists="no", scene_preserved="", forensic_opportunities="na")
        #: critical: a scene left unpreserved
        scene_lost = factory.Trait(scene_preserved="no")
        no_sio = factory.Trait(event_type="homicide", sio_appointed="no")
        notified_late = factory.Trait(notification_hours="5")
        liaison_late = factory.Trait(liaison_hours="40")

    assessment_id = factory.Sequence(lambda n: f"II-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"II/{n:06d}/26")
    case_type = "high_impact_investigation"
    event_type = "serious_assault"
    scene_exists = "yes"
    scene_preserved = "yes"
    senior_officer_notified = "yes"
    notification_hours = "0"
    sio_appointed = ""
    victim_liaison = "yes"
    liaison_hours = "6"
    fast_track_actions = "yes"
    forensic_opportunities = "yes"
    suspect_action = "yes"
    community_impact_assessed = "yes"
    supervisor_review_recorded = "yes"
    notes = ""
    note_kind = ""


#: case type -> its factory
PREVENTION_FACTORIES: dict[str, type[AssessmentFactory]] = {
    "dvpn_dvds": DvpnDvdsFactory,
    "vulnerable_caller": VulnerableCallerFactory,
    "complaint_handling": ComplaintHandlingFactory,
    "high_impact_investigation": HighImpactInvestigationFactory,
}


def _traits(factory_class: type[AssessmentFactory]) -> tuple[str, ...]:
    params: dict[str, Any] = factory_class._meta.parameters
    return tuple(name for name, value in params.items() if isinstance(value, factory.Trait))


#: case type -> the trait names its factory offers, in declaration order
PREVENTION_TRAITS: dict[str, tuple[str, ...]] = {t: _traits(f) for t, f in PREVENTION_FACTORIES.items()}
