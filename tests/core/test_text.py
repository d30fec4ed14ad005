"""engine.core.text: slugs for file names, run times and short hashes as people read them."""

from __future__ import annotations

import datetime as dt

from engine.core.text import short, slug, stamp


def test_slug_is_a_safe_file_name_part() -> None:
    assert slug("Sgt. Ann O'Neil") == "sgt-ann-o-neil"
    assert slug("Zoë Brontë") == "zoe-bronte"
    assert len(slug("x" * 100)) == 60
    assert slug("警察") == slug("警察").lower() and slug("警察").startswith("r-") and len(slug("警察")) == 10


def test_stamp_shows_utc_and_short_cuts_a_hash() -> None:
    moment = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert stamp(moment) == "2026-11-23 09:00:00Z"
    assert stamp(None) == ""
    assert short("0123456789abcdef") == "0123456789ab"
    assert short(None) == ""
