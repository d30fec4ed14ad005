"""Ruleset files for the ruleset tests, as YAML text, and the hand-built forms they are checked against
(a few FieldSpecs, so these tests pin the loader and compiler, not the real forms)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import RulesetError
from engine.core.models import AnswerType, FieldSpec
from engine.rules.ruleset_loader import load_rulesets

J = AnswerType.JUDGEMENT
FIELDS: dict[str, dict[str, FieldSpec]] = {
    "stop_search": {
        f.id: f
        for f in (
            FieldSpec("power", AnswerType.CHOICE, ("pace_s1", "mda_s23", "s60", "s47a", "other")),
            FieldSpec("grounds_recorded", J, ("yes", "no")),
            FieldSpec("strip_search", J, ("yes", "no")),
            FieldSpec("strip_search_authorised", J, ("yes", "no", "na")),
            FieldSpec("notes", AnswerType.TEXT),
        )
    },
    "domestic_abuse": {
        f.id: f
        for f in (
            FieldSpec("dash_risk", AnswerType.CHOICE, ("standard", "medium", "high")),
            FieldSpec("dash_yes_count", AnswerType.INTEGER, None, 0, 27),
            FieldSpec("marac_referral_made", J, ("yes", "no")),
        )
    },
}

# Line numbers matter: tests below name them.
SS = """\
ruleset: stop-search
version: 1.0.0
format: 1
title: Stop and search
case_type: stop_search
criteria:
  - id: SS01
    text: Grounds recorded
    standard: PACE s3
    measure: D11
    applies: answered(grounds_recorded)
    pass: grounds_recorded == 'yes'
    minimum: 0.9
  - id: SS02
    text: Strip search authorised
    standard: Code A 3.7
    measure: D11
    applies: strip_search == 'yes'
    pass: strip_search_authorised == 'yes'
    critical: true
    weight: 3
"""

DA = """\
ruleset: da-safeguarding
version: 2.1.0
format: 1
title: DA safeguarding
case_type: domestic_abuse
settings:
  marac_yes_threshold:
    default: 14
    description: SafeLives high risk
criteria:
  - id: DA01
    text: High risk referred to MARAC
    standard: SafeLives
    measure: D7
    applies: dash_risk == 'high' or dash_yes_count >= marac_yes_threshold
    pass: marac_referral_made == 'yes'
    critical: true
"""

EXTRACT = """\
ruleset: response
version: 1.0.0
format: 1
title: Response
extract: incidents
settings:
  g2_minutes:
    default: 60
    description: Grade 2 minutes
  call999_seconds:
    default: 10
    description: 999 seconds
thresholds:
  - id: RS01
    text: Grade 2 within 60 minutes
    standard: force policy
    measure: M2
    metric: g2_attended_within_60
    minimum: 0.85
  - id: RS02
    text: 101 answer time
    standard: none national
    measure: M2
    metric: call101_answer_seconds
"""


def problems_of(root: Path, **kwargs: object) -> list[str]:
    with pytest.raises(RulesetError) as info:
        load_rulesets(root, FIELDS, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)
