"""Registry entries: the chain hash, each entry's own integrity, and reading ruleset text (phase 1).
Besides rulesets, the chain holds the configuration documents (registry.documents): the catalogue
and the extract definitions.

An entry's hash covers every field but its own and, through ``prev_hash``, the entry before it;
its content enters through ``sha256``, which is taken over the canonical JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from engine.core.errors import EngineError, Location, Problem
from engine.core.models import FieldSpec
from engine.core.periods import as_utc
from engine.core.shape import ShapeChecker
from engine.core.yamlio import load_yaml, parse_yaml
from engine.registry.documents import (
    DOCUMENT_PRIORITY,
    DocumentPaths,
    canonical_document,
    content_problems,
    document_kind,
    document_tree,
    is_document,
)

# _ruleset_files: the loader's own file discovery, so verify sees exactly the files publish reads
from engine.rules.ruleset_loader import _ruleset_files
from engine.rules.ruleset_yaml import parse_ruleset
from engine.rules.rulesets import canonical_content, content_sha256
from engine.store.db import RulesetVersion

# GENESIS_HASH: the prev_hash of the chain's first entry, as for the assessments' chain
from engine.store.integrity import GENESIS_HASH as GENESIS_HASH

_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")

FieldsByCaseType = Mapping[str, Mapping[str, FieldSpec]]


@dataclass(frozen=True)
class RegistryEntry:
    """One published, immutable ruleset version: one link of the hash chain (a ruleset_versions row)."""

    seq: int
    ruleset_id: str
    version: str
    priority: int
    case_type: str | None
    extract: str | None
    sha256: str
    source_path: str
    author: str
    note: str
    published_at: dt.datetime  # aware, UTC
    prev_hash: str
    entry_hash: str
    content: str = dataclasses.field(repr=False)  # canonical JSON, what sha256 is taken over
    source_text: str = dataclasses.field(repr=False)  # the YAML file exactly as published

    @property
    def applies_to(self) -> str:
        if self.is_document:
            return document_kind(self.ruleset_id)
        return self.case_type or f"extract:{self.extract}"

    @property
    def is_document(self) -> bool:
        """The catalogue or an extract definition, not a ruleset (registry.documents)."""
        return self.priority == DOCUMENT_PRIORITY and is_document(self.ruleset_id)

    @property
    def label(self) -> str:
        """'seq 4 (stop-search-legitimacy 1.1.0)': how messages name an entry."""
        return f"seq {self.seq} ({self.ruleset_id} {self.version})"

    def to_json(self, *, with_source: bool = False) -> dict[str, Any]:
        out = _chain_fields(self) | {"entry_hash": self.entry_hash}
        if with_source:
            out["source_text"] = self.source_text
        return out

    def metadata_rows(self) -> list[tuple[str, str]]:
        """(label, value) lines `qam rulesets show` prints above the source text."""
        return [
            ("ruleset", self.ruleset_id),
            ("version", self.version),
            ("priority", str(self.priority)),
            ("applies to", self.applies_to),
            ("file", self.source_path),
            ("published", iso(self.published_at)),
            ("author", self.author),
            ("note", self.note),
            ("sha256", self.sha256),
            ("entry hash", self.entry_hash),
            ("seq", str(self.seq)),
        ]


_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(RegistryEntry))
#: what the entry hash covers: everything but the hash itself and the texts sha256 stands for
_CHAIN_FIELDS = tuple(f for f in _ENTRY_FIELDS if f not in ("entry_hash", "content", "source_text"))


def iso(moment: dt.datetime) -> str:
    return as_utc(moment).isoformat(timespec="microseconds")


def _chain_fields(entry: RegistryEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _CHAIN_FIELDS} | {"published_at": iso(entry.published_at)}


def compute_entry_hash(entry: RegistryEntry) -> str:
    """sha256 over the canonical JSON of every field of the entry but its own hash and texts."""
    text = json.dumps(_chain_fields(entry), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_from_row(row: RulesetVersion) -> RegistryEntry:
    values = {name: getattr(row, name) for name in _ENTRY_FIELDS}
    return RegistryEntry(**values | {"published_at": as_utc(row.published_at)})


def row_from_entry(entry: RegistryEntry) -> RulesetVersion:
    return RulesetVersion(**{name: getattr(entry, name) for name in _ENTRY_FIELDS})


def version_key(version: str) -> tuple[int, int, int]:
    """'1.10.0' -> (1, 10, 0) for ordering semantic versions; (-1, -1, -1) if it is not x.y.z."""
    m = _SEMVER.fullmatch(version)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (-1, -1, -1)


class DiscrepancyKind(StrEnum):
    """What `qam rulesets verify` can find."""

    #: stored content or source text no longer matches the recorded sha256
    TAMPERED_CONTENT = "tampered_content"
    #: an entry's fields no longer hash to its entry_hash, or disagree with its content
    TAMPERED_ENTRY = "tampered_entry"
    #: prev_hash does not link to the entry before, or versions run backwards (reordering)
    BROKEN_CHAIN = "broken_chain"
    #: a gap in seq, or official scores made with a version the registry does not hold (deletion)
    MISSING_ENTRY = "missing_entry"
    #: entries after the last head a publication recorded: written to the table by hand
    UNRECORDED_ENTRY = "unrecorded_entry"
    #: a working-tree file whose content differs from the latest published version
    UNPUBLISHED_EDIT = "unpublished_edit"
    #: a working-tree ruleset that was never published
    UNPUBLISHED_FILE = "unpublished_file"
    #: a published ruleset with no file in the working tree
    MISSING_FILE = "missing_file"
    #: a working-tree file that cannot be read as a ruleset (so it cannot be published either)
    INVALID_FILE = "invalid_file"


def entry_problems(e: RegistryEntry) -> list[tuple[DiscrepancyKind, str]]:
    """The integrity of one entry on its own: its hash, its content hash, its source text."""
    out: list[tuple[DiscrepancyKind, str]] = []
    if compute_entry_hash(e) != e.entry_hash:
        out.append(
            (
                DiscrepancyKind.TAMPERED_ENTRY,
                "entry hash does not recompute: its seq, version, author, note, time or another field was edited",
            )
        )
    if content_sha256(e.content) != e.sha256:
        out.append(
            (
                DiscrepancyKind.TAMPERED_CONTENT,
                f"stored content no longer hashes to its sha256 {e.sha256[:12]}: the ruleset was edited in the "
                "database",
            )
        )
        return out
    if is_document(e.ruleset_id) or e.priority == DOCUMENT_PRIORITY:
        return out + _document_problems(e)
    data = json.loads(e.content)
    columns = {"ruleset": e.ruleset_id, "version": e.version, "priority": e.priority}
    columns |= {"case_type": e.case_type, "extract": e.extract}
    for key, value in columns.items():
        if data.get(key) != value:
            out.append(
                (
                    DiscrepancyKind.TAMPERED_ENTRY,
                    f"column {key} says {value!r} but its content says {data.get(key)!r}",
                )
            )
    if canonical_of_text(e.source_text, e.source_path) != e.content:
        out.append(
            (
                DiscrepancyKind.TAMPERED_CONTENT,
                "stored source text no longer matches the published content: it was edited in the database",
            )
        )
    return out


def _document_problems(e: RegistryEntry) -> list[tuple[DiscrepancyKind, str]]:
    """A catalogue or extract definition entry: its columns against its content and source text."""
    if not is_document(e.ruleset_id) or e.priority != DOCUMENT_PRIORITY or e.case_type or e.extract:
        return [
            (
                DiscrepancyKind.TAMPERED_ENTRY,
                f"its id {e.ruleset_id!r}, priority {e.priority}, case type and extract do not describe a "
                "ruleset nor a configuration document",
            )
        ]
    out = [(DiscrepancyKind.TAMPERED_ENTRY, m) for m in content_problems(e.ruleset_id, e.version, e.content)]
    if canonical_document(e.source_text, e.source_path) != e.content:
        out.append(
            (
                DiscrepancyKind.TAMPERED_CONTENT,
                "stored source text no longer matches the published content: it was edited in the database",
            )
        )
    return out


def display_path(path: Path, rulesets_dir: Path) -> str:
    """'rulesets/priority4/stop-search.yaml': the folder's own name and the path below it."""
    try:
        below = path.resolve().relative_to(rulesets_dir.resolve())
    except ValueError:
        return path.as_posix()
    return f"{rulesets_dir.resolve().name}/{below.as_posix()}"


