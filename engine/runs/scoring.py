"""Scoring: every pending assessment scored under a run's ruleset versions and stored, a ruleset per
transaction, handing on what was stored; and `qam score`'s own run with its manifest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from functools import partial
from operator import itemgetter
from typing import Any

from engine.core import parallel
from engine.core.hashing import hash_inputs
from engine.core.parallel import InOrder
from engine.rules.rulesets import Ruleset
from engine.rules.scoring import score_cases
from engine.runs.context import RunContext
from engine.runs.manifest import Manifest, record_manifest
from engine.store import assessments, case_scores
from engine.store.db import Database

#: the traces of every case that failed nothing (shared, never changed)
_NO_TRACES: dict[str, list[str]] = {}


@dataclass(frozen=True)
class ScoreSummary:
    """How many assessments a run scored, by ruleset."""

    scored: Mapping[str, int]
    #: the assessment keys scored, in order
    keys: tuple[int, ...] = ()
    #: the recorded scoring run, when a `qam score` run scored anything
    run_id: str = ""

    @property
    def total(self) -> int:
        return sum(self.scored.values())


@dataclass(frozen=True)
class Scored:
    """What score_pending stored: the counts, and with ``with_rows`` the scores themselves as rows."""

    summary: ScoreSummary
    #: case_scores.scored_row rows by assessment key (empty unless asked for)
    rows: list[tuple[Any, ...]]


def score_pending(
    database: Database,
    context: RunContext,
    *,
    until: dt.date,
    since: dt.date | None = None,
    scored_at: dt.datetime,
    workers: int | None = None,
    progress: Callable[[str, int], None] | None = None,
    with_rows: bool = False,
) -> Scored:
    """Score every current assessment up to ``until`` that has no score under the run's ruleset
    versions; scores already stored are kept (rescoring is idempotent). Each ruleset's scores are
    stored in one transaction, so an interrupted run leaves none half-stored. ``progress(ruleset
    id, n)`` is called after each ruleset with how many it scored. With ``with_rows``, the stored scores
    also come back as case_scores.scored_row rows, by assessment key (for gather, which then need not
    read them back).

    A ruleset's scores are stored by a thread (core.parallel.InOrder) while the next ruleset's cases
    are scored, and the cases of the ruleset after it are read by another (_read_ahead): the
    database's share of a store (PostgreSQL's COPY into three indexes, SQLite's inserts) and of a
    read then overlaps this process's scoring. One store runs at a time, in ruleset order, and an
    interrupted run waits for the store under way to commit."""
    counts: dict[str, int] = {}
    fresh: list[tuple[Any, ...]] = []
    keys: list[int] = []

    def report(ruleset_id: str, n: int) -> None:
        counts[ruleset_id] = n
        if progress is not None:
            progress(ruleset_id, n)

    with InOrder("qam-store") as storer, closing(_read_ahead(database, context, until, since)) as reading:
        for ruleset, pending in reading:
            if not pending:
                storer.wait()
                report(ruleset.id, 0)
                continue
            n_workers = workers or (2 if len(pending) >= parallel.SCORING_PARALLEL_FROM else 1)
            # the answers as parsed, not copied with a key: the scores come back in their order
            scores = score_cases(ruleset, [p.answers for p in pending], workers=n_workers)
            rows = []
            # cases share their outcomes, critical failures and traces: one object each (never
            # changed), so that storing writes each one's JSON once (case_scores.store_scores)
            criticals: dict[tuple[str, ...], list[str]] = {(): []}
            for s, p in zip(scores, pending, strict=True):
                texts = s.outcomes.shared_texts()
                traces = _NO_TRACES
                if s.traces:
                    traces = {c: list(s.traces[c]) for c in s.traces if texts[c] == "fail"}
                critical = criticals.get(s.critical_failures)
                if critical is None:
                    critical = criticals[s.critical_failures] = list(s.critical_failures)
                rows.append(
                    {
                        "assessment_pk": p.pk,
                        "ruleset_id": s.ruleset_id,
                        "ruleset_version": s.ruleset_version,
                        "ruleset_sha256": s.ruleset_sha256,
                        "outcomes": texts,
                        "traces": traces,
                        "score": s.score,
                        "critical_failures": critical,
                        "draft": context.draft,
                        "run_id": None,
                        "scored_at": scored_at,
                    }
                )
                if with_rows:
                    fresh.append(
                        case_scores.scored_row(p, s.ruleset_id, s.ruleset_version, texts, traces, s.score)
                    )
            days = {p.assessed_on for p in pending}
            keys.extend(p.pk for p in pending)
            storer.submit(partial(_store_scores, database, rows, days), partial(report, ruleset.id))
    fresh.sort(key=itemgetter(0))
    return Scored(ScoreSummary(counts, tuple(keys)), fresh)


def _read_ahead(
    database: Database, context: RunContext, until: dt.date, since: dt.date | None
) -> Generator[tuple[Ruleset, list[case_scores.Pending]], None, None]:
    """Each ruleset with its pending assessments, the next ruleset's read by a thread while the
    caller scores this one's: the database's share of a read (SQLite's search and sort, PostgreSQL's
    query) then overlaps this process's scoring. One read at a time, each in a transaction of its own."""

    def read(ruleset: Ruleset) -> list[case_scores.Pending]:
        with database.session() as session:
            return case_scores.pending_assessments(
                session,
                ruleset.case_type or "",
                ruleset.sha256,
                draft=context.draft,
                until=until,
                since=since,
            )

    rulesets = list(context.assessment_rulesets)
    with ThreadPoolExecutor(1, thread_name_prefix="qam-read") as reader:
        ahead = reader.submit(read, rulesets[0]) if rulesets else None
        for k, ruleset in enumerate(rulesets):
            assert ahead is not None
            pending = ahead.result()
            ahead = reader.submit(read, rulesets[k + 1]) if k + 1 < len(rulesets) else None
            yield ruleset, pending


