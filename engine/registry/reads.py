"""Reading the registry: current versions, a ruleset's history, one version, the versions in force
at a time, and compiling those for official runs (checked against their hashes first)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.errors import Location, Problem, RulesetError, StorageError, UsageError, problems_summary
from engine.core.periods import as_utc
from engine.core.text import stamp
from engine.inputs.extract_definitions import ExtractDefinitions
from engine.registry.entries import (
    GENESIS_HASH,
    FieldsByCaseType,
    RegistryEntry,
    entry_from_row,
    entry_problems,
    iso,
)
from engine.rules.catalogue import MeasureCatalogue
from engine.rules.ruleset_loader import ruleset_from_content
from engine.rules.rulesets import Ruleset
from engine.store import registry as store
from engine.store.db import Database, Transaction

_COLUMNS: Mapping[str, Callable[[RegistryEntry], str]] = {
    "seq": lambda e: str(e.seq),
    "ruleset": lambda e: e.ruleset_id,
    "version": lambda e: e.version,
    "priority": lambda e: "-" if e.is_document else str(e.priority),
    "applies to": lambda e: e.applies_to,
    "published": lambda e: stamp(e.published_at),
    "author": lambda e: e.author,
    "note": lambda e: e.note,
    "sha256": lambda e: e.sha256[:12],
    "entry hash": lambda e: e.entry_hash[:12],
}
LIST_COLUMNS = ("ruleset", "version", "priority", "applies to", "published", "author", "sha256")
HISTORY_COLUMNS = ("seq", "version", "published", "author", "note", "sha256", "entry hash")


@dataclass(frozen=True)
class RegistryListing:
    """Registry entries and the columns the CLI shows for them (`list` and `history`)."""

    entries: tuple[RegistryEntry, ...]
    columns: tuple[str, ...]

    def to_table_rows(self) -> list[tuple[str, ...]]:
        return [tuple(_COLUMNS[c](e) for c in self.columns) for e in self.entries]

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.entries]


def list_current(database: Database) -> RegistryListing:
    """The latest published version of every ruleset, by id.

    Example: list_current(db).to_table_rows()
    """
    with database.session() as session:
        entries = tuple(entry_from_row(row) for row in store.latest_entries(session))
    return RegistryListing(entries, LIST_COLUMNS)


def history(database: Database, ruleset_id: str) -> RegistryListing:
    """Every published version of one ruleset (or of the catalogue, ``catalogue``, or an extract
    definition, ``extracts/<id>``), oldest first, with author, time, note and hashes."""
    return RegistryListing(tuple(ruleset_versions(database, ruleset_id)), HISTORY_COLUMNS)


def show(database: Database, ruleset_id: str, version: str | None = None) -> RegistryEntry:
    """One published version (the latest unless ``version`` is given), with its source text."""
    return pick_version(ruleset_versions(database, ruleset_id), version)


def ruleset_versions(database: Database, ruleset_id: str) -> list[RegistryEntry]:
    """Every version of one ruleset, oldest first; UsageError naming the known ids if there is none."""
    with database.session() as session:
        entries = [entry_from_row(row) for row in store.ruleset_entries(session, ruleset_id)]
        if not entries:
            raise _unknown_ruleset(session, ruleset_id)
    return entries


def pick_version(entries: list[RegistryEntry], version: str | None) -> RegistryEntry:
    """The entry of ``version`` (the last when None) among one ruleset's entries."""
    if version is None:
        return entries[-1]
    for e in entries:
        if e.version == version:
            return e
    rid = entries[-1].ruleset_id
    raise UsageError(
        f"ruleset '{rid}' has no published version {version}",
        hint=f"Published versions: {', '.join(e.version for e in entries)} (see `qam rulesets history {rid}`).",
    )


def _unknown_ruleset(session: Transaction, ruleset_id: str) -> UsageError:
    known = ", ".join(row.ruleset_id for row in store.latest_entries(session)) or "none yet"
    return UsageError(f"no published ruleset '{ruleset_id}'", hint=f"Published rulesets: {known}.")


def registry_head(database: Database) -> str:
    """The entry hash of the newest entry (GENESIS_HASH when empty): record it in run manifests and
    pass it back to verify(anchors=...) so a cut-off chain tail is caught."""
    with database.session() as session:
        tail = store.chain_tail(session)
        return tail.entry_hash if tail is not None else GENESIS_HASH


def published_rulesets(database: Database, *, as_of: dt.datetime | None = None) -> list[RegistryEntry]:
    """The version of each ruleset in force at ``as_of`` (the latest published at or before it;
    the latest of all when None), by id. Official runs score with these."""
    with database.session() as session:
        rows = store.latest_entries(session, as_of=None if as_of is None else as_utc(as_of))
        return [e for e in map(entry_from_row, rows) if not e.is_document]


def load_published(
    database: Database,
    fields_by_case_type: FieldsByCaseType,
    *,
    as_of: dt.datetime | None = None,
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None = None,
    overrides_source: str = "setting overrides",
    extracts: ExtractDefinitions | None = None,
    catalogue: MeasureCatalogue | None = None,
) -> list[Ruleset]:
    """Compile the published versions in force at ``as_of`` from their stored content, after
    checking each one's hashes; sorted by priority, then id, like load_rulesets.

    Example: load_published(db, fields, setting_overrides=force.setting_overrides)
    """
    entries = published_rulesets(database, as_of=as_of)
    if not entries:
        when = f" by {iso(as_of)}" if as_of is not None else ""
        raise RulesetError(f"no ruleset was published{when}", [], hint="Run `qam rulesets publish` first.")
    tampered = [f"{e.label}: {message}" for e in entries for _, message in entry_problems(e)]
    if tampered:
        raise StorageError(
            "the published rulesets fail their integrity checks; nothing was scored:\n" + "\n".join(tampered),
            hint="Run `qam rulesets verify` and restore the registry from a backup.",
        )
    overrides = dict(setting_overrides or {})
    published_ids = {e.ruleset_id for e in entries}
    problems = [
        Problem(Location(overrides_source), f"settings for unknown ruleset '{rid}'")
        for rid in overrides
        if rid not in published_ids
    ]
    rulesets: list[Ruleset] = []
    for e in entries:
        try:
            rs = ruleset_from_content(
                e.content,
                fields_by_case_type,
                source=f"registry:{e.ruleset_id}@{e.version}",
                setting_overrides={e.ruleset_id: overrides[e.ruleset_id]}
                if e.ruleset_id in overrides
                else None,
                overrides_source=overrides_source,
                extracts=extracts,
                measures=catalogue,
            )
        except RulesetError as exc:
            problems.extend(exc.problems)
            continue
        if rs.sha256 != e.sha256:  # content hashed as stored, but is not canonical: forged, not published
            raise StorageError(
                f"{e.label}: its stored content is not canonical", hint="Run `qam rulesets verify`."
            )
        rulesets.append(rs)
    if problems:
        raise RulesetError(
            f"the published rulesets do not load: {problems_summary(problems, 'ruleset')}",
            problems,
            hint="Publish ruleset versions that match the current QA forms and force settings.",
        )
    return sorted(rulesets, key=lambda r: (r.priority, r.id))
