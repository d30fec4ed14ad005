"""Scoring a case: pass / fail / N/A per criterion, the weighted score, critical failures, why-traces.

Rulesets are built here from compiled conditions (no ruleset or form files); every result is checked
through durable-rules and through the plain-Python evaluator.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from engine.core.errors import Location
from engine.core.models import AnswerType, FieldSpec, Outcome
from engine.rules.expressions import Condition, compile_condition
from engine.rules.scoring import CaseScore, score_cases, score_cases_python

J = AnswerType.JUDGEMENT
FORM = {
    s.id: s
    for s in (
        FieldSpec("power", AnswerType.CHOICE, ("pace_s1", "mda_s23", "s60", "s47a", "other")),
        FieldSpec("grounds_recorded", J, ("yes", "no")),
        FieldSpec("authorisation_recorded", J),
        FieldSpec("strip_search", J, ("yes", "no")),
        FieldSpec("strip_search_authorised", J),
        FieldSpec("bwv_activated", J),
    )
}


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    applies: Condition | None
    passes: Condition
    weight: float
    critical: bool


@dataclass(frozen=True)
class Ruleset:
    id: str
    version: str
    sha256: str
    case_type: str
    criteria: tuple[Criterion, ...]


def criterion(
    cid: str, applies: str | None, passes: str, weight: float = 1.0, critical: bool = False
) -> Criterion:
    where = Location("rulesets/priority4/stop_search.yaml", 10)
    return Criterion(
        cid,
        f"text of {cid}",
        compile_condition(applies, FORM, {}, location=where) if applies else None,
        compile_condition(passes, FORM, {}, location=where),
        weight,
        critical,
    )


STOP_SEARCH = Ruleset(
    "stop-search-legitimacy",
    "1.2.0",
    "ab" * 32,
    "stop_search",
    (
        criterion("SS01", None, "grounds_recorded == 'yes'", weight=2),
        criterion("SS02", "power in ('s60', 's47a')", "authorisation_recorded == 'yes'"),
        criterion(
            "SS03", "strip_search == 'yes'", "strip_search_authorised == 'yes'", weight=3, critical=True
        ),
        criterion("SS04", None, "bwv_activated == 'yes'"),
    ),
)

GOOD = {
    "assessment_id": "A1",
    "case_type": "stop_search",
    "power": "pace_s1",
    "grounds_recorded": "yes",
    "strip_search": "no",
    "bwv_activated": "yes",
}
BAD = {
    "assessment_id": "A2",
    "case_type": "stop_search",
    "power": "s60",
    "grounds_recorded": "no",
    "authorisation_recorded": "yes",
    "strip_search": "yes",
    "strip_search_authorised": "no",
    "bwv_activated": "yes",
}

P, F, NA = Outcome.PASSED, Outcome.FAILED, Outcome.NOT_APPLICABLE


@pytest.fixture(params=["durable", "python"])
def score(request: pytest.FixtureRequest) -> Any:
    """Both evaluators must give the same results."""
    return score_cases if request.param == "durable" else score_cases_python


def test_outcomes_score_critical_failures_and_traces(score: Any) -> None:
    good, bad = score(STOP_SEARCH, [GOOD, BAD], key="assessment_id")
    assert good.key == "A1"
    assert dict(good.outcomes) == {"SS01": P, "SS02": NA, "SS03": NA, "SS04": P}
    assert good.score == 1.0
    assert good.critical_failures == ()
    assert dict(good.traces) == {}

    assert (bad.ruleset_id, bad.ruleset_version, bad.ruleset_sha256) == (
        "stop-search-legitimacy",
        "1.2.0",
        "ab" * 32,
    )
    assert dict(bad.outcomes) == {"SS01": F, "SS02": P, "SS03": F, "SS04": P}
    # weights passed (SS02 1 + SS04 1) over weights applicable (2 + 1 + 3 + 1)
    assert bad.score == pytest.approx(2 / 7)
    assert bad.critical_failures == ("SS03",)
    # first the why, one line; then why the criterion applied, one "applies: " line per fact
    assert dict(bad.traces) == {
        "SS01": ("grounds were not recorded (answer: no)",),
        "SS03": ("strip search was not authorised (answer: no)", "applies: strip search was yes"),
    }


def test_not_applicable_criteria_leave_the_denominator(score: Any) -> None:
    # the same failure of SS01 weighs more when fewer criteria apply
    fewer = {**GOOD, "grounds_recorded": "no"}
    more = {**fewer, "power": "s47a", "authorisation_recorded": "yes"}
    a, b = score(STOP_SEARCH, [fewer, more])
    assert a.outcomes["SS02"] is NA and b.outcomes["SS02"] is P
    assert a.score == pytest.approx(1 / 3)
    assert b.score == pytest.approx(2 / 4)


def test_a_blank_answer_fails_and_is_explained(score: Any) -> None:
    (s,) = score(STOP_SEARCH, [{**GOOD, "bwv_activated": None}])
    assert s.outcomes["SS04"] is F
    assert s.traces["SS04"] == ("BWV activated was blank",)


def test_the_why_is_one_line_and_a_negated_applies_is_worded_as_holding(score: Any) -> None:
    both = Ruleset(
        "r",
        "1",
        "0" * 64,
        "stop_search",
        (
            criterion(
                "C1",
                "not power in ('s60', 's47a') and not strip_search == 'yes'",
                "grounds_recorded == 'yes' and bwv_activated == 'yes'",
            ),
        ),
    )
    (s,) = score(both, [{**GOOD, "grounds_recorded": "no", "bwv_activated": "no"}])
    assert s.traces["C1"] == (
        "grounds were not recorded (answer: no); BWV was not activated (answer: no)",
        "applies: power was pace_s1, not s60 or s47a",
        "applies: strip search was no, not yes",
    )


def test_critical_failure_is_recorded_apart_from_a_high_score(score: Any) -> None:
    light = Ruleset(
        "r",
        "1",
        "0" * 64,
        "stop_search",
        (
            criterion("C1", None, "grounds_recorded == 'yes'", weight=9),
            criterion("C2", None, "bwv_activated == 'yes'", weight=1, critical=True),
        ),
    )
    (s,) = score(light, [{**GOOD, "bwv_activated": "no"}])
    assert s.score == pytest.approx(0.9)
    assert s.critical_failures == ("C2",)


def test_score_is_none_when_no_criterion_applies(score: Any) -> None:
    only_conditional = Ruleset("r", "1", "0" * 64, "stop_search", STOP_SEARCH.criteria[1:3])
    (s,) = score(only_conditional, [GOOD])
    assert dict(s.outcomes) == {"SS02": NA, "SS03": NA}
    assert s.score is None


def test_traces_exist_only_for_failed_criteria() -> None:
    (s,) = score_cases(STOP_SEARCH, [BAD])
    assert list(s.traces) == ["SS01", "SS03"]
    assert len(s.traces) == 2
    with pytest.raises(KeyError):
        s.traces["SS02"]


def test_outcomes_read_like_a_dict_in_ruleset_order() -> None:
    (s,) = score_cases(STOP_SEARCH, [BAD])
    assert list(s.outcomes) == ["SS01", "SS02", "SS03", "SS04"]
    assert s.outcomes == {"SS01": F, "SS02": P, "SS03": F, "SS04": P}
    assert repr(s.outcomes) == "{'SS01': 'fail', 'SS02': 'pass', 'SS03': 'fail', 'SS04': 'pass'}"
    with pytest.raises(KeyError):
        s.outcomes["SS99"]


def test_results_are_frozen() -> None:
    (s,) = score_cases(STOP_SEARCH, [GOOD])
    assert isinstance(s, CaseScore)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.score = 0.0  # type: ignore[misc]


def random_stop_search_cases(
    seed: int, n: int, answers: Sequence[str | None], *, notes: bool = False
) -> list[dict[str, Any]]:
    """``n`` stop-search cases keyed 0..n-1, their answers drawn by a generator seeded with ``seed``
    (the same seed, the same cases); with ``notes``, each case also has a note of its own."""
    rng = random.Random(seed)
    return [
        {
            "key": i,
            "power": rng.choice(["pace_s1", "s60", "s47a", None]),
            "grounds_recorded": rng.choice(["yes", "no", None]),
            "authorisation_recorded": rng.choice(answers),
            "strip_search": rng.choice(["yes", "no", None]),
            "strip_search_authorised": rng.choice(answers),
            "bwv_activated": rng.choice(answers),
            **({"notes": f"case {i}"} if notes else {}),
        }
        for i in range(n)
    ]


def test_many_cases_keep_their_order_and_agree_with_python() -> None:
    cases = random_stop_search_cases(4, 650, ["yes", "yes", "no", "partly", "na", None])
    durable = score_cases(STOP_SEARCH, cases)
    python = score_cases_python(STOP_SEARCH, cases)
    assert [s.key for s in durable] == list(range(650))
    assert durable == python
    assert {o for s in durable for o in s.outcomes.values()} == {P, F, NA}


def test_cases_of_another_case_type_are_refused() -> None:
    with pytest.raises(
        ValueError, match="1 case\\(s\\) are not stop_search cases for ruleset stop-search-legitimacy"
    ):
        score_cases(STOP_SEARCH, [GOOD, {**BAD, "case_type": "victim_care"}], key="assessment_id")


def test_duplicate_criterion_ids_are_refused() -> None:
    twice = Ruleset("r", "1", "0" * 64, "stop_search", (STOP_SEARCH.criteria[0], STOP_SEARCH.criteria[0]))
    with pytest.raises(ValueError, match="duplicate criterion ids SS01"):
        score_cases(twice, [GOOD])
