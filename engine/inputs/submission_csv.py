"""Reading a CSV submission a record at a time (issue 20: a 196 MB file was read whole, with every
row kept, 9.7 GB). The file is read twice as a stream: once to check that it is UTF-8 (or UTF-16
with its byte order mark) and whether any control character occurs, then parsed record by record,
so memory does not grow with the file. Problems go to the caller's list with their row and column.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from engine.core.errors import Location, Problem
from engine.core.text import typed_cell
from engine.inputs.limits import MAX_CELL_CHARACTERS, MAX_COLUMNS, MAX_LINE_CHARACTERS, too_long, too_wide
from engine.inputs.text_input import CONTROL, SAVE_AS_UTF8, UTF8_BOM, control_problem

#: bytes read at a time while checking the encoding
_CHUNK = 2**20
#: a control character, or a byte that was not UTF-8 (decoded as a lone surrogate, surrogateescape)
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\udc80-\udcff]")
_BAD_BYTE = re.compile("[\udc80-\udcff]")
# Spreadsheet answers repeat endlessly ("yes", "no", place codes): share one string object per value.
# Bounded, because unique values (ids, references) would only fill the table.
_INTERN_MAX_LENGTH = 24
_INTERN_MAX_VALUES = 5000


@dataclass(frozen=True, slots=True)
class _Scan:
    """What the encoding check found: the first byte that is not text, and any control character."""

    #: the first bad byte's value and 1-based physical line, if there is one
    bad_byte: int | None = None
    bad_line: int = 0
    controls: bool = False


class CsvRecords:
    """The records of one CSV file as (row number, cells), the row number counting every record
    (the header is 1); each cell as written, but for the prefix QAM's own writers add (core.text)."""

    def __init__(self, path: Path, head: bytes, problems: list[Problem]) -> None:
        self.path = path
        self.source = str(path)
        self.problems = problems
        self.utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
        #: the header's cells, as written (trimmed, lower case) once read
        self.header: list[str] = []
        self._dirty = False
        self._line = 0

    def _add(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(Location(self.source, row, column), message))

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        scan = self._scan()
        if scan is None:
            return
        if scan.bad_byte is not None:
            self._locate_bad_byte(scan)
            return
        try:
            with self._open() as fh:
                yield from self._parse(fh, scan.controls)
        except OSError as exc:  # gone or unreadable since it was checked
            self._add(f"cannot read file: {exc.strerror or exc}")

    # ---- the encoding check

    def _scan(self) -> _Scan | None:
        """UTF-16 (by its byte order mark) or UTF-8 throughout, a chunk at a time; None when the file
        cannot be read or is not valid UTF-16 (the problem is added)."""
        try:
            with self.path.open("rb") as fh:
                return self._scan_utf16(fh) if self.utf16 else self._scan_utf8(fh)
        except OSError as exc:
            self._add(f"cannot read file: {exc.strerror or exc}")
            return None

    def _scan_utf16(self, fh: io.BufferedReader) -> _Scan | None:
        decoder = codecs.getincrementaldecoder("utf-16")("strict")
        controls = False
        try:
            # every chunk decoded, also after a control character is found: the whole file is checked
            while chunk := fh.read(_CHUNK):
                text = decoder.decode(chunk)
                controls = controls or CONTROL.search(text) is not None
            text = decoder.decode(b"", final=True)
            controls = controls or CONTROL.search(text) is not None
        except UnicodeError:
            self._add(f"not valid UTF-16 despite its byte order mark: {SAVE_AS_UTF8}")
            return None
        return _Scan(controls=controls)

    def _scan_utf8(self, fh: io.BufferedReader) -> _Scan:
        carry = fh.read(len(UTF8_BOM)).removeprefix(UTF8_BOM)
        controls, lines = False, 0
        while True:
            chunk = fh.read(_CHUNK)
            data, carry = carry + chunk, b""
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if chunk and exc.reason == "unexpected end of data":  # a character cut by the chunk
                    data, carry = data[: exc.start], data[exc.start :]
                    text = data.decode("utf-8")
                else:
                    before = data[: exc.start]
                    return _Scan(data[exc.start], lines + before.count(b"\n") + 1)
            controls = controls or CONTROL.search(text) is not None
            lines += data.count(b"\n")
            if not chunk:
                return _Scan(controls=controls)

    def _open(self) -> TextIO:
        # surrogateescape: a byte that is not UTF-8 reads as a lone surrogate, so it can be located
        encoding = "utf-16" if self.utf16 else "utf-8-sig"
        return open(self.path, encoding=encoding, errors="surrogateescape", newline="")  # noqa: SIM115

    def _locate_bad_byte(self, scan: _Scan) -> None:
        """The one problem of a file that is not UTF-8: its first bad byte, by CSV row, column number
        and the header's name for it (by line when the CSV cannot be parsed up to it)."""
        assert scan.bad_byte is not None
        message = f"not UTF-8 (byte 0x{scan.bad_byte:02x}): {SAVE_AS_UTF8}"
        header: list[str] | None = None
        try:
            with self._open() as fh:
                first = fh.readline(MAX_LINE_CHARACTERS)
                lines = itertools.chain([first], self._lines(fh, controls=False))
                for row, record in enumerate(csv.reader(lines, delimiter=_delimiter(first)), start=1):
                    for column, value in enumerate(record, start=1):
                        if _BAD_BYTE.search(value):
                            name = header[column - 1].strip() if header and column <= len(header) else ""
                            where = f"column {column}{f' ({name})' if name else ''}: "
                            self._add(where + message, row)
                            return
                    if header is None and any(v.strip() for v in record):
                        header = record
        except (csv.Error, _LineTooLong, OSError):
            pass
        self._add(message, scan.bad_line)

    # ---- parsing

    def _lines(self, fh: TextIO, *, controls: bool) -> Iterator[str]:
        """The file's physical lines (after the first), each at most MAX_LINE_CHARACTERS long; a line
        holding a control character marks the record being read as one to check."""
        while line := fh.readline(MAX_LINE_CHARACTERS + 1):
            self._line += 1
            if len(line) > MAX_LINE_CHARACTERS:
                raise _LineTooLong(self._line)
            if controls and _SUSPECT.search(line):
                self._dirty = True
            yield line

    def _parse(self, fh: TextIO, controls: bool) -> Iterator[tuple[int, list[str]]]:
        first = fh.readline(MAX_LINE_CHARACTERS + 1)
        self._line = 1
        if len(first) > MAX_LINE_CHARACTERS:
            self._add(_line_too_long(1), 1)
            return
        self._dirty = controls and _SUSPECT.search(first) is not None
        reader = csv.reader(
            itertools.chain([first], self._lines(fh, controls=controls)),
            delimiter=_delimiter(first),
            strict=True,
        )
        shared: dict[str, str] = {}

        def intern(value: str) -> str:
            found = shared.get(value)
            if found is not None:
                return found
            if len(value) <= _INTERN_MAX_LENGTH and len(shared) < _INTERN_MAX_VALUES:
                shared[value] = value
            return value

        number = 0
        width: int | None = None
        try:
            for number, record in enumerate(reader, start=1):
                dirty, self._dirty = self._dirty, False
                if not any(v.strip() for v in record):
                    continue
                if width is None:
                    if not self._header(record, number):
                        return
                    width = len(record)
                elif len(record) != width and not self._fields_ok(record, width, number):
                    continue
                if dirty:
                    self._check_controls(record, number)
                if max(map(len, record)) > MAX_CELL_CHARACTERS:
                    record = self._cut_long_cells(record, number)
                # typed_cell: a cell QAM's own writers made inert ("'=1") reads back as written ("=1")
                yield number, [intern(typed_cell(v)) for v in record]
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                self._add(
                    f"a cell is longer than {csv.field_size_limit():,} characters, more than any answer or "
                    "note can be: is a quote left open, so that the rest of the file reads as one cell?",
                    number + 1,
                )
            else:
                self._add(f"cannot read CSV ({exc}); the file may be truncated or badly quoted", number + 1)
        except _LineTooLong as exc:
            self._add(_line_too_long(exc.line), number + 1)

    def _header(self, record: list[str], number: int) -> bool:
        """Take the first non-blank record as the header; False (with the problem added) when it is
        wider than any submission or has a cell longer than any column name."""
        if len(record) > MAX_COLUMNS:
            self._add(too_wide(len(record)), number)
            return False
        longest = max(range(len(record)), key=lambda i: len(record[i]))
        if len(record[longest]) > MAX_CELL_CHARACTERS:
            self._add(too_long(len(record[longest])) + " (a column name in the header)", number, None)
            return False
        self.header = [v.strip().lower() for v in record]
        return True

    def _name(self, col: int) -> str:
        return self.header[col] if col < len(self.header) and self.header[col] else f"column {col + 1}"

    def _check_controls(self, record: list[str], number: int) -> None:
        for col, value in enumerate(record):
            problem = control_problem(value)
            if problem is not None:
                self._add(problem, number, self._name(col))

    def _cut_long_cells(self, record: list[str], number: int) -> list[str]:
        """Each cell over MAX_CELL_CHARACTERS reported at its column and passed on blank (its row is
        refused: the problem stands, and a blank cell's own message is not repeated)."""
        out = list(record)
        for col, value in enumerate(record):
            if len(value) > MAX_CELL_CHARACTERS:
                self._add(too_long(len(value)), number, self._name(col))
                out[col] = ""
        return out

    def _fields_ok(self, record: list[str], width: int, number: int) -> bool:
        if len(record) > width and not any(v.strip() for v in record[width:]):
            return True  # trailing empty fields, as some spreadsheets write them
        self._add(
            f"row has {len(record):,} values but the header has {width} columns"
            + (" (is the file truncated?)" if len(record) < width else ""),
            number,
        )
        return False


class _LineTooLong(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _line_too_long(line: int) -> str:
    return (
        f"line {line:,} is longer than {MAX_LINE_CHARACTERS:,} characters, more than any row of a "
        "submission can be: is this a CSV file? Nothing after it was read"
    )


def _delimiter(first: str) -> str:
    """The header line's most common of comma, semicolon and tab (comma for a blank line)."""
    return max((",", ";", "\t"), key=first.count) if first.strip() else ","
