"""`qam rulesets dry-run`: a past period scored under the working tree's draft rulesets and under the
published ones side by side, and the findings and exceptions that would change. Nothing official is
written: both sides' scores are stored as draft rows, and files only with an output folder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import UsageError
from engine.core.models import PerformanceException
from engine.core.periods import Period, parse_week
from engine.core.text import csv_row_writer, inert_cell
from engine.runs.analysis import analyse, prepare
from engine.runs.context import RunContext
from engine.runs.gather import DEFAULT_HISTORY_WEEKS, gather
from engine.runs.manifest import write_outputs
from engine.runs.scoring import score_pending
from engine.store.db import Database

#: how many case refs a finding change shows as examples
EXAMPLES = 3
#: the outcome shown for a criterion that one side's ruleset version does not have
ABSENT = "(none)"
FINDING_COLUMNS = ("ruleset", "criterion", "change", "cases", "by place", "examples")
EXCEPTION_COLUMNS = (
    "change",
    "place",
    "team",
    "ruleset",
    "criterion",
    "kind",
    "reason (draft; published if it disappears)",
)
CSV_COLUMNS = (
    "record",
    "ruleset",
    "criterion",
    "place",
    "case_ref",
    "assessed_on",
    "kind",
    "published",
    "draft",
    "team",
)


@dataclass(frozen=True)
class RulesetChange:
    """A ruleset whose draft (working tree) differs from its published version."""

    ruleset: str
    published: str  # version, or "" when the ruleset is new
    draft: str  # version, or "" when the file was removed

    @property
    def text(self) -> str:
        if not self.published:
            return f"{self.ruleset} (new, draft {self.draft})"
        if not self.draft:
            return f"{self.ruleset} (removed from the working tree; published {self.published})"
        return f"{self.ruleset} {self.published} -> draft {self.draft}"


@dataclass(frozen=True)
class CaseChange:
    """One assessment whose outcome on one criterion would change."""

    ruleset: str
    criterion: str
    case_ref: str
    place: str
    assessed_on: dt.date
    published: str
    draft: str


@dataclass(frozen=True)
class FindingChange:
    """All cases of one criterion whose outcome would change the same way (e.g. pass -> fail)."""

    #: the headings of :meth:`to_table_row`'s columns
    COLUMNS: ClassVar[tuple[str, ...]] = FINDING_COLUMNS

    ruleset: str
    criterion: str
    published: str
    draft: str
    by_place: Mapping[str, int]
    examples: tuple[str, ...]

    @property
    def cases(self) -> int:
        return sum(self.by_place.values())

    def to_table_row(self) -> tuple[str, ...]:
        places = ", ".join(f"{p} {n}" for p, n in sorted(self.by_place.items()))
        more = ", ..." if self.cases > len(self.examples) else ""
        return (
            self.ruleset,
            self.criterion,
            f"{self.published} -> {self.draft}",
            str(self.cases),
            places,
            ", ".join(self.examples) + more,
        )


@dataclass(frozen=True)
class ExceptionChange:
    """An exception that would appear, disappear or read differently under the draft rulesets."""

    #: the headings of :meth:`to_table_row`'s columns
    COLUMNS: ClassVar[tuple[str, ...]] = EXCEPTION_COLUMNS

    change: str  # appears | disappears | changes
    place: str
    team: str  # "" for a place (or FORCE) exception
    ruleset: str
    criterion: str
    kind: str
    published: str  # the published side's reason, "" when absent
    draft: str

    def to_table_row(self) -> tuple[str, ...]:
        reason = self.published if self.change == "disappears" else self.draft
        return (self.change, self.place, self.team, self.ruleset, self.criterion, self.kind, reason)


@dataclass(frozen=True)
class DryRunReport:
    """What would change for a period if the working tree's rulesets were published."""

    period: Period
    assessments: int
    rulesets: tuple[RulesetChange, ...]
    findings: tuple[FindingChange, ...]
    cases: tuple[CaseChange, ...]
    exceptions: tuple[ExceptionChange, ...]
    csv_path: Path | None = None

    @property
    def headline(self) -> str:
        p = self.period
        return (
            f"DRY RUN {p.label} ({p.start.isoformat()} to {p.end.isoformat()}): {self.assessments} assessments "
            "scored under the published and the draft (working tree) rulesets; nothing official was written."
        )

    @property
    def summary(self) -> str:
        if not self.rulesets:
            return "The working tree's rulesets are the published ones: nothing would change."
        counts = Counter(e.change for e in self.exceptions)
        criteria = len({(f.ruleset, f.criterion) for f in self.findings})
        return (
            f"{len(self.cases)} finding{'s' if len(self.cases) != 1 else ''} would change in {criteria} "
            f"criteri{'a' if criteria != 1 else 'on'}; {counts['appears']} exceptions would appear, "
            f"{counts['disappears']} disappear and {counts['changes']} read differently."
        )


