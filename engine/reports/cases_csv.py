"""<PLACE>-cases.csv, written beside a place briefing: every failing case of every entry, in full
(every trace line, the whole reviewer note), where the PDF shows at most ten rows an entry."""

from __future__ import annotations

from engine.reports.briefing_data import PlaceBriefing

#: the columns of <PLACE>-cases.csv: one row per (entry, case), every failing case of every entry
CASES_CSV_COLUMNS: tuple[str, ...] = (
    "entry",  # the entry's number in the PDF
    "place",
    "measure",
    "case_ref",
    "case_type",  # empty when not known
    "team",
    "officer",
    "reviewer",
    "assessed_on",
    "failed_criteria",  # criterion ids, "; "-separated, critical first
    "critical",  # "yes" when any failed criterion was critical, else "no"
    "why",  # every trace line, "applies: " lines included, "ID: line" joined with " | "
    "reviewer_note",  # in full
)


def cases_csv_name(place_code: str) -> str:
    """The file beside the PDF that lists every failing case: '<PLACE>-cases.csv'."""
    return f"{place_code}-cases.csv"


def case_rows(b: PlaceBriefing) -> list[dict[str, str]]:
    """Every failing case of every entry of the place, one row per (entry, case), in the briefing's
    order (entries as numbered, cases worst first). Cells are plain text, not yet made inert."""
    rows = []
    for number, x in enumerate(b.entries(), start=1):
        # several case types may feed one measure (D7): a case is of its signal's ruleset's type
        ruleset_of = {
            ref: e.ruleset
            for e in reversed(x.signals)
            for ref in (*e.cases, *(d.case_ref for d in e.details))
        }
        for c in x.cases:
            case_type = b.measure_case_types.get(x.measure) or b.measure_case_types.get(
                ruleset_of.get(c.case_ref, ""), ""
            )
            rows.append(
                {
                    "entry": str(number),
                    "place": x.place,
                    "measure": x.measure,
                    "case_ref": c.case_ref,
                    "case_type": case_type,
                    "team": c.team,
                    "officer": c.officer,
                    "reviewer": c.reviewer,
                    "assessed_on": c.assessed_on,
                    "failed_criteria": "; ".join(f.criterion or f.criterion_text for f in c.failed),
                    "critical": "yes" if c.critical else "no",
                    "why": " | ".join(
                        f"{f.criterion}: {line}" if f.criterion else line
                        for f in c.failed
                        for line in f.trace
                    ),
                    "reviewer_note": c.note,
                }
            )
    return rows
