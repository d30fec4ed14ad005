"""factory-boy factories for the safeguarding and problem-solving case types: one valid submission row
(common columns + answers, all text as in a CSV) per type, a case that meets every criterion, with
traits for the failures scenarios need, e.g. ``MissingFromHomeFactory(high_risk_child_unreviewed=True)``
or ``ChildSexualExploitationFactory(no_referral=True, place="DLW")``. A failure of one answer alone is
an override (``HateCrimeFactory(victim_needs_assessed="no")``): each trait costs factory-boy time on
every row the demo builds, so only failures that change several answers or dates are traits.
"""

from __future__ import annotations

from typing import Any

import factory

from engine.demo.factories import AssessmentFactory, days_after


class MissingFromHomeFactory(AssessmentFactory):
    """A medium-risk missing child, reviewed in 2 hours, found the next day, seen on return and
    offered a return home interview two days later; not a repeat episode."""

    class Params:
        adult = factory.Trait(
            person_is_child="no",
            children_services_informed="",
            exploitation_risk_considered="",
            rhi_offered_on="",
        )
        high_risk = factory.Trait(
            risk_level="high", supervisor_review_hours="1", senior_oversight_recorded="yes"
        )
        #: critical: a high-risk missing child whose risk assessment no supervisor reviewed
        high_risk_child_unreviewed = factory.Trait(
            risk_level="high",
            supervisor_review_recorded="no",
            supervisor_review_hours="",
            senior_oversight_recorded="no",
        )
        review_late = factory.Trait(supervisor_review_hours="9")
        no_risk_assessment = factory.Trait(
            risk_assessment_recorded="no",
            risk_level="",
            risk_level_appropriate="",
            senior_oversight_recorded="",
        )
        rhi_late = factory.Trait(rhi_offered_on=factory.LazyAttribute(lambda o: days_after(o.returned_on, 6)))
        still_missing = factory.Trait(returned_on="", prevention_interview_done="", rhi_offered_on="")
        repeat = factory.Trait(repeat_missing="yes", repeat_plan_recorded="yes")
        repeat_no_plan = factory.Trait(repeat_missing="yes", repeat_plan_recorded="no")

    assessment_id = factory.Sequence(lambda n: f"MF-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"MF/{n:06d}/26")
    case_type = "missing_from_home"
    person_is_child = "yes"
    risk_assessment_recorded = "yes"
    risk_level = "medium"
    risk_level_appropriate = "yes"
    previous_episodes_checked = "yes"
    supervisor_review_recorded = "yes"
    supervisor_review_hours = "2"
    senior_oversight_recorded = ""
    children_services_informed = "yes"
    exploitation_risk_considered = "yes"
    returned_on = factory.LazyAttribute(lambda o: days_after(o.case_date, 1))
    prevention_interview_done = "yes"
    rhi_offered_on = factory.LazyAttribute(lambda o: days_after(o.returned_on, 2))
    repeat_missing = "no"
    repeat_plan_recorded = ""
    notes = ""
    note_kind = ""


class ChildSexualExploitationFactory(AssessmentFactory):
    """A CSE concern recorded with its indicators, screened, referred the same day, with a safety
    plan and disruption considered; no significant harm suspected, never missing."""

    class Params:
        #: critical: a child at risk of sexual exploitation not referred to children's social care
        no_referral = factory.Trait(referral_made="no", referral_on="")
        referral_late = factory.Trait(
            referral_on=factory.LazyAttribute(lambda o: days_after(o.concern_identified_on, 6))
        )
        significant_harm = factory.Trait(significant_harm_suspected="yes", strategy_discussion_held="yes")
        no_strategy_discussion = factory.Trait(
            significant_harm_suspected="yes", strategy_discussion_held="no"
        )
        missing_child = factory.Trait(missing_history="yes", missing_episodes_linked="yes")

    assessment_id = factory.Sequence(lambda n: f"CE-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"CE/{n:06d}/26")
    case_type = "child_sexual_exploitation"
    concern_identified_on = factory.SelfAttribute("case_date")
    indicators_recorded = "yes"
    risk_assessment_completed = "yes"
    referral_made = "yes"
    referral_on = factory.SelfAttribute("concern_identified_on")
    significant_harm_suspected = "no"
    strategy_discussion_held = ""
    safety_plan_recorded = "yes"
    missing_history = "no"
    missing_episodes_linked = ""
    disruption_considered = "yes"
    victim_language_appropriate = "yes"
    notes = ""
    note_kind = ""


class HateCrimeFactory(AssessmentFactory):
    """A racially aggravated public order crime, flagged, evidenced, the victim assessed, referred
    and updated three days after recording, checked by a supervisor."""

    class Params:
        incident = factory.Trait(
            report_type="non_crime_incident",
            nchi_threshold_met="yes",
            hostility_evidence_gathered="",
            first_update_on="",
        )
        not_flagged = factory.Trait(flagged_as_hate="no")
        nchi_unjustified = factory.Trait(
            report_type="non_crime_incident",
            nchi_threshold_met="no",
            hostility_evidence_gathered="",
            first_update_on="",
        )
        update_late = factory.Trait(
            first_update_on=factory.LazyAttribute(lambda o: days_after(o.recorded_on, 14))
        )
        strand = factory.Trait(hostility_strand="religion")

    assessment_id = factory.Sequence(lambda n: f"HC-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"HC/{n:06d}/26")
    case_type = "hate_crime"
    report_type = "crime"
    hostility_strand = "race"
    recorded_on = factory.SelfAttribute("case_date")
    perceived_as_hate = "yes"
    flagged_as_hate = "yes"
    strand_recorded = "yes"
    nchi_threshold_met = ""
    hostility_evidence_gathered = "yes"
    victim_needs_assessed = "yes"
    support_referral_offered = "yes"
    repeat_victimisation_checked = "yes"
    first_update_on = factory.LazyAttribute(lambda o: days_after(o.recorded_on, 3))
    supervisor_reviewed = "yes"
    community_impact_considered = "yes"
    notes = ""
    note_kind = ""


class ProblemSolvingFactory(AssessmentFactory):
    """An open plan on antisocial behaviour, defined, analysed, with objectives, partners and the
    community, responses aimed at causes, supervised; no vulnerable victim."""

    class Params:
        closed = factory.Trait(plan_status="closed", assessment_recorded="yes", learning_shared="yes")
        closed_unassessed = factory.Trait(
            plan_status="closed", assessment_recorded="no", learning_shared="no"
        )
        no_analysis = factory.Trait(analysis_recorded="no", response_tailored="no")
        vulnerable_safeguarded = factory.Trait(vulnerable_victim="yes", safeguarding_addressed="yes")
        #: critical: a vulnerable victim the plan named, left unprotected
        vulnerable_unprotected = factory.Trait(vulnerable_victim="yes", safeguarding_addressed="no")

    assessment_id = factory.Sequence(lambda n: f"PS-{n:06d}")
    case_ref = factory.Sequence(lambda n: f"PS/{n:06d}/26")
    case_type = "problem_solving"
    team = "Neighbourhood"
    problem_type = "asb"
    plan_status = "open"
    problem_defined = "yes"
    community_involved = "yes"
    objectives_set = "yes"
    analysis_recorded = "yes"
    response_tailored = "yes"
    partners_involved = "yes"
    supervisor_reviewed = "yes"
    vulnerable_victim = "no"
    safeguarding_addressed = ""
    assessment_recorded = ""
    learning_shared = ""
    notes = ""
    note_kind = ""


#: case type -> its factory
SAFEGUARDING_FACTORIES: dict[str, type[AssessmentFactory]] = {
    "missing_from_home": MissingFromHomeFactory,
    "child_sexual_exploitation": ChildSexualExploitationFactory,
    "hate_crime": HateCrimeFactory,
    "problem_solving": ProblemSolvingFactory,
}


def traits_of(factory_class: type[AssessmentFactory]) -> tuple[str, ...]:
    """The trait names a factory offers (its Params that are traits), in declaration order."""
    params: dict[str, Any] = factory_class._meta.parameters
    return tuple(name for name, value in params.items() if isinstance(value, factory.Trait))


#: case type -> the trait names its factory offers
SAFEGUARDING_TRAITS: dict[str, tuple[str, ...]] = {t: traits_of(f) for t, f in SAFEGUARDING_FACTORIES.items()}
