"""Drawing the week's sample: stratified random samples of the week's cases per place and case type,
sized by engine.sampling.sample_size, recorded with their design; and the frame sizes aggregation needs.

The frame of week W is the cases whose case_date falls in W (Monday to Sunday), less those already
reviewed (a current assessment that counts toward performance) or drawn before. Each case belongs
to exactly one week, so "60 of 212 searches reviewed" means what it says.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import EngineError, UsageError
from engine.core.periods import Period, parse_week
from engine.inputs.cases import Case, case_fields
from engine.sampling.sample_size import (
    DEFAULT_CAP,
    DEFAULT_CONFIDENCE,
    DEFAULT_MARGIN,
    DEFAULT_MINIMUM,
    FORMULA,
    SampleSize,
    allocate,
    sample_size,
)
from engine.sampling.worklists import UNASSIGNED, WorkItem, check_reviewers, read_reviewers, work_item
from engine.store import sampling as store
from engine.store.db import Database, Sample, SampleItem, Transaction

#: days after the week's end by which a drawn case should be reviewed
DEFAULT_DUE_DAYS = 7
_MAX_SEED = 2**31 - 1  # samples.seed is a 32-bit integer column


@dataclass(frozen=True)
class SampleParameters:
    """How a sample is drawn; recorded with it so it can be re-drawn and defended."""

    seed: int
    margin: float = DEFAULT_MARGIN
    confidence: float = DEFAULT_CONFIDENCE
    expected_rate: float | None = None
    minimum: int = DEFAULT_MINIMUM
    cap: int = DEFAULT_CAP
    due_days: int = DEFAULT_DUE_DAYS
    #: strata columns to use; None = every strata column of the extract
    strata: tuple[str, ...] | None = None
    reviewers: tuple[str, ...] = (UNASSIGNED,)

    def __post_init__(self) -> None:
        checks = [
            (0 <= self.seed <= _MAX_SEED, f"the seed must be a whole number from 0 to {_MAX_SEED}"),
            (
                0 < self.margin < 1,
                f"the margin must be between 0 and 1 (e.g. 0.1 for ±10%), not {self.margin}",
            ),
            (
                0 < self.confidence < 1,
                f"the confidence must be between 0 and 1 (e.g. 0.95), not {self.confidence}",
            ),
            (
                self.expected_rate is None or 0 < self.expected_rate < 1,
                f"the expected rate must be between 0 and 1, not {self.expected_rate}",
            ),
            (self.cap >= 1, f"the cap must be at least 1, not {self.cap}"),
            (
                0 <= self.minimum <= self.cap,
                f"the minimum ({self.minimum}) must be from 0 to the cap ({self.cap})",
            ),
            (self.due_days >= 0, f"the due days must not be negative, not {self.due_days}"),
            (bool(self.reviewers), "at least one reviewer is needed"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "margin": self.margin,
            "confidence": self.confidence,
            "expected_rate": self.expected_rate,
            "minimum": self.minimum,
            "cap": self.cap,
            "due_days": self.due_days,
            "strata": None if self.strata is None else list(self.strata),
            "reviewers": list(self.reviewers),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SampleParameters:
        strata = data.get("strata")
        return cls(
            **{k: v for k, v in data.items() if k not in ("strata", "reviewers")},
            strata=None if strata is None else tuple(strata),
            reviewers=tuple(data["reviewers"]),
        )


@dataclass(frozen=True)
class FrameCase(Case):
    """A case of the week's frame, as the drawing sees it."""

    strata: Mapping[str, str] = field(default_factory=dict)
    reviewed: bool = False
    drawn: bool = False


@dataclass(frozen=True)
class StratumDesign:
    """One stratum of a (place, case type) sample: eligible cases and how many were drawn."""

    name: str
    eligible: int
    drawn: int


