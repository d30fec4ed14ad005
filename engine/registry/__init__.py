"""Published ruleset versions: an append-only, hash-chained registry (issue 7).

    entries.py   RegistryEntry, the chain hash, one entry's own integrity, reading ruleset text
    publish.py   the working tree validated, version-checked and appended, all or nothing
    reads.py     list, history, show, the versions in force at a time, loading them for runs
    diff.py      criterion-level differences between two versions
    verify.py    the whole chain recomputed; the working tree compared with the registry

Its queries live in ``engine/store/registry.py``.
"""

from engine.registry.diff import FieldChange, ItemChange, RulesetDiff, diff, diff_contents
from engine.registry.entries import (
    GENESIS_HASH,
    DiscrepancyKind,
    RegistryEntry,
    compute_entry_hash,
    version_key,
)
from engine.registry.publish import RETRY_MESSAGE, PublishResult, publish
from engine.registry.reads import (
    HISTORY_COLUMNS,
    LIST_COLUMNS,
    RegistryListing,
    history,
    list_current,
    load_published,
    published_rulesets,
    registry_head,
    show,
)
from engine.registry.verify import (
    PUBLISH_HINT,
    WORKING_TREE_KINDS,
    Discrepancy,
    VerifyReport,
    require_published,
    unpublished_changes,
    verify,
)

__all__ = [
    "GENESIS_HASH",
    "HISTORY_COLUMNS",
    "LIST_COLUMNS",
    "PUBLISH_HINT",
    "RETRY_MESSAGE",
    "WORKING_TREE_KINDS",
    "Discrepancy",
    "DiscrepancyKind",
    "FieldChange",
    "ItemChange",
    "PublishResult",
    "RegistryEntry",
    "RegistryListing",
    "RulesetDiff",
    "VerifyReport",
    "compute_entry_hash",
    "diff",
    "diff_contents",
    "history",
    "list_current",
    "load_published",
    "publish",
    "published_rulesets",
    "registry_head",
    "require_published",
    "show",
    "unpublished_changes",
    "verify",
    "version_key",
]
