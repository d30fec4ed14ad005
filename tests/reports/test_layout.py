"""engine.reports.layout: the house styles."""

from __future__ import annotations

import pytest

from engine.reports.layout import plain

REF = "SS-2026W47-HRB-000"


@pytest.mark.parametrize("style", ["nobreak", "cellnobreak"])
def test_a_nobreak_paragraph_never_splits_a_token(style: str) -> None:
    p = plain(f"{REF} {REF}", style)
    p.wrap(40, 1000)  # narrower than one reference
    lines = [" ".join(w if isinstance(w, str) else w.text for w in line[1]) for line in p.blPara.lines]
    assert lines == [REF, REF]


def test_an_ordinary_cell_does_split_a_long_token() -> None:
    p = plain(REF, "cell")
    p.wrap(40, 1000)
    assert len(p.blPara.lines) > 1