def _store_scores(database: Database, rows: list[dict[str, Any]], days: set[dt.date]) -> int:
    """One ruleset's scores, in a transaction of their own (score_pending's storing thread)."""
    with database.session() as session:
        return case_scores.store_scores(session, rows, days=days)


def score_run(
    database: Database, context: RunContext, *, since: dt.date | None, now: Callable[[], dt.datetime]
) -> ScoreSummary:
    """`qam score`: score every assessment not yet scored under the context's rulesets (since
    ``since``) and, when any was, record the scoring run; its id is in the summary."""
    started = now()
    summary = score_pending(database, context, until=dt.date.max, since=since, scored_at=started).summary
    if summary.total:
        run_id = record_scoring_run(database, context, summary, since=since, started=started, now=now)
        summary = replace(summary, run_id=run_id)
    return summary


def record_scoring_run(
    database: Database,
    context: RunContext,
    summary: ScoreSummary,
    *,
    since: dt.date | None,
    started: dt.datetime,
    now: Callable[[], dt.datetime],
) -> str:
    """A scoring run's manifest: which assessments (by content hash) were scored under which versions."""
    arguments = {"since": since.isoformat() if since else None, "draft": context.draft}
    command = (
        "qam score"
        + (f" --since {since.isoformat()}" if since else "")
        + (" --draft" if context.draft else "")
    )
    with database.session() as session:
        hashes = assessments.content_hashes(session, summary.keys)
        manifest = Manifest(
            kind="score",
            command=command,
            arguments=arguments,
            rulesets=context.refs(),
            force_sha256=context.force.sha256,
            inputs={"assessments": hash_inputs(hashes)},
            draft=context.draft,
        )
    document = {**manifest.to_json(), "registry_head": context.registry_head, "scored": dict(summary.scored)}
    record_manifest(database, manifest, document, started=started, finished=now())
    return manifest.run_id
