"""engine.inputs.cases: reading the cases extract (the sampling frame) as submission files are read;
tests/sampling/ covers its validation and storing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import ExtractError
from engine.inputs.cases import read_cases

PLACES = ("BLK", "CRN")
CASE_TYPES = ("stop_search", "victim_care")  # the forms folder's, as the caller passes them
HEADER = b"case_ref,case_type,place,team,officer,case_date\n"


def test_a_cases_extract_is_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + "SS/1,stop_search,BLK,Équipe A,PC 1,2026-11-16\n".encode())
    [case] = read_cases(path, PLACES, CASE_TYPES)
    assert case.team == "Équipe A"


def test_one_byte_that_is_not_utf8_refuses_the_whole_extract(tmp_path: Path) -> None:
    # it used to turn the whole file into Windows-1252 text: 'Équipe' loaded as 'Ã‰quipe', silently
    path = tmp_path / "cases.csv"
    path.write_bytes(
        HEADER
        + "SS/1,stop_search,BLK,Équipe A,PC 1,2026-11-16\n".encode()
        + b"SS/2,stop_search,CRN,Response,PC O\xd5Neil,2026-11-16\n"
    )
    with pytest.raises(ExtractError) as info:
        read_cases(path, PLACES, CASE_TYPES)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3: column 5 (officer): not UTF-8 (byte 0xd5): save the file as UTF-8 (CSV UTF-8 in Excel)"
    ]
