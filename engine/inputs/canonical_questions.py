"""The canonical question ids (docs/submissions.md): for each of the five bundled case types, the questions
its form must keep, with their answer types and allowed values, and the check that a form keeps them.

The case types in use are the forms found in the forms folder (engine.inputs.forms); these five are only
the ones whose questions the contract fixes. A force may add case types, and may leave these out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.core.models import AnswerType
from engine.core.shape import nearest

if TYPE_CHECKING:
    from engine.inputs.forms import Question


@dataclass(frozen=True)
class _Canon:
    """What is fixed for one canonical question: its type(s) and allowed values."""

    types: frozenset[AnswerType]
    values: tuple[str, ...] | None = None  # None: the form chooses (choice codes or free text)
    minimum: int | None = None
    maximum: int | None = None


_J = AnswerType.JUDGEMENT
_YN = _Canon(frozenset({_J}), ("yes", "no"))
_YNNA = _Canon(frozenset({_J}), ("yes", "no", "na"))
_YPN = _Canon(frozenset({_J}), ("yes", "partly", "no"))
_DATE = _Canon(frozenset({AnswerType.DATE}))
_TEXT = _Canon(frozenset({AnswerType.TEXT}))
_CHOICE_OR_TEXT = _Canon(frozenset({AnswerType.CHOICE, AnswerType.TEXT}))


def _choice(*values: str) -> _Canon:
    return _Canon(frozenset({AnswerType.CHOICE}), values)


#: the question ids each form must keep, with their answer types and values.
CANONICAL_QUESTIONS: Mapping[str, Mapping[str, _Canon]] = {
    "stop_search": {
        "power": _choice("pace_s1", "mda_s23", "s60", "s47a", "other"),
        "grounds_recorded": _YN,
        "grounds_reasonable": _YPN,
        "object_recorded": _YN,
        "object_found": _YN,
        "outcome_recorded": _YN,
        "outcome_linked_to_object": _YN,
        "ethnicity_self_defined_recorded": _YN,
        "officer_identity_recorded": _YN,
        "gowisely_given": _YPN,
        "bwv_activated": _YN,
        "receipt_offered": _YN,
        "authorisation_recorded": _YNNA,
        "strip_search": _YN,
        "strip_search_authorised": _YNNA,
        "supervisor_reviewed": _YN,
        "notes": _TEXT,
    },
    "victim_care": {
        "enhanced_rights_eligible": _YN,
        "enhanced_rights_identified": _YN,
        "crime_recorded_on": _DATE,
        "written_confirmation_given": _YN,
        "needs_assessment_done": _YN,
        "support_referral_on": _DATE,
        "support_referral_declined": _YN,
        "suspect_event_on": _DATE,
        "victim_updated_on": _DATE,
        "update_plan_agreed": _YN,
        "vps_offered": _YN,
        "update_quality": _choice("good", "adequate", "poor"),
        "notes": _TEXT,
    },
    "crime_file": {
        "anticipated_plea": _choice("gap", "ngap"),
        "charged_on": _DATE,
        "file_submitted_on": _DATE,
        "mg5_present": _YN,
        "mg5_balanced": _YPN,
        "points_to_prove_set_out": _YN,
        "interview_summary_adequate": _Canon(frozenset({_J}), ("yes", "partly", "no", "na")),
        "key_statements_present": _YN,
        "exhibits_present": _YN,
        "previous_convictions_attached": _YN,
        "unused_schedule_present": _YNNA,
        "unused_items_described": _YNNA,
        "disclosure_officer_report_present": _YNNA,
        "supervisor_certified": _YN,
        "da_checklist_present": _YNNA,
        "victim_details_protected": _YN,
        "cps_rejected": _YN,
        "rejection_reason": _CHOICE_OR_TEXT,
        "notes": _TEXT,
    },
    "investigation": {
        "crime_type": _CHOICE_OR_TEXT,
        "investigation_plan_recorded": _YN,
        "supervisor_review_recorded": _YN,
        "supervisory_direction_quality": _choice("good", "adequate", "poor", "none"),
        "loe_scene_forensic": _YNNA,
        "loe_cctv": _YNNA,
        "loe_house_to_house": _YNNA,
        "loe_witnesses": _YNNA,
        "loe_digital": _YNNA,
        "loe_bwv": _YNNA,
        "suspect_identified": _YN,
        "victim_contact_per_plan": _YN,
        "outcome_appropriate": _YN,
        "victim_view_recorded": _YN,
        "notes": _TEXT,
    },
    "domestic_abuse": {
        "dash_completed": _YN,
        "dash_risk": _choice("standard", "medium", "high"),
        "dash_yes_count": _Canon(frozenset({AnswerType.INTEGER}), None, 0, 27),
        "marac_referral_made": _YN,
        "children_present": _YN,
        "child_referral_made": _YN,
        "bwv_captured": _YN,
        "evidence_led_considered": _YN,
        "dvpn_considered": _YN,
        "dvds_considered": _YN,
        "repeat_victim": _YN,
        "safeguarding_plan_recorded": _YN,
        "notes": _TEXT,
    },
}


#: the bundled case types whose question ids are fixed (a form of another case type chooses its own)
CANONICAL_CASE_TYPES: tuple[str, ...] = tuple(CANONICAL_QUESTIONS)


def canonical_problems(case_type: str, questions: Sequence[Question], line: int) -> list[tuple[int, str]]:
    """(line, message) for each way ``questions`` break Part A for ``case_type``: a canonical question
    missing (reported at ``line``, with the added question it was likely renamed to), or one with the
    wrong answer type, allowed values or range."""
    problems: list[tuple[int, str]] = []
    present = {q.id: q for q in questions}
    extra = [q.id for q in questions if q.id not in CANONICAL_QUESTIONS[case_type]]
    for qid, canon in CANONICAL_QUESTIONS[case_type].items():
        q = present.get(qid)
        if q is None:
            near = nearest(qid, extra, ignore_case=False)
            renamed = f" (renamed to '{near}'? canonical ids may not change)" if near else ""
            problems.append((line, f"canonical question '{qid}' of {case_type} is missing{renamed}"))
            continue
        if q.type not in canon.types:
            want = " or ".join(sorted(t.value for t in canon.types))
            problems.append(
                (q.line, f"'{qid}' must be a {want} question (a fixed question: docs/submissions.md)")
            )
        elif canon.values is not None and set(q.allowed or ()) != set(canon.values):
            problems.append(
                (
                    q.line,
                    f"'{qid}' must allow exactly {', '.join(canon.values)} (a fixed question: docs/submissions.md)",
                )
            )
        elif (canon.minimum, canon.maximum) != (None, None) and (q.minimum, q.maximum) != (
            canon.minimum,
            canon.maximum,
        ):
            problems.append(
                (
                    q.line,
                    f"'{qid}' must range {canon.minimum}-{canon.maximum} (a fixed question: docs/submissions.md)",
                )
            )
    return problems
