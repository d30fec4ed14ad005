"""Publishing: every working-tree ruleset, the catalogue and the extract definitions validated,
version-checked and appended to the chain, all or nothing, under the registry's writer lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.core.errors import Location, Problem, RulesetError, UsageError, problems_summary
from engine.core.periods import as_utc
from engine.registry.documents import (
    DOCUMENT_PRIORITY,
    Document,
    DocumentPaths,
    is_document,
    validate_documents,
    working_documents,
)
from engine.registry.entries import (
    GENESIS_HASH,
    FieldsByCaseType,
    RegistryEntry,
    canonical_of_text,
    compute_entry_hash,
    display_path,
    entry_from_row,
    row_from_entry,
    version_key,
)
from engine.rules.ruleset_loader import load_rulesets
from engine.store import registry as store
from engine.store.db import Database, RulesetVersion

RETRY_MESSAGE = (
    "another publisher changed the ruleset registry at the same time; nothing was published. "
    "Run `qam rulesets publish` again (if it fails again, run `qam rulesets verify`)."
)


@dataclass(frozen=True)
class _Snapshot:
    """A validated working-tree ruleset or configuration document as it would be stored."""

    id: str
    version: str
    priority: int
    case_type: str | None
    extract: str | None
    sha256: str
    canonical: str
    source_path: str
    source_text: str

    @classmethod
    def of_document(cls, d: Document) -> _Snapshot:
        return cls(
            d.id,
            d.version,
            DOCUMENT_PRIORITY,
            None,
            None,
            d.sha256,
            d.canonical,
            d.source_path,
            d.source_text,
        )


@dataclass(frozen=True)
class PublishResult:
    """What `qam rulesets publish` did: new entries, and rulesets already published as they are."""

    published: tuple[RegistryEntry, ...]
    unchanged: tuple[RegistryEntry, ...]

    columns = ("ruleset", "version", "status", "sha256", "file")

    @property
    def changed(self) -> bool:
        return bool(self.published)

    def to_table_rows(self) -> list[tuple[str, ...]]:
        rows = [(e.ruleset_id, e.version, "published", e.sha256[:12], e.source_path) for e in self.published]
        rows += [(e.ruleset_id, e.version, "unchanged", e.sha256[:12], e.source_path) for e in self.unchanged]
        return sorted(rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "published": [e.to_json() for e in self.published],
            "unchanged": [e.to_json() for e in self.unchanged],
        }


def publish(
    database: Database,
    rulesets_dir: Path,
    fields_by_case_type: FieldsByCaseType,
    *,
    author: str,
    note: str,
    now: dt.datetime,
    documents: DocumentPaths | None = None,
) -> PublishResult:
    """Snapshot every ruleset under ``rulesets_dir``, and with ``documents`` the catalogue and every
    extract definition, into the registry as immutable versions (`qam rulesets publish` always
    passes them; without, the rulesets are checked against the bundled catalogue and extract
    definitions, which are not published).

    Every file is validated first and every version checked against the registry; on any problem
    nothing is published. Unchanged content is a no-op; changed content needs a higher version.

    Example: publish(db, Path("rulesets"), fields, author="qa.lead", note="SS05 wording", now=now)
    """
    author = author.strip()
    if not author:
        raise UsageError("publishing needs an author", hint="Pass --author NAME.")
    snapshots = _snapshots(rulesets_dir, fields_by_case_type, documents or DocumentPaths())
    if documents is not None:
        snapshots = [_Snapshot.of_document(d) for d in working_documents(documents)] + snapshots
    with store.writer_transaction(database, busy=RETRY_MESSAGE) as session:
        latest = {row.ruleset_id: entry_from_row(row) for row in store.latest_entries(session)}
        new, unchanged = _plan(snapshots, latest)
        entries = _link(new, store.chain_tail(session), author=author, note=note.strip(), now=now)
        store.append_entries(session, [row_from_entry(e) for e in entries])
    return PublishResult(published=tuple(entries), unchanged=tuple(unchanged))


def _snapshots(
    rulesets_dir: Path, fields_by_case_type: FieldsByCaseType, documents: DocumentPaths
) -> list[_Snapshot]:
    """The rulesets, checked against the catalogue and extract definitions published with them."""
    catalogue, extracts = validate_documents(documents)
    rulesets = load_rulesets(rulesets_dir, fields_by_case_type, measures=catalogue, extracts=extracts)
    out: list[_Snapshot] = []
    for rs in sorted(rulesets, key=lambda r: r.id):
        assert rs.path is not None, "load_rulesets always records the file"
        source = display_path(rs.path, rulesets_dir)
        text = rs.path.read_text(encoding="utf-8-sig")
        # the loader read the file a moment ago; what is stored as its source must say the same
        if canonical_of_text(text, source) != rs.canonical:
            raise RulesetError(
                "a ruleset file changed while publishing; nothing was published",
                [Problem(Location(source), "changed while it was being published")],
                hint="Run `qam rulesets publish` again.",
            )
        out.append(
            _Snapshot(
                rs.id,
                rs.version,
                rs.priority,
                rs.case_type,
                rs.extract,
                rs.sha256,
                rs.canonical,
                source,
                text,
            )
        )
    return out


def _plan(
    snapshots: Sequence[_Snapshot], latest: Mapping[str, RegistryEntry]
) -> tuple[list[_Snapshot], list[RegistryEntry]]:
    """(what to publish, what is already published as it is); raises naming every refused file."""
    new: list[_Snapshot] = []
    unchanged: list[RegistryEntry] = []
    problems: list[Problem] = []
    for snap in snapshots:
        rs, where = snap, Location(snap.source_path)
        pub = latest.get(rs.id)
        if rs.priority != DOCUMENT_PRIORITY and is_document(rs.id):
            problems.append(
                Problem(where, f"'{rs.id}' is the registry's name for configuration: rename the ruleset")
            )
        elif pub is None or version_key(rs.version) > version_key(pub.version):
            new.append(snap)
        elif pub.sha256 == rs.sha256:
            unchanged.append(pub)
        elif rs.version == pub.version:
            problems.append(
                Problem(
                    where,
                    f"content changed but version {rs.version} is not higher than the published "
                    f"{pub.version}; raise the version",
                )
            )
        else:
            problems.append(
                Problem(
                    where,
                    f"version {rs.version} is lower than the published {pub.version} (a downgrade is not "
                    f"allowed); give it a version above {pub.version}",
                )
            )
    if problems:
        raise RulesetError(f"{problems_summary(problems, 'ruleset file')}; nothing was published", problems)
    return new, unchanged


def _link(
    snapshots: Sequence[_Snapshot], tail: RulesetVersion | None, *, author: str, note: str, now: dt.datetime
) -> list[RegistryEntry]:
    """New chain entries after ``tail``, in the given order."""
    last_seq, prev = (tail.seq, tail.entry_hash) if tail is not None else (0, GENESIS_HASH)
    entries: list[RegistryEntry] = []
    for seq, snap in enumerate(snapshots, start=last_seq + 1):
        entry = RegistryEntry(
            seq=seq,
            ruleset_id=snap.id,
            version=snap.version,
            priority=snap.priority,
            case_type=snap.case_type,
            extract=snap.extract,
            sha256=snap.sha256,
            source_path=snap.source_path,
            author=author,
            note=note,
            published_at=as_utc(now),
            prev_hash=prev,
            entry_hash="",
            content=snap.canonical,
            source_text=snap.source_text,
        )
        entry = replace(entry, entry_hash=compute_entry_hash(entry))
        entries.append(entry)
        prev = entry.entry_hash
    return entries
