"""Test-side access to the assessment factories, which live in engine/factories.py so `qam demo` can use them."""

from engine.factories import (
    DEFAULT_CASE_DATE,
    DEMO_PLACE_CODES,
    FACTORIES,
    TRAITS,
    AssessmentFactory,
    CrimeFileFactory,
    DomesticAbuseFactory,
    InvestigationFactory,
    StopSearchFactory,
    VictimCareFactory,
    build_row,
    days_after,
)

__all__ = [
    "DEFAULT_CASE_DATE",
    "DEMO_PLACE_CODES",
    "FACTORIES",
    "TRAITS",
    "AssessmentFactory",
    "CrimeFileFactory",
    "DomesticAbuseFactory",
    "InvestigationFactory",
    "StopSearchFactory",
    "VictimCareFactory",
    "build_row",
    "days_after",
]
