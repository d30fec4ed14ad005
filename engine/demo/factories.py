"""factory-boy factories: one valid submission row (common columns + answers, all text as in a CSV)
per case type, with traits for the failures later scenarios need, e.g.
``StopSearchFactory(grounds_missing=True, place="CRN")`` or ``DomesticAbuseFactory.build_batch(30)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory

#: the demo force's place codes (engine/data/demo_force.yaml)
DEMO_PLACE_CODES: tuple[str, ...] = (
    "BLK",
    "CRN",
    "FEN",
    "HRB",
    "ASH",
    "KNG",
    "MLB",
    "STN",
    "DLW",
    "ESM",
    "PRT",
    "RDG",
)
#: Monday of ISO week 2026-W47, the period the examples in docs/ use
DEFAULT_CASE_DATE = "2026-11-16"


def days_after(iso: str, days: int) -> str:
    return (dt.date.fromisoformat(iso) + dt.timedelta(days=days)).isoformat()


class AssessmentFactory(factory.DictFactory):
    """The common columns. Dates are ISO text; ``assessed_on`` follows ``case_date`` by ``assess_delay`` days."""

    class Params:
        assess_delay = 21

    assessment_id = factory.Sequence(lambda n: f"QA-{n:06d}")
    case_type = ""  # set by each case type's factory; declared here to keep the column order
    case_ref = factory.Sequence(lambda n: f"CR/{n:06d}/26")
    place = factory.Iterator(DEMO_PLACE_CODES)
    team = factory.Iterator(("Response A", "Response B", "Neighbourhood", "CID"))
    officer = factory.Sequence(lambda n: f"PC {1000 + n % 60}")
    reviewer = factory.Iterator(("QA Reviewer 1", "QA Reviewer 2", "QA Reviewer 3"))
    assessed_on = factory.LazyAttribute(lambda o: days_after(o.case_date, o.assess_delay))
    case_date = DEFAULT_CASE_DATE


class StopSearchFactory(AssessmentFactory):
    """A lawful, well-recorded PACE s1 search."""

    class Params:
        grounds_missing = factory.Trait(grounds_recorded="no", grounds_reasonable="no")
        no_bwv = factory.Trait(bwv_activated="no")
        strip_search_unauthorised = factory.Trait(strip_search="yes", strip_search_authorised="no")
        strip_search_authorised_ok = factory.Trait(strip_search="yes", strip_search_authorised="yes")
        section_60 = factory.Trait(power="s60", authorisation_recorded="yes")
        section_60_unauthorised = factory.Trait(power="s60", authorisation_recorded="no")

    assessment_id = factory.Sequence(lambda n: f"SS-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"SS/{n:06d}/26")
    case_type = "stop_search"
    power = "pace_s1"
    grounds_recorded = "yes"
    grounds_reasonable = "yes"
    object_recorded = "yes"
    object_found = "no"
    outcome_recorded = "yes"
    outcome_linked_to_object = "yes"
    ethnicity_self_defined_recorded = "yes"
    officer_identity_recorded = "yes"
    gowisely_given = "yes"
    bwv_activated = "yes"
    receipt_offered = "yes"
    authorisation_recorded = "na"
    strip_search = "no"
    strip_search_authorised = "na"
    supervisor_reviewed = "yes"
    notes = ""


class VictimCareFactory(AssessmentFactory):
    """Victims' Code met: referral and update the day after the event (within any working-day limit)."""

    class Params:
        late_update = factory.Trait(
            victim_updated_on=factory.LazyAttribute(lambda o: days_after(o.suspect_event_on, 14))
        )
        no_written_confirmation = factory.Trait(written_confirmation_given="no")
        referral_late = factory.Trait(
            support_referral_on=factory.LazyAttribute(lambda o: days_after(o.case_date, 7))
        )
        enhanced = factory.Trait(enhanced_rights_eligible="yes")
        referral_declined = factory.Trait(support_referral_on="", support_referral_declined="yes")

    assessment_id = factory.Sequence(lambda n: f"VC-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"VC/{n:06d}/26")
    case_type = "victim_care"
    enhanced_rights_eligible = "no"
    enhanced_rights_identified = "yes"
    crime_recorded_on = factory.SelfAttribute("case_date")
    written_confirmation_given = "yes"
    needs_assessment_done = "yes"
    support_referral_on = factory.LazyAttribute(lambda o: days_after(o.case_date, 1))
    support_referral_declined = "no"
    suspect_event_on = factory.LazyAttribute(lambda o: days_after(o.case_date, 1))
    victim_updated_on = factory.LazyAttribute(lambda o: days_after(o.suspect_event_on, 1))
    update_plan_agreed = "yes"
    vps_offered = "yes"
    update_quality = "good"
    notes = ""


class CrimeFileFactory(AssessmentFactory):
    """A complete NGAP file submitted a week after charge."""

    class Params:
        unbalanced_mg5 = factory.Trait(mg5_balanced="no")
        victim_details_exposed = factory.Trait(victim_details_protected="no")
        late_file = factory.Trait(
            file_submitted_on=factory.LazyAttribute(lambda o: days_after(o.charged_on, 35)), assess_delay=49
        )
        guilty_plea = factory.Trait(
            anticipated_plea="gap",
            unused_schedule_present="na",
            unused_items_described="na",
            disclosure_officer_report_present="na",
        )
        domestic_abuse = factory.Trait(domestic_abuse_case="yes", da_checklist_present="yes")
        rejected = factory.Trait(
            cps_rejected="yes", rejection_reason="missing_exhibits", exhibits_present="no"
        )

    assessment_id = factory.Sequence(lambda n: f"CF-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"CF/{n:06d}/26")
    case_type = "crime_file"
    anticipated_plea = "ngap"
    charged_on = factory.SelfAttribute("case_date")
    file_submitted_on = factory.LazyAttribute(lambda o: days_after(o.charged_on, 7))
    mg5_present = "yes"
    mg5_balanced = "yes"
    points_to_prove_set_out = "yes"
    interview_summary_adequate = "yes"
    key_statements_present = "yes"
    exhibits_present = "yes"
    previous_convictions_attached = "yes"
    unused_schedule_present = "yes"
    unused_items_described = "yes"
    disclosure_officer_report_present = "yes"
    supervisor_certified = "yes"
    domestic_abuse_case = "no"
    da_checklist_present = "na"
    victim_details_protected = "yes"
    cps_rejected = "no"
    rejection_reason = ""
    notes = ""


class InvestigationFactory(AssessmentFactory):
    """A residential burglary investigated on every relevant line of enquiry."""

    class Params:
        no_plan = factory.Trait(investigation_plan_recorded="no", supervisory_direction_quality="poor")
        cctv_missed = factory.Trait(loe_cctv="no")
        no_supervision = factory.Trait(supervisor_review_recorded="no", supervisory_direction_quality="none")

    assessment_id = factory.Sequence(lambda n: f"IN-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"IN/{n:06d}/26")
    case_type = "investigation"
    crime_type = "burglary_residential"
    investigation_plan_recorded = "yes"
    supervisor_review_recorded = "yes"
    supervisory_direction_quality = "good"
    loe_scene_forensic = "yes"
    loe_cctv = "yes"
    loe_house_to_house = "yes"
    loe_witnesses = "yes"
    loe_digital = "na"
    loe_bwv = "yes"
    suspect_identified = "yes"
    victim_contact_per_plan = "yes"
    outcome_appropriate = "yes"
    victim_view_recorded = "yes"
    notes = ""


class DomesticAbuseFactory(AssessmentFactory):
    """A medium-risk incident, no children, safeguarded."""

    class Params:
        high_risk_no_marac = factory.Trait(dash_risk="high", dash_yes_count="15", marac_referral_made="no")
        high_risk = factory.Trait(dash_risk="high", dash_yes_count="16", marac_referral_made="yes")
        children_no_referral = factory.Trait(children_present="yes", child_referral_made="no")
        children_referred = factory.Trait(children_present="yes", child_referral_made="yes")
        no_dash = factory.Trait(dash_completed="no", dash_risk="", dash_yes_count="")

    assessment_id = factory.Sequence(lambda n: f"DA-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"DA/{n:06d}/26")
    case_type = "domestic_abuse"
    dash_completed = "yes"
    dash_risk = "medium"
    dash_yes_count = "8"
    marac_referral_made = "no"
    children_present = "no"
    child_referral_made = ""
    bwv_captured = "yes"
    evidence_led_considered = "yes"
    dvpn_considered = "yes"
    dvds_considered = "yes"
    repeat_victim = "no"
    safeguarding_plan_recorded = "yes"
    notes = ""


#: case type -> its factory, for loops over every form
FACTORIES: dict[str, type[AssessmentFactory]] = {
    "stop_search": StopSearchFactory,
    "victim_care": VictimCareFactory,
    "crime_file": CrimeFileFactory,
    "investigation": InvestigationFactory,
    "domestic_abuse": DomesticAbuseFactory,
}

#: case type -> the trait names its factory offers
TRAITS: dict[str, tuple[str, ...]] = {
    "stop_search": (
        "grounds_missing",
        "no_bwv",
        "strip_search_unauthorised",
        "strip_search_authorised_ok",
        "section_60",
        "section_60_unauthorised",
    ),
    "victim_care": (
        "late_update",
        "no_written_confirmation",
        "referral_late",
        "enhanced",
        "referral_declined",
    ),
    "crime_file": (
        "unbalanced_mg5",
        "victim_details_exposed",
        "late_file",
        "guilty_plea",
        "domestic_abuse",
        "rejected",
    ),
    "investigation": ("no_plan", "cctv_missed", "no_supervision"),
    "domestic_abuse": (
        "high_risk_no_marac",
        "high_risk",
        "children_no_referral",
        "children_referred",
        "no_dash",
    ),
}


def build_row(case_type: str, /, **overrides: Any) -> dict[str, str]:
    """One valid row of ``case_type``, e.g. ``build_row("stop_search", no_bwv=True, place="CRN")``:
    the five first case types' factories are here, the newer ones' in their own modules."""
    from engine.demo.factories_prevention import PREVENTION_FACTORIES
    from engine.demo.factories_safeguarding import SAFEGUARDING_FACTORIES

    factories: dict[str, type[AssessmentFactory]] = {
        **FACTORIES,
        **SAFEGUARDING_FACTORIES,
        **PREVENTION_FACTORIES,
    }
    return factories[case_type](**overrides)
