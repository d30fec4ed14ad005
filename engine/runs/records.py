"""Recorded runs read back (`qam runs list|show`): every run's manifest and the times of each of its
executions, found by id or a unique prefix of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import UsageError
from engine.core.models import RulesetRef
from engine.core.text import stamp
from engine.store import integrity, runs
from engine.store.db import Database, Run

#: shortest run-id prefix accepted, so a typo does not silently pick some run
MIN_PREFIX = 4

RUNS_COLUMNS = ("run", "kind", "period", "draft", "rulesets", "first run", "last run", "executions")


@dataclass(frozen=True)
class RunSummary:
    """One line of `qam runs list`."""

    #: the headings of :meth:`to_table_row`'s columns
    COLUMNS: ClassVar[tuple[str, ...]] = RUNS_COLUMNS

    run_id: str
    kind: str
    period: str
    draft: bool
    rulesets: int
    first_run_at: dt.datetime
    last_run_at: dt.datetime
    executions: int

    def to_table_row(self) -> tuple[str, ...]:
        return (
            self.run_id,
            self.kind,
            self.period,
            "DRAFT" if self.draft else "",
            str(self.rulesets),
            stamp(self.first_run_at),
            stamp(self.last_run_at),
            str(self.executions),
        )


def list_runs(database: Database) -> list[RunSummary]:
    """Every recorded run, most recently executed first."""
    with database.session() as session:
        counts = runs.execution_counts(session)
        return [
            RunSummary(
                r.run_id,
                r.kind,
                (r.manifest.get("period") or {}).get("label", ""),
                r.draft,
                len(r.manifest.get("rulesets", [])),
                r.first_run_at,
                r.last_run_at,
                counts.get(r.run_id, 0),
            )
            for r in runs.runs(session)
        ]


def find_run(session: Any, text: str) -> Run:
    """The run whose id is ``text`` or uniquely starts with it; a clear error otherwise."""
    text = text.strip()
    if len(text) < MIN_PREFIX:
        raise UsageError(f"run id '{text}' is too short: give at least {MIN_PREFIX} characters")
    matches = runs.runs_matching(session, text)
    if not matches:
        raise UsageError(f"no run '{text}'", hint="See `qam runs list` for the recorded runs.")
    if len(matches) > 1:
        raise UsageError(
            f"run id '{text}' is ambiguous: it starts {len(matches)} runs "
            f"({', '.join(r.run_id for r in matches[:5])}{', ...' if len(matches) > 5 else ''})",
            hint="Give more characters of the run id.",
        )
    return matches[0]


@dataclass(frozen=True)
class Execution:
    started_at: dt.datetime
    finished_at: dt.datetime
    outputs_matched: bool | None


@dataclass(frozen=True)
class RunDetail:
    """A whole run manifest and its executions (`qam runs show`)."""

    run_id: str
    manifest: Mapping[str, Any]
    executions: tuple[Execution, ...]

    def metadata_rows(self) -> list[tuple[str, str]]:
        m = self.manifest
        period = m.get("period") or {}
        arguments = ", ".join(f"{k}={v}" for k, v in sorted((m.get("arguments") or {}).items()))
        return [
            ("run", self.run_id),
            ("kind", str(m.get("kind", ""))),
            ("command", str(m.get("command", ""))),
            ("arguments", arguments),
            ("period", f"{period.get('label', '')} ({period.get('from', '')} to {period.get('to', '')})"),
            ("draft", "yes (unpublished rulesets, not for operational use)" if m.get("draft") else "no"),
            ("engine version", str(m.get("engine", ""))),
            ("force file sha256", str(m.get("force_sha256", ""))),
            ("registry head", str(m.get("registry_head", "")) or "(none: draft run)"),
            ("assessments head", _chain_head(m.get(integrity.MANIFEST_KEY))),
        ]

    def ruleset_rows(self) -> list[tuple[str, str, str]]:
        """The rulesets, then the catalogue and the extract definitions the run used."""
        m = self.manifest
        config = [*([m["catalogue"]] if m.get("catalogue") else []), *(m.get("extract_definitions") or [])]
        return [RulesetRef.from_json(r).row() for r in [*m.get("rulesets", []), *config]]

    def input_rows(self) -> list[tuple[str, str]]:
        return sorted((self.manifest.get("inputs") or {}).items())

    def output_rows(self) -> list[tuple[str, str]]:
        return sorted((self.manifest.get("outputs") or {}).items())

    def execution_rows(self) -> list[tuple[str, str, str]]:
        shown = {True: "yes", False: "NO", None: ""}
        return [
            (stamp(e.started_at), stamp(e.finished_at), shown[e.outputs_matched]) for e in self.executions
        ]


def _chain_head(head: Any) -> str:
    """'pk 51481 3f9a...' for a recorded assessments' chain head (`qam assessments verify` checks it)."""
    if not isinstance(head, Mapping):
        return "(none recorded)"
    return f"pk {head.get('pk')} {head.get('row_hash', '')}"


def show_run(database: Database, run_ref: str) -> RunDetail:
    """The manifest of one run (id or unique prefix) and the times of each execution."""
    with database.session() as session:
        found = find_run(session, run_ref)
        executions = tuple(
            Execution(e.started_at, e.finished_at, e.outputs_matched)
            for e in runs.run_executions(session, found.run_id)
        )
        return RunDetail(found.run_id, dict(found.manifest), executions)