def _outcomes(
    columns: Mapping[str, Sequence[Any]], period: Period
) -> tuple[dict[tuple[Any, str, str], str], dict[Any, tuple[str, str, dt.date]], dict[tuple[str, str], str]]:
    """The period's outcomes by (assessment, case type, criterion); each assessment's case ref, place
    and date; each (case type, criterion)'s ruleset id."""
    outcomes: dict[tuple[Any, str, str], str] = {}
    about: dict[Any, tuple[str, str, dt.date]] = {}
    rulesets: dict[tuple[str, str], str] = {}
    for key, case_ref, case_type, place, assessed_on, ruleset, criterion, outcome in zip(
        columns["assessment_key"], columns["case_ref"], columns["case_type"], columns["place"],
        columns["assessed_on"], columns["ruleset"], columns["criterion"], columns["outcome"], strict=True,
    ):  # fmt: skip
        if period.start <= assessed_on <= period.end:
            outcomes[(key, case_type, criterion)] = outcome
            about[key] = (case_ref, place, assessed_on)
            rulesets[(case_type, criterion)] = ruleset
    return outcomes, about, rulesets


def compare_findings(
    published: Mapping[str, Sequence[Any]], draft: Mapping[str, Sequence[Any]], period: Period
) -> tuple[int, list[CaseChange], list[FindingChange]]:
    """Pair each assessment's criterion outcomes in the period under both sides; returns (assessments
    compared, each changed case, the changes grouped by criterion and direction)."""
    old, about, old_rulesets = _outcomes(published, period)
    new, about_new, new_rulesets = _outcomes(draft, period)
    about.update(about_new)
    names = {**old_rulesets, **new_rulesets}
    cases: list[CaseChange] = []
    for key, case_type, criterion in sorted(
        set(old) | set(new), key=lambda k: (k[1], k[2], about[k[0]], k[0])
    ):
        before, after = (
            old.get((key, case_type, criterion), ABSENT),
            new.get((key, case_type, criterion), ABSENT),
        )
        if before != after:
            case_ref, place, assessed_on = about[key]
            cases.append(
                CaseChange(
                    names[(case_type, criterion)], criterion, case_ref, place, assessed_on, before, after
                )
            )
    groups: dict[tuple[str, str, str, str], list[CaseChange]] = defaultdict(list)
    for c in cases:
        groups[(c.ruleset, c.criterion, c.published, c.draft)].append(c)
    findings = [
        FindingChange(
            rid,
            criterion,
            before,
            after,
            dict(Counter(c.place for c in items)),
            tuple(sorted(c.case_ref for c in items)[:EXAMPLES]),
        )
        for (rid, criterion, before, after), items in sorted(groups.items())
    ]
    return len(about), cases, findings


def compare_exceptions(
    published: Sequence[PerformanceException], draft: Sequence[PerformanceException]
) -> list[ExceptionChange]:
    """Exceptions by (place, team, ruleset, criterion, kind), place and team exceptions alike: those
    only one side has, and those whose reason (the figures a briefing states) differs."""

    def by_key(items: Sequence[PerformanceException]) -> dict[tuple[str, str, str, str, str], str]:
        return {(e.place, e.team, e.ruleset, e.criterion, e.kind.value): e.reason for e in items}

    old, new = by_key(published), by_key(draft)
    out: list[ExceptionChange] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, ""), new.get(key, "")
        if before == after:
            continue
        change = "appears" if not before else "disappears" if not after else "changes"
        out.append(ExceptionChange(change, *key, before, after))
    return out


