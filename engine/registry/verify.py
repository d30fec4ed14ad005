"""Verification: recompute every hash and link of the registry, and compare the working tree's
ruleset files with the latest published versions (what official runs refuse to ignore)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import Location, Problem, RulesetError, UsageError
from engine.core.text import stamp
from engine.registry.documents import DocumentPaths, is_document
from engine.registry.entries import (
    GENESIS_HASH,
    DiscrepancyKind,
    RegistryEntry,
    entry_from_row,
    entry_problems,
    version_key,
    working_tree,
)
from engine.store import integrity, runs
from engine.store import registry as store
from engine.store.db import Database

#: what to do about an official run's refusal (its last line)
PUBLISH_HINT = (
    "Publish the changes (`qam rulesets publish`), point QAM_RULESETS=<folder> at the rulesets this "
    "database publishes from, or use --draft for a dry run."
)

#: the kinds that concern the working tree, not the stored registry
WORKING_TREE_KINDS = frozenset(
    {
        DiscrepancyKind.UNPUBLISHED_EDIT,
        DiscrepancyKind.UNPUBLISHED_FILE,
        DiscrepancyKind.MISSING_FILE,
        DiscrepancyKind.INVALID_FILE,
    }
)


@dataclass(frozen=True)
class Discrepancy:
    """One thing verify found: what, where (a chain entry or a file) and a sentence for people."""

    kind: DiscrepancyKind
    where: str
    message: str
    ruleset_id: str | None = None
    seq: int | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "where": self.where,
            "message": self.message,
            "ruleset_id": self.ruleset_id,
            "seq": self.seq,
        }


@dataclass(frozen=True)
class VerifyReport:
    """Everything `qam rulesets verify` checked and every discrepancy it found."""

    entries_checked: int
    files_checked: int
    discrepancies: tuple[Discrepancy, ...]
    head_hash: str  # entry_hash of the last entry (GENESIS_HASH for an empty registry)
    head_seq: int = 0  # its seq (0 for an empty registry)

    columns = ("kind", "where", "problem")

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    @property
    def tampered(self) -> bool:
        """True when the stored registry itself is off (not only the working tree)."""
        return any(d.kind not in WORKING_TREE_KINDS for d in self.discrepancies)

    @property
    def summary(self) -> str:
        n, entries, files = len(self.discrepancies), self.entries_checked, self.files_checked
        found = "no discrepancies" if n == 0 else f"{n} discrepanc{'y' if n == 1 else 'ies'}"
        return (
            f"checked {entries} registry entr{'y' if entries == 1 else 'ies'} "
            f"and {files} ruleset file{'' if files == 1 else 's'}: {found}"
        )

    @property
    def head(self) -> str:
        """'SEQ:ENTRY_HASH' of the newest entry: kept outside the database and given back to
        ``verify --head``, it shows any later rewrite or deletion of the entries up to it."""
        return f"{self.head_seq}:{self.head_hash}"

    def to_table_rows(self) -> list[tuple[str, str, str]]:
        return [(d.kind.value, d.where, d.message) for d in self.discrepancies]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "files_checked": self.files_checked,
            "head_hash": self.head_hash,
            "discrepancies": [d.to_json() for d in self.discrepancies],
        }


def verify(
    database: Database,
    rulesets_dir: Path,
    *,
    anchors: Collection[str] = (),
    documents: DocumentPaths | None = None,
) -> VerifyReport:
    """Recompute every hash and link of the registry, and compare the working tree's ruleset files
    with the latest published versions; ``report.ok`` is False when anything is off.

    Registry heads recorded apart from the chain must each still be in it, which catches the one
    edit the chain cannot show by itself, its newest entries cut off: the head recorded at each
    publication (chain_heads), the head each run recorded in its manifest, and ``anchors`` (heads
    kept outside the database: a run manifest's registry_head, or SEQ:ENTRY_HASH from an earlier
    `qam rulesets verify`). Entries after the last head a publication recorded were added by hand,
    however well they link (UNRECORDED_ENTRY).

    Example: report = verify(db, Path("rulesets")); print(report.summary)
    """
    given = [parse_head(anchor) for anchor in anchors]
    # the runs' heads first: a run commits a head only of entries already published
    heads: dict[str, list[str]] = {}
    for _, anchor in given:
        heads.setdefault(anchor, []).append("given to verify")
    for anchor in runs.recorded_registry_heads(database):
        heads.setdefault(anchor, []).append("recorded by a run")
    with database.session() as session:
        # the heads publications recorded and the chain as one state: a publication committing between
        # the two reads would otherwise look like a cut-off chain or an entry added by hand
        integrity.snapshot(session)
        published = store.published_heads(session)
        for head, at in published:
            heads.setdefault(head.hash, []).append(
                f"recorded when seq {head.position} was published ({stamp(at)})"
            )
        entries = [entry_from_row(row) for row in store.chain(session)]
        scored = store.scored_versions(session)
    found = _check_chain(entries)
    found += _unrecorded(entries, published[-1][0].position if published else None)
    held = {(e.ruleset_id, e.version, e.sha256) for e in entries}
    for rid, version, sha in scored:
        if (rid, version, sha) not in held:
            found.append(
                Discrepancy(
                    DiscrepancyKind.MISSING_ENTRY,
                    f"{rid} {version}",
                    f"official scores were made with this version (sha256 {sha[:12]}) but the registry does "
                    "not hold it: a published version was deleted or altered",
                    ruleset_id=rid,
                )
            )
    hashes = {e.entry_hash for e in entries}
    found += [
        Discrepancy(
            DiscrepancyKind.MISSING_ENTRY,
            f"head {anchor[:12]}",
            f"the registry head {' and '.join(sources)} is no longer in the chain: entries were deleted "
            "or rewritten",
        )
        for anchor, sources in heads.items()
        if anchor != GENESIS_HASH and anchor not in hashes
    ]
    latest = {e.ruleset_id: e for e in entries}  # seq order: the last one of each id wins
    tree, files_checked = _compare_working_tree(rulesets_dir, latest, documents)
    return VerifyReport(
        entries_checked=len(entries),
        files_checked=files_checked,
        discrepancies=tuple(found + tree),
        head_hash=entries[-1].entry_hash if entries else GENESIS_HASH,
        head_seq=entries[-1].seq if entries else 0,
    )


def parse_head(text: str) -> tuple[int | None, str]:
    """A registry head given to verify: 'ENTRY_HASH' (as a run's manifest records it, registry_head)
    or 'SEQ:ENTRY_HASH' (as verify prints it); UsageError when it is neither. The entry hash covers
    the seq, so it alone is looked for in the chain."""
    seq, _, digest = text.strip().rpartition(":")
    if not (
        len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) and (seq == "" or seq.isdigit())
    ):
        raise UsageError(
            f"invalid registry head '{text}': give the entry hash a run's manifest records (registry_head, "
            "64 hexadecimal digits) or SEQ:ENTRY_HASH as `qam rulesets verify` prints it"
        )
    return (int(seq) if seq else None), digest


def _unrecorded(entries: Sequence[RegistryEntry], last_recorded: int | None) -> list[Discrepancy]:
    """Entries after the last head a publication recorded (chain_heads): every publication records
    its head in the same transaction, so a later entry, however well it links, was written by hand."""
    after = [e for e in entries if e.seq > (last_recorded or 0)]
    if not after:
        return []
    since = (
        f"the last head recorded by a publication (seq {last_recorded})"
        if last_recorded
        else "no head recorded"
    )
    return [
        Discrepancy(
            DiscrepancyKind.UNRECORDED_ENTRY,
            e.label,
            f"comes after {since}: it was written to the database by hand, not by qam rulesets publish",
            ruleset_id=e.ruleset_id,
            seq=e.seq,
        )
        for e in after
    ]


def _check_chain(entries: Sequence[RegistryEntry]) -> list[Discrepancy]:
    """Links, gaps, hashes and version order of the whole chain, in seq order."""
    found: list[Discrepancy] = []
    expected_seq, expected_prev = 1, GENESIS_HASH
    newest: dict[str, RegistryEntry] = {}

    def add(kind: DiscrepancyKind, entry: RegistryEntry, message: str) -> None:
        found.append(Discrepancy(kind, entry.label, message, ruleset_id=entry.ruleset_id, seq=entry.seq))

    for e in entries:
        if e.seq != expected_seq:
            gap = str(expected_seq) if e.seq == expected_seq + 1 else f"{expected_seq}-{e.seq - 1}"
            add(
                DiscrepancyKind.MISSING_ENTRY,
                e,
                f"entry seq {gap} before this one is missing: a published version was deleted",
            )
        if e.prev_hash != expected_prev:
            add(
                DiscrepancyKind.BROKEN_CHAIN,
                e,
                f"its prev_hash {e.prev_hash[:12]} is not the hash of the entry before it "
                f"({expected_prev[:12]}): entries were deleted, reordered or rewritten",
            )
        for kind, message in entry_problems(e):
            add(kind, e, message)
        before = newest.get(e.ruleset_id)
        if before is not None and version_key(e.version) <= version_key(before.version):
            add(
                DiscrepancyKind.BROKEN_CHAIN,
                e,
                f"version {e.version} comes after {before.version} (seq {before.seq}) in the chain: "
                "entries were reordered",
            )
        newest[e.ruleset_id] = e
        expected_seq, expected_prev = e.seq + 1, e.entry_hash
    return found


def _compare_working_tree(
    rulesets_dir: Path, latest: Mapping[str, RegistryEntry], documents: DocumentPaths | None = None
) -> tuple[list[Discrepancy], int]:
    """Working-tree files against the latest published versions; and how many files were read.
    The catalogue and extract definitions (registry.documents) are compared when ``documents`` says
    where they are."""
    files, problems, count = working_tree(rulesets_dir, documents)
    found = [
        Discrepancy(DiscrepancyKind.INVALID_FILE, str(p.location), f"cannot be published: {p.message}")
        for p in problems
    ]
    for f in files:
        pub = latest.get(f.ruleset_id)
        if pub is None:
            kind, message = (
                DiscrepancyKind.UNPUBLISHED_FILE,
                f"ruleset {f.ruleset_id} {f.version} was never published",
            )
        elif f.sha256 != pub.sha256:
            kind = DiscrepancyKind.UNPUBLISHED_EDIT
            then = (
                f"version {f.version} is not published yet"
                if version_key(f.version) > version_key(pub.version)
                else f"raise its version above {pub.version} to publish it"
            )
            message = (
                f"has unpublished edits: differs from the published {f.ruleset_id} {pub.version} ({then})"
            )
        else:
            continue
        found.append(Discrepancy(kind, f.source, message, ruleset_id=f.ruleset_id))
    in_tree = {f.ruleset_id for f in files}
    found += [
        Discrepancy(
            DiscrepancyKind.MISSING_FILE,
            pub.source_path,
            f"published ruleset {rid} {pub.version} has no file in the working tree",
            ruleset_id=rid,
        )
        for rid, pub in latest.items()
        if rid not in in_tree and (documents is not None or not is_document(rid))
    ]
    return found, count


def unpublished_changes(
    database: Database, rulesets_dir: Path, documents: DocumentPaths | None = None
) -> list[Discrepancy]:
    """Working-tree differences from the registry (edited, new, invalid or deleted ruleset files):
    an official run refuses to start while there are any.

    Example: [str(d) for d in unpublished_changes(db, Path("rulesets"))]
    """
    with database.session() as session:
        latest = {row.ruleset_id: entry_from_row(row) for row in store.latest_entries(session)}
    found, _ = _compare_working_tree(rulesets_dir, latest, documents)
    return found


def require_published(database: Database, rulesets_dir: Path, documents: DocumentPaths | None = None) -> None:
    """Raise RulesetError naming every file with unpublished changes (for official runs), the folder
    read, the database compared with, and the ways forward."""
    found = unpublished_changes(database, rulesets_dir, documents)
    if found:
        problems = [Problem(Location(d.where), d.message) for d in found]
        n = len(problems)
        compared = (
            f"Official runs compare the rulesets folder {rulesets_dir.resolve()} with what the database "
            f"{database.display_url} published, and refuse while they differ."
        )
        raise RulesetError(
            f"{n} ruleset change{'s are' if n != 1 else ' is'} not published; official runs use published "
            "rulesets only",
            problems,
            hint=f"{compared}\n{PUBLISH_HINT}",
        )
