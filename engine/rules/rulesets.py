"""Rulesets: the checked, hashed results (Ruleset, Criterion, Threshold), their canonical content and hash,
and the file format. :mod:`engine.rules.ruleset_yaml` parses a file (phase 1), :mod:`engine.rules.ruleset_compiler`
checks and compiles it (phase 2), :mod:`engine.rules.ruleset_loader` loads folders, files and stored content.

Ruleset file format 1
=====================
One YAML file per ruleset, in ``rulesets/priority<N>/`` (N = 1..4): the folder gives the Police and
Crime Plan priority. A file outside such a folder (``qam rulesets validate draft.yaml``) must say
``priority: N``; inside one, a ``priority:`` key that disagrees with the folder is an error.

Top-level keys::

    ruleset: stop-search-legitimacy   # id, kebab-case, unique across all files
    version: 1.0.0                    # semantic x.y.z; raise it for every published change
    format: 1
    title: Stop and search legitimacy
    description: ...                  # optional, for people
    case_type: stop_search            # assessment ruleset: a QA form's id (qa_forms/<id>.yaml), or
    extract: incidents                # quantitative ruleset: an extract definition's id (extracts/<id>.yaml)
    settings:                         # optional named constants (values a force may change: docs/rulesets.md)
      marac_yes_threshold:
        default: 14                   # a whole number or text, never a float
        description: SafeLives: 14+ "yes" answers on DASH is visible high risk
    criteria: [...]                   # assessment rulesets only
    thresholds: [...]                 # extract rulesets only

A criterion (assessment rulesets)::

    - id: DA02                        # stable across versions: findings and diffs follow it
      text: High-risk victim referred to MARAC      # what a place leader reads
      standard: SafeLives MARAC referral criteria    # the citation
      measure: D7                     # M1-M12 / D1-D12 from the catalogue
      peel: effectiveness             # optional, default the measure's pillar
      iserve: [safeguarding]          # optional, default the measure's strands
      applies: dash_risk == 'high' or dash_yes_count >= marac_yes_threshold   # optional; false = N/A
      pass: marac_referral_made == 'yes'
      weight: 1                       # > 0, default 1
      critical: true                  # default false: one failure is itself an exception
      minimum: 0.95                   # minimum standard, a proportion 0..1; absent = none
      direction: higher               # default higher (a higher pass rate is better)
      guidance: The officer refers to MARAC the same day; the DA sergeant checks it   # optional

``guidance`` is one line of at most 200 characters for the place leader who reads the exception:
who should act and how. A folded YAML scalar (``>-``) may spread it over lines in the file.

Conditions are the expression language of :mod:`engine.rules.expressions`; every question id they use
must exist in the case type's QA form with a compatible type, and setting names stand for their
(effective) values. A setting may not share a name with a question. A criterion whose ``pass``
holds (or fails) for every answer the form allows wherever it applies is an error too: it could
never find anything (decided by enumeration when every question it reads is closed).
When a condition reads a question answered "na" or left blank, every comparison with it is false
(``answered(q)`` is the usual ``applies`` of a judgement, so "na" makes the criterion N/A).

A threshold (extract rulesets) has ``id, text, standard, measure, peel, iserve, weight, guidance`` as above,
plus ``metric``, any metric the ruleset's extract definition (``extracts/<extract>.yaml``, see
:mod:`engine.inputs.extract_definitions`) declares, whose item must be the threshold's ``measure``;
an optional standard, ``minimum`` or ``maximum`` (not both), in the metric's own terms::

    - id: HR01
      text: Attendance rate
      standard: Force attendance management policy
      measure: M1
      metric: attendance_rate        # a proportion of extracts/hr.yaml
      minimum: 0.95                  # proportion, survey: a share 0-1
    - id: CO02
      text: Days from report to outcome
      standard: Force investigation standards
      measure: M4
      metric: days_to_outcome        # a time, in its unit (days)
      maximum: 30                    # on the mean; `statistic: median` puts it on the median
    - id: HI01
      text: Homicides
      standard: Home Office Counting Rules
      measure: D6
      metric: homicide               # an event: no minimum or maximum, each one is an exception line

A count's standard is a rate per the metric's ``per`` of exposure (e.g. complaints per 1,000
population). The standard is on the side the metric improves towards: a ``minimum`` when it improves
when higher, a ``maximum`` when lower; without one, a metric is watched by SPC alone. ``direction``
(optional) must be the metric's own; ``statistic`` (mean or median) is for a time metric only;
``source`` (optional text) says where the figures come from. A metric of a ``source: incidents``
extract reads the settings METRIC_SETTINGS names, which the ruleset must define.

Measure priority: a criterion's or threshold's measure must belong to the ruleset's priority.
This is an error, not a warning, because an exception carries both and they must agree.

Setting overrides: a force may override setting values per ruleset id (its force file); an
override must name a setting of that ruleset and have the default's type. Loading the whole tree
also refuses overrides for a ruleset id that does not exist.

Every problem of every file is collected and raised once as a RulesetError, ``file:line: message``.

Content hash: ``sha256`` is taken over :func:`canonical_content` of the parsed file with its
``priority`` filled in from the folder: whitespace, comments and key order do not change it;
any change of meaning (including moving the file to another priority folder) does. Force-level
setting overrides do not change the hash (the force file has its own).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.models import RulesetRef
from engine.rules.expressions import Condition
from engine.rules.ruleset_yaml import Setting

__all__ = ["Criterion", "Ruleset", "Threshold", "canonical_content", "content_sha256"]


# --------------------------------------------------------------------------- compiled results


@dataclass(frozen=True)
class Criterion:
    """One checked criterion of an assessment ruleset."""

    id: str
    text: str
    standard: str
    measure: str
    peel: str
    iserve: tuple[str, ...]
    applies: Condition | None
    passes: Condition
    weight: float
    critical: bool
    minimum: float | None
    direction: str
    line: int
    #: one line for the place leader: who should act and how ("" when the file gives none)
    guidance: str = ""

    @property
    def fields(self) -> frozenset[str]:
        """Every question id the criterion reads."""
        return self.passes.fields | (self.applies.fields if self.applies else frozenset())


@dataclass(frozen=True)
class Threshold:
    """One quantitative standard of an extract ruleset on a metric its extract definition declares
    (the figures are loaded or computed elsewhere). ``minimum`` and ``maximum`` (at most one; none:
    watched by SPC alone, and always none for an event) are in the metric's own terms: a share 0-1
    for a proportion or survey, the mean (or ``statistic`` median) in the metric's unit for a time,
    a rate per the metric's ``per`` for a count."""

    id: str
    text: str
    standard: str
    measure: str
    peel: str
    iserve: tuple[str, ...]
    metric: str
    minimum: float | None
    direction: str
    weight: float
    line: int
    #: one line for the place leader: who should act and how ("" when the file gives none)
    guidance: str = ""
    maximum: float | None = None
    #: a time metric's: "mean" (default) or "median"; "" for the other kinds
    statistic: str = ""
    #: the metric's kind (proportion, survey, time, count or event)
    kind: str = ""
    #: where the figures come from, as the file says (optional text, "" when it says nothing)
    source: str = ""


@dataclass(frozen=True)
class Ruleset:
    """A validated ruleset, with its content hash and the settings in force."""

    id: str
    version: str
    format: int
    title: str
    priority: int
    case_type: str | None
    extract: str | None
    path: Path | None
    sha256: str
    canonical: str  # the canonical JSON the hash is taken over (what the registry stores)
    settings: Mapping[str, int | str]
    setting_specs: tuple[Setting, ...]
    criteria: tuple[Criterion, ...]
    thresholds: tuple[Threshold, ...]
    description: str = ""

    @property
    def ref(self) -> RulesetRef:
        """This version as runs record it."""
        return RulesetRef(self.id, self.version, self.sha256)

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)


# --------------------------------------------------------------------------- canonical content and hash


def canonical_content(data: Any) -> str:
    """Parsed ruleset content as canonical JSON: sorted keys, no whitespace, 1.0 written as 1.

    Example: ``canonical_content({"b": 1.0, "a": [True]}) == '{"a":[true],"b":1}'``
    """
    return json.dumps(_normalise(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_sha256(canonical: str) -> str:
    """The sha256 hex digest of canonical content."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _normalise(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value
