"""A look inside an XLSX file before openpyxl reads it: a cell whose text is far over the
32,767-character limit is found while the file is unzipped a chunk at a time, so that openpyxl never
holds it (a 400 MB cell took 900 MB to read, only to be refused)."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from engine.inputs.limits import MAX_CELL_CHARACTERS

#: the most bytes one character takes in a sheet's XML (a character reference: "&#1114111;")
_BYTES_PER_CHARACTER = 10
#: text between two tags this long holds more characters than a cell may
TOO_LONG_BYTES = MAX_CELL_CHARACTERS * _BYTES_PER_CHARACTER
_CHUNK = 1 << 20
_LONG_RUN = re.compile(rb"[^<]{%d,}" % (TOO_LONG_BYTES + 1))


def oversized_text(path: Path) -> str | None:
    """The name of the first part (a sheet or the shared strings) with text over TOO_LONG_BYTES
    between two tags; None when there is none or the file cannot be unzipped (openpyxl then reports
    the damage)."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".xml"):
                    continue
                run = 0  # bytes of text since the last '<', carried from one chunk to the next
                with archive.open(info) as part:
                    while chunk := part.read(_CHUNK):
                        first, last = chunk.find(b"<"), chunk.rfind(b"<")
                        if first < 0:
                            run += len(chunk)
                        else:
                            long = _LONG_RUN.search(chunk, first, last)
                            if run + first > TOO_LONG_BYTES or long is not None:
                                return info.filename
                            run = len(chunk) - last - 1
                        if run > TOO_LONG_BYTES:
                            return info.filename
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        return None
    return None
