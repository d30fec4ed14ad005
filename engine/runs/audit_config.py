"""The catalogue and extract definitions a run recorded, read back for `qam audit RUN` (issue 17):
each version exactly as the run's manifest names it (id, version, sha256), from the registry after
its integrity checks, or for a draft run from the working tree if the file still has that hash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine import registry
from engine.core.errors import StorageError, UsageError
from engine.core.models import RulesetRef
from engine.core.text import short
from engine.registry.documents import (
    CATALOGUE_ID,
    EXTRACT_PREFIX,
    DocumentPaths,
    catalogue_from_text,
    document_tree,
    extracts_from_texts,
)
from engine.registry.entries import entry_problems
from engine.store.db import Database

#: the manifest keys (engine.runs.manifest.Manifest.to_json)
CATALOGUE_KEY = "catalogue"
EXTRACTS_KEY = "extract_definitions"


def recorded_configuration(
    database: Database, manifest: Mapping[str, Any], documents: DocumentPaths
) -> tuple[registry.RunConfiguration, list[str]]:
    """The run's recorded catalogue and extract definitions, and any notes for the audit report.

    A manifest from before QAM recorded them names none: today's working tree is read, with a note,
    and the configuration stays out of the re-derived run id as it was out of the run's."""
    if CATALOGUE_KEY not in manifest:
        config = registry.run_configuration(None, documents, draft=True)
        note = (
            "The run recorded no catalogue or extract definition versions (it was made before QAM "
            f"recorded them): the working tree's catalogue {config.catalogue.version} was used."
        )
        return registry.RunConfiguration(config.catalogue, config.extracts, ()), [note]
    refs = [RulesetRef.from_json(manifest[CATALOGUE_KEY])]
    refs += [RulesetRef.from_json(r) for r in manifest.get(EXTRACTS_KEY) or []]
    working: dict[tuple[str, str], str] = {}
    if manifest.get("draft"):
        paths = {doc_id: path for doc_id, path, _ in documents.files()}
        for f in document_tree(documents)[0]:
            working[(f.ruleset_id, f.sha256)] = paths[f.ruleset_id].read_text(encoding="utf-8-sig")
    texts: dict[str, str] = {}
    missing: list[str] = []
    for ref in refs:
        if (ref.id, ref.sha256) in working:
            texts[ref.id] = working[(ref.id, ref.sha256)]
            continue
        try:
            entries = registry.history(database, ref.id).entries
        except UsageError:
            entries = ()
        entry = next((e for e in entries if e.version == ref.version and e.sha256 == ref.sha256), None)
        if entry is None:
            where = "the registry or the working tree" if manifest.get("draft") else "the registry"
            missing.append(f"{ref.id} {ref.version} (sha256 {short(ref.sha256)}) is not in {where}")
            continue
        tampered = [message for _, message in entry_problems(entry)]
        if tampered:
            missing.append(f"{entry.label}: " + "; ".join(tampered))
            continue
        texts[ref.id] = entry.source_text
    if missing:
        raise StorageError(
            "the run cannot be re-derived: the catalogue or extract definition versions it recorded are not "
            "available intact:\n" + "\n".join(missing),
            hint="Run `qam rulesets verify`; a published version used by a run must never change or go.",
        )
    cat = refs[0]
    catalogue = catalogue_from_text(texts[cat.id], f"registry:{CATALOGUE_ID}@{cat.version}", cat.sha256)
    pairs = [(r.id[len(EXTRACT_PREFIX) :], texts[r.id]) for r in refs[1:]]
    extracts = extracts_from_texts(pairs, tuple(catalogue.measures))
    return registry.RunConfiguration(catalogue, extracts, tuple(refs)), []
