"""What the demo force's measured figures look like: each place's size (population, workforce), and
for each metric of the bundled extract definitions its typical level, spread between places and how
many units it counts a period, as a force analyst would expect them. engine.demo.figures draws the
figures from these; the planted problems are at the end.

Levels are typical of an English force of about 1.2 million people (Home Office and ONS releases
give the orders of magnitude: about 90 recorded crimes per 1,000 population a year, 999 calls about
3.5 per 1,000 a week, positive outcomes about 15% of crimes finalised); they are illustrations,
not anyone's real figures.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from engine.core.config import Place

#: the teams a source with teams (the duty system) reports; their share of a place's workforce
TEAM_SHARES: MappingProxyType[str, float] = MappingProxyType(
    {"Response A": 0.3, "Response B": 0.3, "Neighbourhood": 0.25, "CID": 0.15}
)

#: a rostered week's share of each day's volume, Monday first (weekends a little busier)
DAY_WEIGHTS: tuple[float, ...] = (0.14, 0.14, 0.14, 0.14, 0.15, 0.145, 0.135)


@dataclass(frozen=True)
class Scale:
    """A place's size: the exposures rates are worked out against, and the workforce figures scale with."""

    population: int
    #: officers, staff and PCSOs working in the place (FTE)
    fte: int
    #: neighbourhood officers and PCSOs
    neighbourhood: int
    #: Census 2021 residents who self-defined as Black, and as White
    black: int
    white: int
    #: neighbourhoods (each with its PACT and need rating)
    neighbourhoods: int
    #: hours in a week (the supply-to-demand figures count each hour of the day)
    week_hours: int = 168

    def size(self, base: str) -> float:
        return float(getattr(self, base))


_POPULATION: MappingProxyType[str, int] = MappingProxyType(
    {
        "BLK": 142_000,
        "CRN": 58_000,
        "FEN": 64_000,
        "HRB": 131_000,
        "ASH": 118_000,
        "KNG": 156_000,
        "MLB": 124_000,
        "STN": 52_000,
        "DLW": 61_000,
        "ESM": 55_000,
        "PRT": 127_000,
        "RDG": 138_000,
    }
)


def unit_hash(*parts: str) -> float:
    """A fixed number in [0, 1) for the parts (the same on every run and machine)."""
    return zlib.crc32("/".join(parts).encode("utf-8")) / 2**32


def place_scale(place: Place) -> Scale:
    """The demo's figures for the bundled places; any other force's places get a size from their
    setting (urban about 130,000 people, rural about 60,000), fixed by their code."""
    urban = place.setting == "urban"
    u = unit_hash("scale", place.code)
    population = _POPULATION.get(place.code) or int(
        (110_000 + 50_000 * u) if urban else (50_000 + 16_000 * u)
    )
    black_share = (0.04 + 0.05 * unit_hash("black", place.code)) if urban else 0.008
    white_share = (0.76 + 0.1 * unit_hash("white", place.code)) if urban else 0.95
    return Scale(
        population=population,
        fte=round(population * 2.0 / 1000),
        neighbourhood=round(population * (0.26 if urban else 0.3) / 1000),
        black=round(population * black_share),
        white=round(population * white_share),
        neighbourhoods=max(4, round(population / 11_000)),
    )


Kind = Literal["share", "count", "time", "event"]


@dataclass(frozen=True)
class Recipe:
    """How one metric's figures are drawn.

    share (proportion or survey): ``level`` is the typical share; a period counts ``per_unit`` x the
    place's ``base`` units (respondents for a survey). count: ``level`` is the rate per the metric's
    ``per`` of the ``base`` exposure in a period. time: ``level`` is the median and ``p90`` the 90th
    percentile of a log-normal, ``per_unit`` x ``base`` values a period, put in bins ``bin`` wide.
    event: ``level`` is the weekly rate per 100,000 population.
    """

    kind: Kind
    level: float
    #: how far places differ from the typical level (each place fixed within +/- spread)
    spread: float = 0.0
    base: str = "population"
    per_unit: float = 1.0
    p90: float = 0.0
    bin: int = 1
    #: share: the rural level instead of ``level`` (places differ by setting)
    rural: float | None = None
    #: survey share given as a weighted share (value) with its sample size (count)
    weighted: bool = False
    #: reported per team (the duty system): the place's units split by TEAM_SHARES
    teams: bool = False
    #: a stock (posts, people on strength, neighbourhoods): the same units every period
    stock: bool = False


