"""The demo's ruleset history: the bundled rulesets, copied into the demo's own rulesets folder, are
published at the start of its weeks; one stricter revision (stop-search-legitimacy 1.1.0) is
published part-way through, so a PEEL rerun --as-of a day before it scores differently."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from engine import registry
from engine.demo.data import DemoPlan
from engine.registry.entries import FieldsByCaseType
from engine.store.db import Database

AUTHOR = "QAM demo"
FIRST_NOTE = "the bundled rulesets, in force from the start of the demo's history"
#: the revision: which ruleset, its new version, why (the publication note)
REVISED_RULESET = "stop-search-legitimacy"
REVISED_FILE = Path("priority4") / "stop-search-legitimacy.yaml"
REVISED_VERSION = "1.1.0"
REVISION_NOTE = (
    "SS02 stricter: the grounds must justify a search for the object recorded (PACE Code A para 2.2)"
)
#: (text of the bundled file, text of the revision): each must occur in the bundled file exactly once
_REVISION = (
    (
        "    text: The recorded grounds were sufficient to justify the search (reasonable grounds)\n",
        "    text: The recorded grounds were sufficient to justify searching for the object recorded\n",
    ),
    (
        "    pass: grounds_reasonable == 'yes'\n",
        "    pass: grounds_reasonable == 'yes' and object_recorded == 'yes'\n",
    ),
)
#: the hour of the morning, UTC, each version is published on its Monday
_PUBLISHED_AT = dt.time(8, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class RulesetHistory:
    """The demo's rulesets folder (what is published last) and when each publication happened."""

    folder: Path
    first_published: dt.datetime
    revised_at: dt.datetime

    @property
    def revised(self) -> str:
        """'stop-search-legitimacy 1.1.0': the revision published at ``revised_at``."""
        return f"{REVISED_RULESET} {REVISED_VERSION}"


def publication_times(plan: DemoPlan) -> tuple[dt.datetime, dt.datetime]:
    """(first publication, the revision): the Mondays of the plan's first and middle weeks, 08:00 UTC."""
    first, middle = plan.weeks[0], plan.weeks[len(plan.weeks) // 2]
    return dt.datetime.combine(first, _PUBLISHED_AT), dt.datetime.combine(middle, _PUBLISHED_AT)


def revised_text(bundled: str) -> str:
    """The revision of the bundled stop-search ruleset's text: SS02 made stricter, version 1.1.0."""
    text, versions = re.subn(r"(?m)^version: .*$", f"version: {REVISED_VERSION}", bundled)
    for old, new in _REVISION:
        if versions != 1 or text.count(old) != 1:
            raise RuntimeError(f"the demo's revision of {REVISED_FILE} no longer fits the bundled file")
        text = text.replace(old, new)
    return text


def publish_history(
    database: Database,
    source: Path,
    folder: Path,
    fields: FieldsByCaseType,
    plan: DemoPlan,
    documents: registry.DocumentPaths | None = None,
) -> RulesetHistory:
    """Copy the rulesets under ``source`` to ``folder`` (replacing it), publish them as at the start
    of the plan, then revise the stop-search ruleset in ``folder`` and publish it as at the plan's
    middle week: ``folder`` ends as the registry's latest, so official runs may use it."""
    first, revised = publication_times(plan)
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(source, folder)
    # the catalogue and extract definitions are published with the first rulesets
    registry.publish(database, folder, fields, author=AUTHOR, note=FIRST_NOTE, now=first, documents=documents)
    path = folder / REVISED_FILE
    path.write_text(revised_text(path.read_text(encoding="utf-8")), encoding="utf-8")
    registry.publish(
        database, folder, fields, author=AUTHOR, note=REVISION_NOTE, now=revised, documents=documents
    )
    return RulesetHistory(folder, first, revised)