def canonical_of_text(text: str, source_path: str) -> str | None:
    """The canonical content of ruleset YAML text as if read from ``source_path``; None if invalid."""
    try:
        data = parse_yaml(text, source_path)
    except EngineError:
        return None
    # shape problems do not matter here: a later, stricter QAM must not call old published texts forged
    spec = parse_ruleset(data, source_path, Path(source_path), ShapeChecker(source_path, []))
    return canonical_content(spec.content) if spec is not None else None


@dataclass(frozen=True)
class WorkingFile:
    """A ruleset file in the working tree, read as far as publishing would need (no QA forms)."""

    source: str  # 'rulesets/priority4/x.yaml'
    ruleset_id: str
    version: str
    sha256: str


def working_tree(
    rulesets_dir: Path, documents: DocumentPaths | None = None
) -> tuple[list[WorkingFile], list[Problem], int]:
    """Every ruleset file that reads cleanly (phase 1), the problems of the rest, and the file count;
    with ``documents``, the catalogue and extract definitions too (validated in full)."""
    problems: list[Problem] = []
    found: list[WorkingFile] = []
    count = 0
    if documents is not None:
        docs, problems, count = document_tree(documents)
        found = [WorkingFile(d.source, d.ruleset_id, d.version, d.sha256) for d in docs]
    files = _ruleset_files(rulesets_dir, problems)
    seen: dict[str, str] = {}
    for path in files:
        source = display_path(path, rulesets_dir)
        before = len(problems)
        try:
            spec = parse_ruleset(load_yaml(path), source, path, ShapeChecker(source, problems))
        except EngineError as exc:
            problems.append(
                Problem(Location(source, exc.location.line if exc.location else None), exc.message)
            )
            continue
        if spec is None or spec.id is None or len(problems) > before:
            continue
        if spec.id in seen:
            problems.append(
                Problem(Location(source), f"ruleset id '{spec.id}' is already used by {seen[spec.id]}")
            )
            continue
        seen[spec.id] = source
        found.append(
            WorkingFile(source, spec.id, spec.version, content_sha256(canonical_content(spec.content)))
        )
    return found, problems, len(files) + count