#: per metric id of the bundled extract definitions (extracts/*.yaml, all but incidents)
RECIPES: MappingProxyType[str, Recipe] = MappingProxyType(
    {
        # hr (M1), monthly
        "posts_filled": Recipe("share", 0.965, 0.012, "fte", stock=True),
        "attendance_rate": Recipe("share", 0.957, 0.005, "fte", per_unit=20),
        "temporary_posts": Recipe("share", 0.06, 0.015, "fte", stock=True),
        "unfunded_posts": Recipe("share", 0.015, 0.006, "fte", stock=True),
        "development_plans_current": Recipe("share", 0.9, 0.025, "fte", per_unit=1.05, stock=True),
        "agile_working_enabled": Recipe("share", 0.78, 0.05, "fte", per_unit=1.05, stock=True),
        # crime_outcomes (M4), monthly: about 7.5 crimes finalised per 1,000 population a month
        "positive_outcome_rate": Recipe("share", 0.15, 0.015, "population", per_unit=0.0075),
        "charge_summons_rate": Recipe("share", 0.072, 0.008, "population", per_unit=0.0075),
        "conviction_rate": Recipe("share", 0.85, 0.02, "population", per_unit=0.00055),
        "victim_attrition_rate": Recipe("share", 0.22, 0.02, "population", per_unit=0.0075),
        "days_to_outcome": Recipe("time", 14.0, 2.0, "population", per_unit=0.0075, p90=120.0, bin=7),
        # reoffending (M6)
        "repeat_da_victims": Recipe("share", 0.3, 0.025, "population", per_unit=0.002),
        "dvpo_obtained": Recipe("share", 0.9, 0.03, "population", per_unit=0.00003),
        "dvds_decided_in_28_days": Recipe("share", 0.85, 0.04, "population", per_unit=0.00008),
        "mappa_visits_on_time": Recipe("share", 0.94, 0.015, "population", per_unit=0.0002),
        "iom_reoffending": Recipe("share", 0.2, 0.03, "population", per_unit=0.0003),
        # early_action (M7), monthly
        "vulnerable_callers_with_plan": Recipe("share", 0.9, 0.02, "population", per_unit=0.0003),
        "repeat_missing_children": Recipe("share", 0.33, 0.03, "population", per_unit=0.00018),
        "return_interviews_72h": Recipe("share", 0.86, 0.025, "population", per_unit=0.00018),
        "step_down_reviews_on_time": Recipe("share", 0.88, 0.025, "population", per_unit=0.0002),
        # victim_cms (M8), daily: units a week
        "victim_updates_on_time": Recipe("share", 0.93, 0.012, "population", per_unit=0.002),
        "support_referrals_in_2_days": Recipe("share", 0.955, 0.01, "population", per_unit=0.0005),
        # surveys (M9, M11, D8, D9), quarterly: respondents a quarter
        "public_confidence": Recipe("share", 0.7, 0.025, "neighbourhoods", per_unit=22, weighted=True),
        "police_good_job": Recipe("share", 0.55, 0.03, "neighbourhoods", per_unit=22),
        "victim_satisfaction": Recipe("share", 0.77, 0.025, "neighbourhoods", per_unit=11),
        "local_confidence": Recipe("share", 0.62, 0.03, "neighbourhoods", per_unit=22),
        "feeling_safe": Recipe("share", 0.79, 0.02, "neighbourhoods", per_unit=22, rural=0.85),
        # engagement (M10), monthly
        "pact_meetings_held": Recipe("share", 0.93, 0.02, "neighbourhoods", stock=True),
        "social_media_to_need": Recipe("share", 0.86, 0.03, "neighbourhoods", stock=True),
        "neighbourhood_contacts": Recipe("count", 3.0, 0.4),
        # arls (M12), daily: duty hours a week
        "visible_hours_share": Recipe("share", 0.58, 0.03, "neighbourhood", per_unit=37),
        # demand (D1): weekly counts per 1,000 population, daily shares (units a week)
        "demand_999": Recipe("count", 3.5, 0.4),
        "demand_101": Recipe("count", 5.5, 0.6),
        "demand_digital": Recipe("count", 1.5, 0.25),
        "digital_contact_share": Recipe("share", 0.22, 0.03, "population", per_unit=0.007),
        "mobile_data_updates": Recipe("share", 0.78, 0.03, "population", per_unit=0.004),
        # shifts (D2), by team: shifts a week (4 per FTE), rest days cancelled per 100 FTE a week
        "shifts_as_rostered": Recipe("share", 0.955, 0.01, "fte", per_unit=4, teams=True),
        "rest_days_cancelled": Recipe("count", 1.0, 0.25, "fte", teams=True),
        # supply (D3), daily: hours a week
        "hours_resourced_to_demand": Recipe("share", 0.94, 0.015, "week_hours"),
        "pcso_utilisation": Recipe("share", 0.8, 0.025, "neighbourhood", per_unit=14),
        # capacity (D4): monthly hours per 1,000 population, quarterly diversity
        "special_constable_hours": Recipe("count", 5.0, 0.8),
        "volunteer_hours": Recipe("count", 2.0, 0.3),
        "cadet_hours": Recipe("count", 1.2, 0.2),
        "specials_active": Recipe("share", 0.7, 0.04, "population", per_unit=0.00025, stock=True),
        "workforce_ethnic_minority": Recipe(
            "share", 0.09, 0.02, "fte", per_unit=1.05, rural=0.03, stock=True
        ),
        # high_impact (D6): events a week per 100,000 population
        "homicide": Recipe("event", 0.008),
        "serious_assault": Recipe("event", 0.025),
        "hate_crime": Recipe("event", 0.016),
        "ksi_collision": Recipe("event", 0.025),
        "rape": Recipe("event", 0.012),
        "sexual_assault": Recipe("event", 0.008),
        # problem_solving (D10), monthly: open plans (about 2 per neighbourhood), plans closed
        "plans_reviewed_on_time": Recipe("share", 0.88, 0.03, "neighbourhoods", per_unit=2.2, stock=True),
        "plans_closed_with_assessment": Recipe("share", 0.82, 0.04, "neighbourhoods", per_unit=0.6),
        # legitimacy (D12), monthly
        "complaints_recorded": Recipe("count", 0.12, 0.02),
        "complaint_days_to_finalise": Recipe("time", 25.0, 4.0, "population", per_unit=0.00008, p90=70.0),
        "searches_black_residents": Recipe("count", 2.0, 0.3, "black"),
        "searches_white_residents": Recipe("count", 0.5, 0.08, "white"),
    }
)