@dataclass(frozen=True)
class GroupDesign:
    """The design of one (place, case type) sample."""

    place: str
    case_type: str
    #: cases in the week, whether eligible or not: N in "30 of 212 reviewed"
    population: int
    reviewed: int
    already_drawn: int
    size: SampleSize
    strata: tuple[StratumDesign, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "place": self.place,
            "case_type": self.case_type,
            "population": self.population,
            "reviewed": self.reviewed,
            "already_drawn": self.already_drawn,
            "eligible": self.size.frame,
            "n0": self.size.n0,
            "corrected": self.size.corrected,
            "drawn": self.size.size,
            "strata": [{"stratum": s.name, "eligible": s.eligible, "drawn": s.drawn} for s in self.strata],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> GroupDesign:
        strata = tuple(StratumDesign(s["stratum"], s["eligible"], s["drawn"]) for s in d["strata"])
        size = SampleSize(d["eligible"], d["n0"], d["corrected"], d["drawn"])
        return cls(
            d["place"], d["case_type"], d["population"], d["reviewed"], d["already_drawn"], size, strata
        )


def stratum_of(strata: Mapping[str, str], columns: Sequence[str]) -> str:
    """'crime_type=burglary; priority=(blank)', or 'all' without strata columns."""
    if not columns:
        return "all"
    return "; ".join(f"{c}={strata.get(c) or '(blank)'}" for c in columns)


def plan_sample(
    frame: Sequence[FrameCase], params: SampleParameters, week: Period
) -> tuple[tuple[GroupDesign, ...], tuple[WorkItem, ...]]:
    """Draw the sample (pure): per (case type, place), size by the formula, allocate across strata,
    pick with a generator seeded by (seed, place, case type, stratum) from the frame sorted by
    case_ref, so the same seed and frame give the same sample in any order. Reviewers are assigned
    round-robin in (case type, place, stratum, draw) order.
    """
    groups: dict[tuple[str, str], list[FrameCase]] = {}
    for case in frame:
        groups.setdefault((case.case_type, case.place), []).append(case)
    designs: list[GroupDesign] = []
    picked: list[tuple[FrameCase, str]] = []
    for (case_type, place), cases in sorted(groups.items()):
        eligible = [c for c in cases if not c.reviewed and not c.drawn]
        columns = (
            params.strata if params.strata is not None else sorted({k for c in eligible for k in c.strata})
        )
        by_stratum: dict[str, list[FrameCase]] = {}
        for case in eligible:
            by_stratum.setdefault(stratum_of(case.strata, columns), []).append(case)
        size = sample_size(
            len(eligible),
            margin=params.margin,
            confidence=params.confidence,
            expected_rate=params.expected_rate,
            minimum=params.minimum,
            cap=params.cap,
        )
        alloc = allocate({s: len(v) for s, v in by_stratum.items()}, size.size)
        strata: list[StratumDesign] = []
        for name in sorted(by_stratum):
            members = sorted(by_stratum[name], key=lambda c: c.case_ref)
            rng = random.Random(f"{params.seed}:{place}:{case_type}:{name}")
            picked.extend((c, name) for c in rng.sample(members, alloc[name]))
            strata.append(StratumDesign(name, len(members), alloc[name]))
        designs.append(
            GroupDesign(
                place,
                case_type,
                population=len(cases),
                reviewed=sum(c.reviewed for c in cases),
                already_drawn=sum(c.drawn and not c.reviewed for c in cases),
                size=size,
                strata=tuple(strata),
            )
        )
    due = week.end + dt.timedelta(days=params.due_days)
    reviewers = params.reviewers
    items = tuple(
        WorkItem(**case_fields(c), reviewer=reviewers[i % len(reviewers)], stratum=s, due_on=due)
        for i, (c, s) in enumerate(picked)
    )
    return tuple(designs), items


@dataclass(frozen=True)
class SampleResult:
    """A drawn (or previously drawn) sample: its design, its items and who reviews them."""

    week: str
    case_type: str | None
    parameters: SampleParameters
    groups: tuple[GroupDesign, ...]
    items: tuple[WorkItem, ...]
    drawn_at: dt.datetime
    #: True when an identical sample had been drawn before and this is the recorded one
    already_drawn: bool = False

    @property
    def drawn(self) -> int:
        return len(self.items)

    @property
    def eligible(self) -> int:
        return sum(g.size.frame for g in self.groups)

    @property
    def population(self) -> int:
        return sum(g.population for g in self.groups)

    def per_reviewer(self) -> dict[str, int]:
        counts = Counter(i.reviewer for i in self.items)
        return {r: counts[r] for r in self.parameters.reviewers}

    def summary(self) -> str:
        p = self.parameters
        rate = "" if p.expected_rate is None else f", expected rate {p.expected_rate:.0%}"
        what = f" {self.case_type}" if self.case_type else ""
        head = (
            f"Sample{what} for {self.week} (seed {p.seed}; ±{p.margin:.0%} at {p.confidence:.0%} confidence{rate}): "
            f"{self.drawn:,} cases drawn from {self.eligible:,} eligible ({self.population:,} in the week)."
        )
        if self.already_drawn:
            head = (
                f"Already drawn on {self.drawn_at:%Y-%m-%d %H:%M}; the recorded sample is unchanged.\n" + head
            )
        lines = [
            head,
            f"  {'place':<6} {'case type':<15} {'in week':>7} {'eligible':>8} {'n0':>6} {'FPC n':>6} {'drawn':>6}",
        ]
        for g in self.groups:
            s = g.size
            note = f" ({s.limited_by})" if s.limited_by else ""
            lines.append(
                f"  {g.place:<6} {g.case_type:<15} {g.population:>7,} {s.frame:>8,} {s.n0:>6.1f} "
                f"{s.corrected:>6.1f} {s.size:>6,}{note}"
            )
            if len(g.strata) > 1:
                lines.append(
                    "      " + ", ".join(f"{st.name}: {st.drawn} of {st.eligible}" for st in g.strata)
                )
        due = self.items[0].due_on if self.items else None
        loads = ", ".join(f"{r} {n}" for r, n in self.per_reviewer().items())
        lines.append(f"Assigned: {loads}" + (f" (due {due.isoformat()})." if due else "."))
        return "\n".join(lines)


def _overlaps(sample: Sample, case_type: str | None) -> bool:
    return sample.case_type is None or case_type is None or sample.case_type == case_type


def draw_sample(
    database: Database,
    week: Period,
    *,
    seed: int,
    now: dt.datetime,
    case_type: str | None = None,
    margin: float = DEFAULT_MARGIN,
    confidence: float = DEFAULT_CONFIDENCE,
    expected_rate: float | None = None,
    minimum: int = DEFAULT_MINIMUM,
    cap: int = DEFAULT_CAP,
    due_days: int = DEFAULT_DUE_DAYS,
    strata: Sequence[str] | None = None,
    reviewers: Sequence[str] | Path = (),
) -> SampleResult:
    """Draw and record the week's sample (see the module docstring), or return the recorded one when
    the same sample (same week, type and parameters) was drawn before. A different second sample
    for a week already sampled is refused. Example:
    ``draw_sample(db, parse_week("2026-W47"), seed=7, now=now, reviewers=Path("reviewers.txt"))``.
    """
    names = read_reviewers(reviewers) if isinstance(reviewers, Path) else tuple(reviewers)
    if names:
        names = check_reviewers([(n, i) for i, n in enumerate(names, start=1)])
    params = SampleParameters(
        seed=seed,
        margin=margin,
        confidence=confidence,
        expected_rate=expected_rate,
        minimum=minimum,
        cap=cap,
        due_days=due_days,
        strata=None if strata is None else tuple(strata),
        reviewers=names or (UNASSIGNED,),
    )
    with database.session() as session:
        for sample in store.samples_for_week(session, week.label):
            if not _overlaps(sample, case_type):
                continue
            if sample.case_type == case_type and sample.design.get("parameters") == params.to_json():
                return _recorded(session, sample, week.label)
            what = sample.case_type or "all case types"
            raise UsageError(
                f"a sample for {week.label} ({what}) was already drawn on {sample.drawn_at:%Y-%m-%d} "
                f"with seed {sample.seed}; a second, different sample for the same week is not drawn",
                hint=f"Follow it up with `qam sample status --week {week.label}`, or repeat the same "
                "command and options to get its worklists again.",
            )
        rows = store.frame(session, week.start, week.end, case_type)
        what = f"{case_type} cases" if case_type else "cases"
        if not rows:
            raise EngineError(
                f"no {what} dated {week.start.isoformat()} to {week.end.isoformat()} ({week.label}) in the cases extract",
                hint="Load the week's cases first: qam extracts load cases FILE",
            )
        frame = [
            FrameCase(**case_fields(r.case), strata=r.case.strata, reviewed=r.reviewed, drawn=r.drawn)
            for r in rows
        ]
        known = sorted({k for c in frame for k in c.strata})
        unknown = [c for c in params.strata or () if c not in known]
        if unknown:
            raise UsageError(
                f"no strata column {', '.join(unknown)} in the cases extract for {week.label} "
                f"(it has: {', '.join(known) or 'none'})"
            )
        groups, items = plan_sample(frame, params, week)
        if not items:
            raise EngineError(
                f"all {len(frame):,} {what} of {week.label} have already been reviewed or drawn: nothing to sample"
            )
        sizes = {(g.place, g.case_type): g.population for g in groups}
        design = {"formula": FORMULA, "parameters": params.to_json(), "groups": [g.to_json() for g in groups]}
        sample = Sample(
            week=week.label,
            case_type=case_type,
            seed=seed,
            margin=margin,
            confidence=confidence,
            design=design,
            drawn_at=now,
        )
        store.add_sample(
            session,
            sample,
            (
                SampleItem(
                    case_type=i.case_type,
                    case_ref=i.case_ref,
                    place=i.place,
                    stratum=i.stratum[:200],
                    reviewer=i.reviewer,
                    frame_size=sizes[(i.place, i.case_type)],
                    due_on=i.due_on,
                )
                for i in items
            ),
        )
    return SampleResult(week.label, case_type, params, groups, items, now)


def _recorded(session: Transaction, sample: Sample, week: str) -> SampleResult:
    design = sample.design
    return SampleResult(
        week,
        sample.case_type,
        SampleParameters.from_json(design["parameters"]),
        tuple(GroupDesign.from_json(g) for g in design["groups"]),
        tuple(work_item(row) for row in store.sample_items(session, [sample.pk])),
        sample.drawn_at,
        already_drawn=True,
    )


def frame_sizes(database: Database, week: Period | str) -> dict[tuple[str, str], int]:
    """{(place, case type): cases in the week} as recorded when the week's samples were drawn; for
    the finite-population correction and "30 of 212 searches reviewed". Empty when not sampled."""
    label = week.label if isinstance(week, Period) else parse_week(week).label
    sizes: dict[tuple[str, str], int] = {}
    with database.session() as session:
        for sample in store.samples_for_week(session, label):
            for group in sample.design["groups"]:
                sizes[(group["place"], group["case_type"])] = int(group["population"])
    return sizes
