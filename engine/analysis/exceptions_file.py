"""exceptions.json: a period's performance exceptions written as docs/outputs.md describes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from engine.analysis.findings import sort_exceptions
from engine.core.errors import ReportError
from engine.core.models import PerformanceException, RulesetRef


def write_exceptions_json(
    period_from: date | str,
    period_to: date | str,
    label: str,
    rulesets: Iterable[RulesetRef],
    exceptions: Iterable[PerformanceException],
    path: str | Path,
    run_id: str | None = None,
    team_exceptions: Iterable[PerformanceException] | None = None,
) -> None:
    """Write ``exceptions.json`` exactly as docs/outputs.md describes, deterministically.

    Rulesets and exceptions are sorted, keys keep the
    contract's order, "team_exceptions" (each entry the contract's keys plus "team", after "place")
    and "run_id" are added at the top level only when given; UTF-8, indent 2, trailing newline,
    replaced atomically. ReportError when it cannot be written.
    """
    doc: dict[str, Any] = {
        "period": {"from": str(period_from), "to": str(period_to), "label": label},
        "rulesets": [r.to_json() for r in sorted(set(rulesets))],
        "exceptions": [e.to_json() for e in sort_exceptions(exceptions)],
    }
    if team_exceptions is not None:
        doc["team_exceptions"] = [team_entry(e) for e in sort_exceptions(team_exceptions)]
    if run_id is not None:
        doc["run_id"] = run_id
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc


def team_entry(e: PerformanceException) -> dict[str, object]:
    """A "team_exceptions" entry: the exceptions.json entry with "team" after "place"."""
    entry = e.to_json()
    return {"place": entry.pop("place"), "team": e.team, **entry}
