"""The catalogue and extract definitions a run uses (issue 17): the working tree's for a draft run;
for an official run the published versions in force at its as-of time (the latest when none), read
from the registry after checking their hashes, so a rerun says what the briefings said then."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import RulesetError, StorageError
from engine.core.models import RulesetRef
from engine.core.periods import as_utc
from engine.core.yamlio import load_yaml
from engine.inputs.extract_definitions import ExtractDefinitions
from engine.registry.documents import (
    CATALOGUE_ID,
    EXTRACT_PREFIX,
    DocumentPaths,
    catalogue_from_text,
    extracts_from_texts,
    validate_documents,
)
from engine.registry.entries import RegistryEntry, entry_from_row, entry_problems
from engine.rules.catalogue import MeasureCatalogue
from engine.rules.rulesets import canonical_content, content_sha256
from engine.store import registry as store
from engine.store.db import Database


@dataclass(frozen=True)
class RunConfiguration:
    """A run's catalogue and extract definitions, and their versions as its manifest records them."""

    catalogue: MeasureCatalogue
    extracts: ExtractDefinitions
    #: the catalogue first, then each extract definition by id: (id, version, sha256)
    refs: tuple[RulesetRef, ...]


def run_configuration(
    database: Database | None, paths: DocumentPaths, *, draft: bool, as_of: dt.datetime | None = None
) -> RunConfiguration:
    """The working tree's documents for a draft run (or without a database); else the published
    ones in force at ``as_of`` (the latest when None; when the catalogue was first published after
    ``as_of``, that first version: the earliest the registry knows). RulesetError when nothing was
    published, StorageError when a published document fails its integrity checks."""
    if draft or database is None:
        catalogue, extracts = validate_documents(paths)
        refs = [RulesetRef(CATALOGUE_ID, catalogue.version, catalogue.sha256)]
        refs += [
            RulesetRef(
                f"{EXTRACT_PREFIX}{e.id}",
                e.version,
                content_sha256(canonical_content(load_yaml(Path(e.path)))),
            )
            for e in sorted(extracts.extracts.values(), key=lambda e: e.id)
        ]
        return RunConfiguration(catalogue, extracts, tuple(refs))
    entries = published_documents(database, as_of=as_of)
    cat = next((e for e in entries if e.ruleset_id == CATALOGUE_ID), None)
    if cat is None:
        raise RulesetError(
            "no catalogue was published",
            [],
            hint="Run `qam rulesets publish`: it publishes the catalogue and the extract definitions "
            "with the rulesets.",
        )
    tampered = [f"{e.label}: {message}" for e in entries for _, message in entry_problems(e)]
    if tampered:
        raise StorageError(
            "the published catalogue or extract definitions fail their integrity checks:\n"
            + "\n".join(tampered),
            hint="Run `qam rulesets verify` and restore the registry from a backup.",
        )
    catalogue = catalogue_from_text(cat.source_text, f"registry:{cat.ruleset_id}@{cat.version}", cat.sha256)
    defs = [e for e in entries if e.ruleset_id.startswith(EXTRACT_PREFIX)]
    texts = [(e.ruleset_id[len(EXTRACT_PREFIX) :], e.source_text) for e in defs]
    extracts = extracts_from_texts(texts, tuple(catalogue.measures))
    return RunConfiguration(
        catalogue, extracts, tuple(RulesetRef(e.ruleset_id, e.version, e.sha256) for e in [cat, *defs])
    )


def published_documents(database: Database, *, as_of: dt.datetime | None = None) -> list[RegistryEntry]:
    """The version of each document in force at ``as_of`` (the latest when None); a document first
    published after ``as_of`` is taken at its first version. By id, the catalogue first."""
    with database.session() as session:
        at = None if as_of is None else as_utc(as_of)
        then = {e.ruleset_id: e for e in map(entry_from_row, store.latest_entries(session, as_of=at))}
        first: dict[str, RegistryEntry] = {}
        for e in map(entry_from_row, store.chain(session)):
            if e.is_document:
                first.setdefault(e.ruleset_id, e)
    chosen = {rid: then.get(rid, e) for rid, e in first.items()}
    return sorted(chosen.values(), key=lambda e: (e.ruleset_id != CATALOGUE_ID, e.ruleset_id))
