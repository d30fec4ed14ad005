"""What the finders build exceptions from: a rate against its standard (RateCheck, or a SmallSample
when too few cases to be sure), the catalogue's tags, and the failing cases' details.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from engine.analysis.frames import blank
from engine.analysis.outcomes import Outcomes
from engine.analysis.reasons import count_text, pct_text, reason
from engine.analysis.stats import cases_needed, interval_breaches
from engine.analysis.tables import records
from engine.core.models import CaseDetail, ExceptionKind, PerformanceException


@dataclass(frozen=True)
class RateCheck:
    """A place's rate on one criterion or metric in the period, against its standard."""

    place: str
    ruleset: str
    criterion: str
    measure: str
    n: int
    passed: int
    rate: float
    ci_low: float
    ci_high: float
    standard: float
    direction: str

    def verdict(self, min_cases: int) -> str | None:
        """'breach' (the whole interval misses the standard), 'short' (only the rate does) or None."""
        if self.n >= min_cases and interval_breaches(
            self.ci_low, self.ci_high, self.standard, self.direction
        ):
            return "breach"
        short = self.rate < self.standard if self.direction == "higher" else self.rate > self.standard
        return "short" if short else None

    def facts(self, what: str, noun: str) -> dict[str, Any]:
        """The wording inputs of its reason."""
        return {
            "what": what,
            "passed": count_text(self.passed),
            "n": count_text(self.n),
            "noun": noun,
            "rate": pct_text(self.rate),
            "standard": pct_text(self.standard),
            "ci_low": pct_text(self.ci_low),
            "ci_high": pct_text(self.ci_high),
        }

    def small_sample(self, what: str, noun: str, template: str) -> SmallSample:
        """The record of a shortfall too small to be sure of, with the cases it would need."""
        needed = cases_needed(self.rate, self.standard, self.direction)
        facts = self.facts(what, noun)
        facts["needed"] = (
            f"about {count_text(needed)} {noun} at this rate would confirm it"
            if needed
            else "more are needed"
        )
        mine = {f.name: getattr(self, f.name) for f in fields(RateCheck)}
        return SmallSample(**mine, cases_needed=needed, note=reason(template, **facts))

    def exception(
        self, kind: ExceptionKind, why: str, *, meta: Mapping[str, Any] | None = None, **more: Any
    ) -> PerformanceException:
        """The exception this check raises, with the given kind, reason and briefing fields; ``meta``,
        the criterion's or threshold's metadata row, gives its guidance."""
        return PerformanceException(
            guidance=guidance_of(meta),
            place=self.place,
            ruleset=self.ruleset,
            criterion=self.criterion,
            kind=kind,
            reason=why,
            n=self.n,
            passed=self.passed,
            rate=self.rate,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            standard=self.standard,
            **more,
        )


@dataclass(frozen=True)
class SmallSample(RateCheck):
    """A shortfall too small to be sure of: no exception, but recorded with the cases it would need."""

    cases_needed: int | None
    note: str


def guidance_of(meta: Mapping[str, Any] | None) -> str:
    """A criterion's or threshold's guidance from its metadata row: who should act and how ("" if none)."""
    value = (meta or {}).get("guidance")
    return "" if blank(value) else str(value)


def case_details(rows: Iterable[Mapping[str, Any]]) -> tuple[CaseDetail, ...]:
    """The failing rows (outcomes.failures) as the case details a briefing lists."""
    # positional, in CaseDetail's field order: thousands of failing cases in a long period
    return tuple(
        CaseDetail(
            r["case_ref"],
            r["team"],
            r["officer"],
            r["reviewer"],
            r["assessed_on"],
            r["criterion_text"],
            r["trace"],
            r["note"],
            r["criterion"],
            r["critical"],
        )  # fmt: skip
        for r in rows
    )


def group_rows(
    rows: Iterable[Mapping[str, Any]], *keys: str
) -> dict[tuple[str, ...], list[Mapping[str, Any]]]:
    """Rows grouped by the values of ``keys``, in first-seen order."""
    key_of = operator.itemgetter(*keys)
    out: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        out.setdefault(key_of(r), []).append(r)
    return out


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Distinct values, sorted."""
    return tuple(sorted(set(values)))


@dataclass(frozen=True)
class Catalogue:
    """The criteria ({(ruleset, criterion): row}) and measures ({id: row}) an exception is tagged from."""

    criteria: dict[tuple[str, str], dict[str, Any]]
    measures: dict[str, dict[str, Any]]

    def tags(self, measure: str, own: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """priority, measure, peel and iserve of an exception: a criterion's own tags win."""
        m, own = self.measures[measure], own or {}
        return {
            "priority": int(m["priority"] if own.get("priority") is None else own["priority"]),
            "measure": measure,
            "peel": str(own.get("peel") or m["peel"]),
            "iserve": tuple(own.get("iserve") or m["iserve"]),
        }

    def measure_standard(self, measure: str) -> float | None:
        """The measure's own minimum, else the one minimum all its criteria share, else None."""
        own = self.measures[measure].get("minimum")
        if own is not None and not (isinstance(own, float) and math.isnan(own)):
            return float(own)
        mins = {c["minimum"] for c in self.criteria.values() if c["measure"] == measure}
        return mins.pop() if len(mins) == 1 and None not in mins else None


def catalogue_of(outcomes: Outcomes) -> Catalogue:
    """The catalogue the outcomes were framed with."""
    crit = {(r["ruleset"], r["criterion"]): r for r in records(outcomes.criteria)}
    meas = {r["id"]: r for r in records(outcomes.measures)}
    return Catalogue(crit, meas)
