"""Team exceptions in the small demo (tests/demo/conftest.py): a team planted below the standard where
its place is not, its figures recomputed from the stored reviews."""

from __future__ import annotations

import datetime as dt

from tests.demo.conftest import SmallDemo, stored_answers


def test_a_team_is_below_the_standard_where_its_place_is_not(small_demo: SmallDemo) -> None:
    """Ashford Vale's Response B updates most of its victims late: a team exception, while the place's
    rate on the criterion is not below the standard."""
    (team,) = [
        e
        for e in small_demo.team_exceptions
        if (e["kind"], e["place"], e["team"], e["criterion"])
        == ("below_standard", "ASH", "Response B", "VC05")
    ]
    assert not [
        e for e in small_demo.exceptions if e["kind"] == "below_standard" and e["criterion"] == "VC05"
    ]
    victims = [
        (name, answers)
        for name, answers in stored_answers(small_demo.out / "demo.db", "ASH", "victim_care", "2026-11-16")
        if answers["suspect_event_on"]  # VC05 applies
    ]
    late = [
        (name, dt.date.fromisoformat(a["victim_updated_on"]) - dt.date.fromisoformat(a["suspect_event_on"]))
        for name, a in victims
    ]
    assert (team["n"], team["passed"]) == (
        sum(name == "Response B" for name, _days in late),
        sum(name == "Response B" and days.days <= 7 for name, days in late),  # 5 working days
    )
    assert team["passed"] < team["n"] / 2 < len(late) / 2 < sum(days.days <= 7 for _name, days in late)
