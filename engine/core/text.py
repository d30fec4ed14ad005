"""Text for people, file names and spreadsheets: slugs, short hashes, run times, percentages that
tell different values apart, and text cells made inert (never read as a formula) in the CSV files
QAM writes."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO, TypeVar

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


#: the most decimals a group of percentages gets so that different values read differently
GROUP_DECIMALS = 1
#: the most decimals a value next to 0% or 100% gets so that it does not read as exactly 0% or 100%
EDGE_DECIMALS = 3
_HUNDRED = decimal.Decimal(100)
#: room for every float's digits (1.8e308 as a percentage, with EDGE_DECIMALS), whatever the
#: thread's decimal context says
_EXACT = decimal.Context(prec=400)


def percents(values: Sequence[float]) -> list[str]:
    """Rates (0.975 is 97.5%) as percentages shown together: the fewest decimals, 0 or 1, with which
    different values read differently, the same for all; rounded half up. A value that is not
    exactly 0 or 1 never reads "0%" or "100%": it gets up to 3 decimals, then is rounded away from
    the edge (0.9999999 reads "99.999%"). A value that is not a finite number reads "no data".

    Examples: ``percents([0.98, 0.975]) == ["98.0%", "97.5%"]``; ``percents([0.98, 0.71]) ==
    ["98%", "71%"]``; ``percents([0.9996]) == ["99.96%"]``; ``percents([1.0]) == ["100%"]``.
    """
    exact = [_exact(v) for v in values]
    distinct = {v for v in exact if v is not None}
    places = next(
        (
            d
            for d in range(GROUP_DECIMALS)
            if len({_rounded(v, d, decimal.ROUND_HALF_UP) for v in distinct}) == len(distinct)
        ),
        GROUP_DECIMALS,
    )
    return ["no data" if v is None else f"{_edge_safe(v, places)}%" for v in exact]


def percent(x: float, *others: float) -> str:
    """One rate as a percentage that reads differently from each of ``others`` shown beside it
    (:func:`percents`). Examples: ``percent(0.875) == "88%"``; ``percent(0.98, 0.975) == "98.0%"``;
    ``percent(0.9996) == "99.96%"``."""
    return percents([x, *others])[0]


def _exact(x: float) -> decimal.Decimal | None:
    """x as a percentage, exactly as written (0.285 -> 28.5, not the float's 28.499999...)."""
    if not math.isfinite(x):
        return None
    return _EXACT.multiply(decimal.Decimal(repr(float(x))), _HUNDRED)


def _rounded(v: decimal.Decimal, places: int, rounding: str) -> decimal.Decimal:
    return v.quantize(decimal.Decimal(1).scaleb(-places), rounding=rounding, context=_EXACT)


def _edge_safe(v: decimal.Decimal, places: int) -> str:
    """v rounded half up to ``places`` decimals, or to more (up to EDGE_DECIMALS, then away from the
    edge) when that would read exactly 0 or 100 and v is not."""
    for d in range(places, EDGE_DECIMALS + 1):
        r = _rounded(v, d, decimal.ROUND_HALF_UP)
        if v in (0, _HUNDRED) or r not in (0, _HUNDRED):
            return _plain(r)
    # still 0 or 100: round away from the edge, so that it reads on the side of it where it lies
    away = decimal.ROUND_DOWN if _HUNDRED / 2 <= v < _HUNDRED else decimal.ROUND_UP
    return _plain(_rounded(v, EDGE_DECIMALS, away))


def _plain(r: decimal.Decimal) -> str:
    """A rounded Decimal as written: '97.5', '100', never '1E+2' or '-0'."""
    return f"{r:f}" if r else "0"


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


def inert_refs(refs: Sequence[object]) -> str:
    """Refs (or any values) as one cell, joined by ';', each made inert as :func:`inert_cell` makes a
    cell. Example: ``inert_refs(("SS-1", "=2")) == "SS-1;'=2"``. Joined at once and searched once
    for a formula start after a ';' (a PEEL year's aggregates.csv lists 800,000 refs), each checked
    alone only when one is found."""
    joined = ";".join(map(str, refs))
    if _FORMULA_AFTER_SEPARATOR.search(joined) is None and not joined.lstrip(INERT_PREFIX).startswith(
        FORMULA_STARTS
    ):
        return joined
    return ";".join(str(inert_cell(str(r))) for r in refs)


#: a value of inert_refs' joined cell, after the first, that inert_cell would change: a ';', any
#: INERT_PREFIX, then a formula start
_FORMULA_AFTER_SEPARATOR = re.compile(f";{re.escape(INERT_PREFIX)}*[{re.escape(''.join(FORMULA_STARTS))}]")


def typed_cell(text: str) -> str:
    """The text :func:`inert_cell` was given: one leading ' taken off a cell it made inert, so a
    CSV QAM wrote (a submission file, a template) reads back as it was. Example: "'=1" -> "=1";
    "'tis" and "'" are kept as they are."""
    if text.startswith(INERT_PREFIX) and text[1:].lstrip(INERT_PREFIX).startswith(FORMULA_STARTS):
        return text[1:]
    return text


def csv_block_writer(fh: TextIO) -> Callable[[Sequence[Sequence[object]]], None]:
    """:func:`csv_row_writer` for a block of rows given as its columns (of equal length): the same
    bytes, but a block with no carriage return in any text cell (every block, but for old Mac line
    ends in a note) is written by the csv module in one call instead of a call a row."""
    plain = csv.writer(fh, lineterminator="\n")
    one = csv_row_writer(fh)

    def write(columns: Sequence[Sequence[object]]) -> None:
        rows = zip(*columns, strict=True)
        if any(map(_has_carriage_return, columns)):
            for row in rows:
                one(row)
        else:
            plain.writerows(rows)

    return write


def _has_carriage_return(cells: Sequence[object]) -> bool:
    try:
        return "\r" in "".join(cells)  # type: ignore[arg-type]  # all text: one scan in C
    except TypeError:  # numbers among them
        return any(isinstance(c, str) and "\r" in c for c in cells)


def csv_row_writer(fh: TextIO) -> Callable[[Iterable[object]], None]:
    """How the CSV files QAM writes put down each row: LF line ends, and a row with a carriage return
    in any text cell written with every cell quoted. The csv module quotes a cell only for the line
    end's own characters, so a note holding a lone carriage return (old Mac line ends) was written
    unquoted, and every reader (Excel, pandas, csv) split the row there. Rows without one are written
    as always, byte for byte."""
    plain = csv.writer(fh, lineterminator="\n")
    quoted = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def write(row: Iterable[object]) -> None:
        cells = list(row)
        has_cr = any(isinstance(c, str) and "\r" in c for c in cells)
        (quoted if has_cr else plain).writerow(cells)

    return write