#: what a high-impact event's detail says, per metric (one is picked for each generated event)
EVENT_DETAILS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "homicide": ("Man found dead at a private address; suspect known to the victim arrested",),
        "serious_assault": (
            "Stabbing outside licensed premises; victim in hospital, injuries life-changing",
            "Assault with a weapon in a town centre street; suspect identified, enquiries ongoing",
        ),
        "hate_crime": (
            "Racially aggravated assault at a bus stop; community tension assessment opened",
            "Criminal damage with religious abuse to a place of worship",
        ),
        "ksi_collision": (
            "Two-vehicle collision on the A-road; one driver with life-changing injuries",
            "Pedestrian struck at a crossing; serious collision investigation unit attended",
        ),
        "rape": ("Rape by a stranger reported; specialist officer deployed, forensic strategy set",),
        "sexual_assault": (
            "Serious sexual assault on a child under 13; joint investigation with social care",
        ),
    }
)


# --------------------------------------------------------------------------- the planted problems


@dataclass(frozen=True)
class Planted:
    """A problem the demo's analysis should surface: ``metric`` at ``place`` from ``start`` (a
    period label); ``level`` is the level it reaches in the latest period, reached in equal steps
    from ``start`` (one step for a single period)."""

    metric: str
    place: str
    start: str
    level: float
    what: str


PLANTED: tuple[Planted, ...] = (
    Planted(
        "attendance_rate",
        "FEN",
        "2026-04",
        0.905,
        "Fenwick (FEN): attendance drifts down month by month from April to October 2026 (special "
        "cause; by October, and over the PEEL period since June, below the 93% minimum)",
    ),
    Planted(
        "return_interviews_72h",
        "RDG",
        "2026-10",
        0.35,
        "Ridgeway (RDG): return home interviews within 72 hours fall well below the standard in "
        "October 2026 (threshold)",
    ),
    Planted(
        "feeling_safe",
        "FEN",
        "2026-Q3",
        0.6,
        "Fenwick (FEN): people feeling safe after dark falls in 2026-Q3 (threshold)",
    ),
)

#: the planted homicide (D6 event) in the demo week: place, day, reference, detail
PLANTED_HOMICIDE = (
    "HRB",
    dt.date(2026, 11, 18),
    "HIC-2026-HOM101",
    "Man, 34, fatally stabbed outside licensed premises on Dock Street; two suspects arrested",
)
