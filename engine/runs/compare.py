"""A PEEL rerun compared with the scores first recorded: every finding that moved, and which ruleset
change explains it (compare.csv and the report's summary of changes)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from operator import itemgetter
from pathlib import Path

from engine import registry
from engine.core.text import csv_row_writer, inert_cell
from engine.reports.peel_data import ChangeSummary, Comparison
from engine.runs.context import RunContext
from engine.store import case_scores
from engine.store.db import Database

COMPARE_COLUMNS = (
    "ruleset",
    "original_version",
    "rerun_version",
    "criterion",
    "cause",
    "place",
    "assessment_id",
    "case_ref",
    "assessed_on",
    "original_outcome",
    "rerun_outcome",
    "original_score",
    "rerun_score",
)
#: numbers (6-decimal text), never made inert
_SCORE_COLUMNS = ("original_score", "rerun_score")


def _score_text(score: float | None) -> str:
    return "" if score is None else f"{score:.6f}"


class _Causes:
    """Which ruleset change explains a moved finding, from registry.diff (computed once per pair)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._diffs: dict[tuple[str, str, str], registry.RulesetDiff] = {}

    def cause(self, ruleset: str, old: str, new: str, criterion: str) -> str:
        key = (ruleset, old, new)
        if key not in self._diffs:
            self._diffs[key] = registry.diff(self._database, ruleset, old, new)
        d = self._diffs[key]
        for item in d.items:
            if item.kind == "criterion" and item.id == criterion:
                if item.change != "changed":
                    return f"{criterion} {item.change}"
                return f"{criterion} changed ({', '.join(f.field for f in item.fields)})"
        settings = [i.id for i in d.items if i.kind == "setting"]
        if settings:
            return f"settings changed ({', '.join(settings)})"
        if d.ruleset_fields:
            return f"ruleset changed ({', '.join(f.field for f in d.ruleset_fields)})"
        return "no recorded change to this criterion"


def compare_with_original(
    database: Database,
    context: RunContext,
    start: dt.date,
    end: dt.date,
    *,
    read: Collection[int] | None = None,
    cutoff: dt.datetime | None = None,
) -> Comparison:
    """Compare every assessment's first recorded official score with its score under the run's
    ruleset versions (stored by score_pending beforehand), finding by finding. ``read``: only these
    assessment revisions (an audit's, read at the run's cut-off, so later submissions stay out)."""
    rerun = {r.id: r.sha256 for r in context.assessment_rulesets}
    causes = _Causes(database)
    compared = same = changed = 0
    moved: list[dict[str, str]] = []
    with database.session() as session:
        rows = case_scores.official_scores(session, date_from=start, date_to=end, cutoff=cutoff)
        wanted = rows if read is None else (row for row in rows if row[0] in read)
        # the rows come ordered by assessment and ruleset: each (assessment, ruleset) is compared as
        # it is read, and only its first and rerun scores are kept (a year's 226,000 scores held at
        # once made a comparison worker of ~480 MB)
        for (_, ruleset), scores in itertools.groupby(wanted, key=itemgetter(0, 5)):
            first = next(scores)
            sha = rerun.get(ruleset)
            now_row = first if first[7] == sha else next((s for s in scores if s[7] == sha), None)  # noqa: B031
            if now_row is None:  # a ruleset not in force at --as-of, or an assessment outside it
                continue
            compared += 1
            if first[7] == now_row[7]:
                same += 1
                continue
            before, after = first[8], now_row[8]
            differs = sorted(c for c in set(before) | set(after) if before.get(c) != after.get(c))
            if differs:
                changed += 1
            for criterion in differs:
                moved.append(
                    {
                        "ruleset": ruleset,
                        "original_version": first[6],
                        "rerun_version": now_row[6],
                        "criterion": criterion,
                        "cause": causes.cause(ruleset, first[6], now_row[6], criterion),
                        "place": first[3],
                        "assessment_id": first[1],
                        "case_ref": first[2],
                        "assessed_on": str(first[4]),
                        "original_outcome": before.get(criterion, "absent"),
                        "rerun_outcome": after.get(criterion, "absent"),
                        "original_score": _score_text(first[9]),
                        "rerun_score": _score_text(now_row[9]),
                    }
                )
    moved.sort(key=lambda m: tuple(m[c] for c in COMPARE_COLUMNS))
    return Comparison(compared, same, changed, tuple(moved), _summarise(moved))


def _summarise(moved: Iterable[Mapping[str, str]]) -> tuple[ChangeSummary, ...]:
    # (ruleset, original version, rerun version, criterion, cause): the leading fields of a ChangeSummary
    places: dict[tuple[str, str, str, str, str], Counter[str]] = defaultdict(Counter)
    moves: dict[tuple[str, str, str, str, str], Counter[str]] = defaultdict(Counter)
    for m in moved:
        key = (m["ruleset"], m["original_version"], m["rerun_version"], m["criterion"], m["cause"])
        places[key][m["place"]] += 1
        moves[key][f"{m['original_outcome']} -> {m['rerun_outcome']}"] += 1

    def most_first(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    return tuple(
        ChangeSummary(*key, sum(places[key].values()), most_first(moves[key]), most_first(places[key]))
        for key in sorted(places)
    )


def write_compare_csv(comparison: Comparison, path: Path) -> None:
    """compare.csv: one row per moved finding (COMPARE_COLUMNS); text cells inert (core.text.inert_cell),
    the scores (numbers written as text) as they are."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        write = csv_row_writer(fh)
        write(COMPARE_COLUMNS)
        for row in comparison.moved:
            write(
                row.get(k, "") if k in _SCORE_COLUMNS else inert_cell(row.get(k, "")) for k in COMPARE_COLUMNS
            )
