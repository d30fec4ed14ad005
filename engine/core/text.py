"""Text for people, file names and spreadsheets: slugs, short hashes, run times, and text cells made
inert (never read as a formula) in the CSV files QAM writes."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import TypeVar

from engine.core.periods import as_utc

_T = TypeVar("_T")

#: how a cell a spreadsheet reads as a formula starts (OWASP "CSV injection"): = + - @, a tab or a
#: carriage return, and the full-width = + - @ that East Asian input methods type and Excel may take
#: for the ASCII ones
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: the prefix that makes such a cell text: Excel and LibreOffice show what follows it as typed
INERT_PREFIX = "'"


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


def inert_cell(value: _T) -> _T | str:
    """A cell as every CSV QAM writes it: text that a spreadsheet would run as a formula ('=1+1',
    '-2+3', '@SUM(A1)', a leading tab...) gets a leading ', so Excel and LibreOffice show it as text;
    anything else, and any value that is not text (a number, a date, None), is returned unchanged.

    Text that already starts with ' before such a character gets one more, so :func:`typed_cell`
    gives back exactly what was written: ``typed_cell(inert_cell(s)) == s`` for every string.
    Example: ``inert_cell("=HYPERLINK(x)") == "'=HYPERLINK(x)"``; ``inert_cell(-0.5) == -0.5``.
    """
    if isinstance(value, str) and value.lstrip(INERT_PREFIX).startswith(FORMULA_STARTS):
        return INERT_PREFIX + value
    return value


def typed_cell(text: str) -> str:
    """The text :func:`inert_cell` was given: one leading ' taken off a cell it made inert, so a
    CSV QAM wrote (a submission file, a template) reads back as it was. Example: "'=1" -> "=1";
    "'tis" and "'" are kept as they are."""
    if text.startswith(INERT_PREFIX) and text[1:].lstrip(INERT_PREFIX).startswith(FORMULA_STARTS):
        return text[1:]
    return text
