"""Extract definitions and figures files the figures tests share: one metric of each kind."""

from __future__ import annotations

from pathlib import Path

from engine.core.config import DEFAULT_EXTRACTS_DIR
from engine.inputs.extract_definitions import ExtractDefinitions, load_extract_definitions
from engine.rules.catalogue import MEASURE_IDS

PEOPLE = """\
extract: people
version: 1.0.0
format: 1
title: People figures
source: figures
metrics:
  attendance_rate:
    item: M1
    kind: proportion
    text: Working days attended
    unit: days
    direction: higher
    periods: [week, month]
  feel_valued:
    item: M1
    kind: survey
    text: Staff who feel valued
    unit: respondents
    direction: higher
    periods: [quarter, year]
  days_to_fill:
    item: M1
    kind: time
    text: Days to fill a vacancy
    unit: days
    direction: lower
    periods: [month]
  grievances:
    item: M1
    kind: count
    text: Grievances per 100 FTE
    unit: grievances
    direction: lower
    periods: [quarter]
    exposure: fte
    per: 100
  misconduct_case:
    item: M1
    kind: event
    text: Gross misconduct case opened
    periods: [day, month]
"""
OUTCOMES = """\
extract: outcomes
version: 1.0.0
format: 1
title: Crime outcomes
source: figures
metrics:
  charge_rate:
    item: M4
    kind: proportion
    text: Crimes charged
    unit: crimes
    direction: higher
    periods: [month]
  burglaries:
    item: M4
    kind: count
    text: Burglaries recorded
    unit: burglaries
    direction: lower
    periods: [month]
    exposure: none
"""
HEADER = "item,metric,place,team,period,numerator,denominator,value,count,event_ref,event_on,detail\n"
#: a valid file: one figure of every kind (the time metric as three rows, two of one value)
GOOD = HEADER + (
    "M1,attendance_rate,DLW,Response A,2026-10,1880,2000,,,,,\n"
    "M1,attendance_rate,DLW,Response B,2026-10,1790,1900,,,,,\n"
    "M1,attendance_rate,BLK,,2026-W44,470,500,,,,,\n"
    "M1,feel_valued,DLW,,2026-Q3,,,0.62,410,,,\n"
    "M1,feel_valued,BLK,,2026-Q3,240,400,,,,,\n"
    "M1,days_to_fill,DLW,,2026-10,,,41,1,,,\n"
    "M1,days_to_fill,DLW,,2026-10,,,41,1,,,\n"
    "M1,days_to_fill,DLW,,2026-10,,,55.5,3,,,\n"
    "M1,grievances,DLW,,2026-Q3,4,180.5,,,,,\n"
    "M1,misconduct_case,DLW,,2026-10-14,,,,,GM-0042,2026-10-14,Officer arrested for assault off duty\n"
    "M4,charge_rate,DLW,,2026-10,38,412,,,,,\n"
    "M4,burglaries,DLW,,2026-10,27,,,,,,\n"
)


def definitions_folder(root: Path) -> Path:
    """A folder with the people and outcomes definitions and the bundled incidents one."""
    folder = root / "extracts"
    folder.mkdir(exist_ok=True)
    (folder / "people.yaml").write_text(PEOPLE, encoding="utf-8")
    (folder / "outcomes.yaml").write_text(OUTCOMES, encoding="utf-8")
    incidents = (DEFAULT_EXTRACTS_DIR / "incidents.yaml").read_text(encoding="utf-8")
    (folder / "incidents.yaml").write_text(incidents, encoding="utf-8")
    return folder


def definitions(root: Path) -> ExtractDefinitions:
    return load_extract_definitions(definitions_folder(root), MEASURE_IDS)


def write_file(tmp_path: Path, name: str, text: str) -> Path:
    """``text`` written as ``tmp_path``/``name`` (UTF-8)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