def ruleset_changes(published: RunContext, draft: RunContext) -> list[RulesetChange]:
    old = {r.id: r for r in published.rulesets}
    new = {r.id: r for r in draft.rulesets}
    return [
        RulesetChange(rid, old[rid].version if rid in old else "", new[rid].version if rid in new else "")
        for rid in sorted(set(old) | set(new))
        if rid not in old or rid not in new or old[rid].sha256 != new[rid].sha256
    ]


def dry_run_period(week: str | None, date_from: dt.date | None, date_to: dt.date | None) -> Period:
    """The period `qam rulesets dry-run` scores: --against WEEK, or --from DATE --to DATE."""
    if week and (date_from or date_to):
        raise UsageError("give either --against WEEK or --from DATE --to DATE, not both")
    if week:
        return parse_week(week)
    if date_from and date_to:
        return Period.of(date_from, date_to)
    raise UsageError("say which assessments to score: --against WEEK, or --from DATE and --to DATE")


def dry_run(
    database: Database,
    published: RunContext,
    draft: RunContext,
    period: Period,
    *,
    now: Callable[[], dt.datetime],
    out: Path | None = None,
    history_weeks: int = DEFAULT_HISTORY_WEEKS,
) -> DryRunReport:
    """Score the period (and the history its SPC charts read) under both contexts, storing every score
    as a draft row (official scores and runs are untouched), then compare findings and exceptions.
    With ``out``, write the changes to OUT/dry-run-<label>/changes.csv.

    Example: dry_run(db, run_context(..., draft=False, as_of=now()), run_context(..., draft=True), period, now=now)
    """
    changed = ruleset_changes(published, draft)
    if not changed:  # identical content scores identically: nothing to score or compare
        return DryRunReport(period, 0, (), (), (), ())
    history_from = period.start - dt.timedelta(weeks=history_weeks)
    sides = []
    for context in (dataclasses.replace(published, draft=True), draft):
        score_pending(database, context, until=period.end, since=history_from, scored_at=now())
        gathered = gather(database, context, history_from=history_from, period=period)
        sides.append((gathered, analyse(context, gathered, period, prepared=prepare(context, gathered))))
    (old, old_analysis), (new, new_analysis) = sides
    n, cases, findings = compare_findings(old.outcome_columns, new.outcome_columns, period)
    exceptions = compare_exceptions(
        [*old_analysis.findings.exceptions, *old_analysis.findings.team_exceptions],
        [*new_analysis.findings.exceptions, *new_analysis.findings.team_exceptions],
    )
    report = DryRunReport(period, n, tuple(changed), tuple(findings), tuple(cases), tuple(exceptions))
    if out is None:
        return report
    folder = out / f"dry-run-{period.label}"
    write_outputs(folder, lambda tmp: write_changes_csv(report, tmp / "changes.csv"))
    return dataclasses.replace(report, csv_path=folder / "changes.csv")


def write_changes_csv(report: DryRunReport, path: Path) -> None:
    """One row per changed finding (a case and criterion), then one per changed exception (its team
    in the last column for a team exception, empty otherwise); text cells inert (core.text.inert_cell)."""
    findings = (
        ("finding", c.ruleset, c.criterion, c.place, c.case_ref, c.assessed_on.isoformat(), "",
         c.published, c.draft, "")
        for c in report.cases
    )  # fmt: skip
    exceptions = (
        ("exception", e.ruleset, e.criterion, e.place, "", "", e.kind, e.published, e.draft, e.team)
        for e in report.exceptions
    )
    with path.open("w", encoding="utf-8", newline="") as fh:
        write = csv_row_writer(fh)
        write(CSV_COLUMNS)
        for row in itertools.chain(findings, exceptions):
            write(inert_cell(v) for v in row)
