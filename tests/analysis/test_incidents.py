"""engine.analysis.incidents: incidents framed with each response metric worked out (the Grade 1
standard by place setting, UTC time zones, query tuples and IncidentRow objects)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.analysis import daily
from engine.analysis.incidents import incidents_frame
from engine.analysis.tables import records
from engine.inputs.extracts import IncidentRow, ResponseSettings
from tests.analysis.sample_rows import SETTINGS, incident, pick


def test_grade_1_standard_depends_on_the_place_setting() -> None:
    rows = [
        incident("U1", "BLK", 1, "999", 5, 15),  # urban, exactly 15 minutes: within
        incident("U2", "BLK", 1, "999", 5, 17),  # urban, 17 minutes: not within 15
        incident("R1", "RVS", 1, "999", 5, 17),  # rural, 17 minutes: within 20
        incident("R2", "RVS", 1, "999", 5, None),  # not attended: not within the standard
    ]
    inc = incidents_frame(rows, SETTINGS)
    assert list(inc["g1_attended_within_standard__passed"]) == [True, False, True, False]
    m = daily.incident_metrics(daily.incident_days(inc))
    got = {r["place"]: (r["n"], r["passes"]) for r in records(pick(m, metric="g1_attended_within_standard"))}
    assert got == {"BLK": (2, 1), "RVS": (2, 1)}
    stricter = incidents_frame(rows, SETTINGS, ResponseSettings(g1_rural_minutes=16))
    assert list(stricter["g1_attended_within_standard__passed"]) == [True, False, False, False]


def test_incidents_from_iso_text_with_time_zones() -> None:
    rows = [
        {
            "incident_ref": "Z",
            "place": "BLK",
            "grade": "1",
            "channel": "999",
            "received_at": "2026-11-16T08:00:00+01:00",
            "answered_at": "2026-11-16T07:00:08+00:00",  # 8 s later
            "arrived_at": "",
        }
    ]
    inc = incidents_frame(rows, SETTINGS)
    assert bool(inc["call999_answered_within_10s__passed"].iloc[0])
    assert not bool(inc["g1_attended_within_standard__passed"].iloc[0])


def test_place_without_a_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="urban/rural setting for place"):
        incidents_frame([incident("A", "HLM", 1, "999", 5, 5)], SETTINGS)


def test_incidents_from_query_tuples_and_incident_rows() -> None:
    received = datetime(2026, 11, 16, 8, 0)
    as_tuple = (  # as a query returns extracts.METRIC_INPUT_COLUMNS
        "BLK",
        1,
        "999",
        received,
        received + timedelta(seconds=4),
        received + timedelta(minutes=9),
    )
    as_row = IncidentRow("T2", "RVS", 2, "101", received, received + timedelta(seconds=40), None, "h" * 64, 2)
    inc = incidents_frame([as_tuple], SETTINGS)
    assert bool(inc["g1_attended_within_standard__passed"].iloc[0])
    inc = incidents_frame([as_row], SETTINGS)
    assert inc["call101_answer_seconds"].iloc[0] == 40.0
