"""An XLSX cell far over Excel's 32,767 characters is refused before openpyxl reads it (issue #20:
a workbook of 400 KB holding one 400 MB cell took 900 MB of memory to read, then was refused). A cell
a little over the limit is still refused at its row and column, and one at the limit, in letters of
three UTF-8 bytes each, is read whole."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

from engine.inputs.limits import MAX_CELL_CHARACTERS
from engine.inputs.xlsx_scan import TOO_LONG_BYTES
from tests.inputs.submission_rows import load, problems_of, ss_rows, write_xlsx

HUGE_MB = 40


def _with_text(path: Path, marker: str, size: int, letter: bytes = b"a") -> Path:
    """The workbook with its ``marker`` cell text made ``size`` letters long, written a chunk at a time."""
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            if marker.encode() not in data:
                dst.writestr(name, data)
                continue
            before, after = data.split(marker.encode())
            with dst.open(name, "w", force_zip64=True) as part:
                part.write(before)
                for _ in range(size // 2**20):
                    part.write(letter * 2**20)
                part.write(letter * (size % 2**20))
                part.write(after)
    return path


def test_a_cell_of_many_megabytes_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = _with_text(
        write_xlsx(tmp_path / "huge.xlsx", ss_rows(1, notes="@@huge@@")), "@@huge@@", HUGE_MB << 20
    )
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        problems = problems_of([path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problems == [
        f"{path}: xl/worksheets/sheet1.xml holds a cell far longer than the {MAX_CELL_CHARACTERS:,} "
        f"characters a cell may hold (as in Excel), over {TOO_LONG_BYTES:,} bytes of text: shorten it"
    ]
    assert peak < 8 << 20, f"{peak / 2**20:.0f} MB held to refuse a {HUGE_MB} MB cell"


def test_a_cell_at_the_limit_in_three_byte_letters_is_read_whole(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "ok.xlsx", ss_rows(1, notes="@@full@@"))
    _with_text(path, "@@full@@", MAX_CELL_CHARACTERS, "\u20ac".encode())
    [valid] = load([path])
    assert valid.answers["notes"] == "\u20ac" * MAX_CELL_CHARACTERS
