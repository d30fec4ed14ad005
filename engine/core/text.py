"""Text for people and file names: slugs, short hashes, run times."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata

from engine.core.periods import as_utc


def slug(text: str) -> str:
    """A file-name part: 'Sgt. Ann O'Neil' -> 'sgt-ann-o-neil'; names without Latin letters get a hash."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return out or "r-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def stamp(moment: dt.datetime | None) -> str:
    """'2026-11-23 09:00:00Z': how run times are shown (stored times are UTC)."""
    return "" if moment is None else as_utc(moment).strftime("%Y-%m-%d %H:%M:%SZ")


def short(digest: str | None) -> str:
    """The first 12 hex digits of a hash, as tables show them."""
    return (digest or "")[:12]
