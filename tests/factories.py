"""Test-side access to the assessment factories, which live in engine/demo/factories.py so `qam demo` can use them."""

from engine.demo.factories import (
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
