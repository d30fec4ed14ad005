"""The wording of performance exceptions: every reason sentence (REASONS, worded by :func:`reason`)
and the numbers, nouns and directions that fill them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.analysis.frames import blank
from engine.core.text import percent
from engine.inputs.forms import BUNDLED_WORDS, default_words

#: what a case of each bundled type is called in a reason ("30 of 212 searches"), where the form's
#: own noun is not at hand (engine.inputs.forms: a form may declare its ``noun``)
CASE_NOUNS: dict[str, str] = {case_type: noun for case_type, (_, noun) in BUNDLED_WORDS.items()}


def case_noun(meta: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    """What one case is called in a criterion's reason: the noun its form declares (the criteria
    metadata's ``noun``, as runs give it), else the words of the failing rows' case type, else
    "cases" ("met in 9 of 30 missing episodes reviewed")."""
    declared = meta.get("noun")
    if not blank(declared) and declared:
        return str(declared)
    return default_words(str(rows[0]["case_type"]))[1] if rows else "cases"


def pct_text(x: float) -> str:
    """0.875 -> '88%' (half up); 0.9996 -> '99.96%', never '100%' (core.text.percent)."""
    return percent(x)


def count_text(x: int) -> str:
    """1234 -> '1,234'."""
    return f"{x:,}"


def seconds_text(x: float) -> str:
    """42.4 -> '42 seconds'."""
    return f"{x:.0f} seconds"


SIDE_WORDS = {
    # improvement direction -> words for the concerning side
    "higher": {"worse": "lower", "side": "below", "moved": "fallen", "edge": "bottom"},
    "lower": {"worse": "higher", "side": "above", "moved": "risen", "edge": "top"},
}

#: every exception reason, keyed by kind (special causes by the rule that fired)
REASONS: dict[str, str] = {
    "critical": "{what}: not met in {cases_text}; this is a critical standard, so every failure is reported.",
    "below_standard": (
        "{what}: met in {passed} of {n} {noun} reviewed ({rate}); the minimum standard is {standard}; "
        "even allowing for sampling the true rate is at most {ci_high}."
    ),
    "below_standard_max": (
        "{what}: met in {passed} of {n} {noun} reviewed ({rate}); the maximum allowed is {standard}; "
        "even allowing for sampling the true rate is at least {ci_low}."
    ),
    "threshold": (
        "{what} in {passed} of {n} {noun} ({rate}); the standard is {standard}; "
        "even allowing for normal variation the true rate is at most {ci_high}."
    ),
    "outside_limits": (
        "{what} was {value} in week {week}, {worse} than this place's usual range of {usual_low} to {usual_high}."
    ),
    "shift": (
        "{what} has been {side} this place's usual average of {mean} for {run} weeks running, "
        "most recently {value} in week {week}."
    ),
    "trend": "{what} has {moved} {steps} weeks in a row, to {value} in week {week}.",
    "two_of_three": (
        "{what} was near the {edge} of this place's usual range in 2 of the last 3 weeks, "
        "most recently {value} in week {week}."
    ),
    "small_sample": (
        "{what}: met in {passed} of {n} {noun} reviewed ({rate}), short of the {standard} standard, but too few "
        "cases to be sure; {needed}."
    ),
    "small_sample_extract": (
        "{what} in {passed} of {n} {noun} ({rate}), short of the {standard} standard, but too few to be sure; "
        "{needed}."
    ),
}


def reason(template: str, **facts: Any) -> str:
    """The one plain-English sentence for an exception (or small-sample note), from REASONS."""
    return REASONS[template].format(**facts)


def lower_first(text: str) -> str:
    """'Investigation quality' -> 'investigation quality' (not 'DASH ...' or '999 ...')."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
