"""Text input files as QAM reads them: UTF-8 only (a bad byte located by row and column, never a
guessed encoding), and no control characters in any value. Submissions, incidents extracts and
worklists share these rules."""

from __future__ import annotations

import csv
import io
import re

from engine.core.errors import Location, Problem

UTF8_BOM = b"\xef\xbb\xbf"
#: how every encoding problem ends: text files are read as UTF-8 only (docs/submissions.md)
SAVE_AS_UTF8 = "save the file as UTF-8 (CSV UTF-8 in Excel)"
#: stands for the first bad byte while the text before it is parsed as CSV, to find its row and column
_BAD_BYTE_MARK = "\ue000"
#: control characters no stored text may hold (tab, line feed and carriage return are text);
#: PostgreSQL cannot store NUL at all, and the others are invisible in every output
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_problem(value: str) -> str | None:
    """Why a text value cannot be stored: it holds a control character (named by its code)."""
    found = CONTROL.search(value)
    if found is None:
        return None
    return (
        f"contains the control character U+{ord(found.group()):04X} at character {found.start() + 1}: "
        "remove it (often left by copying from another system)"
    )


def decode_utf8(data: bytes, source: str, *, delimiter: str | None = None) -> str | Problem:
    """A CSV file's text as UTF-8 (a leading BOM dropped), or the Problem at its first byte that is not.

    No other encoding is guessed: a file that is not UTF-8 would otherwise be decoded whole as
    something else, garbling every accented letter. The problem names the row (the CSV record,
    1-based), the column number and the header's name for it; ``delimiter`` None takes the header
    line's most common of comma, semicolon and tab, as submissions do.
    """
    body = data.removeprefix(UTF8_BOM)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = body[: exc.start].decode("utf-8")
        bad = body[exc.start]
    if delimiter is None:
        first = before.splitlines()[0] if before.strip() else ""
        delimiter = max((",", ";", "\t"), key=first.count) if first.strip() else ","
    message = f"not UTF-8 (byte 0x{bad:02x}): {SAVE_AS_UTF8}"
    try:
        records = list(csv.reader(io.StringIO(before + _BAD_BYTE_MARK, newline=""), delimiter=delimiter))
    except csv.Error:  # a field over the csv module's size limit: the line is still known
        return Problem(Location(source, before.count("\n") + 1), message)
    row, column = len(records), len(records[-1])
    header = next((r for r in records[:-1] if any(v.strip() for v in r)), None)
    name = header[column - 1].strip() if header is not None and column <= len(header) else ""
    return Problem(Location(source, row), f"column {column}{f' ({name})' if name else ''}: {message}")
