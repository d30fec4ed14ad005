"""Published ruleset versions, and the catalogue and extract definitions beside them: an
append-only, hash-chained registry (issues 7 and 17).

    documents.py the catalogue and extract definitions as registry documents (ids catalogue, extracts/<id>)
    configuration.py  the catalogue and extract definitions a run uses (published, or the working tree's)
    entries.py   RegistryEntry, the chain hash, one entry's own integrity, reading ruleset text
    publish.py   the working tree validated, version-checked and appended, all or nothing
    reads.py     list, history, show, the versions in force at a time, loading them for runs
    diff.py      criterion-level differences between two versions
    verify.py    the whole chain recomputed; the working tree compared with the registry

Its queries live in ``engine/store/registry.py``.
"""

from engine.registry.configuration import RunConfiguration, published_documents, run_configuration
from engine.registry.diff import FieldChange, ItemChange, RulesetDiff, diff, diff_contents
from engine.registry.documents import CATALOGUE_ID, DocumentPaths, is_document
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
    "CATALOGUE_ID",
    "DocumentPaths",
    "RunConfiguration",
    "is_document",
    "published_documents",
    "run_configuration",
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
