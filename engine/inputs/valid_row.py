"""One validated assessment row (what the repository stores) and the hash of its content."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.models import COMMON_COLUMNS


@dataclass(frozen=True, slots=True)
class ValidRow:
    """One validated, normalised assessment row: what the repository stores."""

    assessment_id: str
    case_type: str
    case_ref: str
    place: str
    team: str
    officer: str
    reviewer: str
    assessed_on: dt.date
    case_date: dt.date
    #: question id -> normalised answer (str, int, or 'YYYY-MM-DD'); blank answers omitted
    answers: Mapping[str, Any]
    #: column -> the submitted value as text, exactly (blank cells as '')
    raw: Mapping[str, str]
    source_file: str
    source_row: int
    content_hash: str
    form_version: str = ""

    def canonical(self) -> dict[str, Any]:
        """The normalised content the hash covers (no source, no raw text)."""
        return canonical_content(
            {c: getattr(self, c) for c in COMMON_COLUMNS},
            self.answers,
        )


def canonical_content(common: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised common columns (dates as ISO text) and answers (blanks dropped), as plain JSON data."""
    out: dict[str, Any] = {}
    for column in COMMON_COLUMNS:
        value = common[column]
        out[column] = value.isoformat() if isinstance(value, dt.date) else value
    out["answers"] = {k: v for k, v in sorted(answers.items()) if v is not None}
    return out


def content_hash(canonical: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON: the same content in any file format or encoding hashes the same."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
