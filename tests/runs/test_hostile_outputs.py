"""Hostile text in a week's submissions stays inert in every file `qam weekly` and `qam peel` write.

Teams, officers, reviewers, case and assessment refs and notes hold ReportLab/HTML markup (<b>, <font>,
&amp;, unclosed tags, <img>), formula starts (= + - @, a tab or carriage return, and the full-width
＝ ＋ － ＠), right-to-left and combining characters and very long words. Then:

- CSV: no cell starts like a formula unless QAM's ' makes it text, and every cell reads back
  (core.text.typed_cell) exactly as submitted, line breaks and all;
- JSON: every file parses, holds the text exactly, and never QAM's spreadsheet-only ' prefix;
- Parquet (Power BI): the text exactly, no ' prefix;
- PDF: every briefing renders, and the markup prints as the literal text it is.

test_weekly.py and test_peel.py already check ASCII formula starts in the CSVs (evil_row); this adds
markup, full-width starts, line breaks, right-to-left text and long words, and the other file types.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from engine import api
from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings
from engine.core.text import FORMULA_STARTS, INERT_PREFIX, typed_cell
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from tests.runs.spreadsheet_cells import formula_cells, is_number

WEEK = "2026-W47"
PEEL_FROM, PEEL_TO = dt.date(2026, 10, 1), dt.date(2026, 12, 31)

#: markup that ReportLab's Paragraph (or a browser) would act on if it were not escaped
MARKUP = (
    "<b>bold</b>",
    "<font color='red' size='30'>big",
    "&amp; &lt;b&gt;",
    "<i>unclosed",
    "</para></td>",
    "<img src='/etc/passwd'/>",
    "<br/><br/>",
)
#: starts a spreadsheet runs as a formula (leading tabs and returns are trimmed from refs on input,
#: so those go in the notes)
FORMULAS = ("=1+1", "+44 20", "-3-2", "@SUM(A1)", "\uff1dcmd", "\uff0b1", "\uff0d1", "\uff20x")
#: right-to-left text with an override, combining accents, Arabic letters
SCRIPTS = (
    "\u05e9\u05dc\u05d5\u05dd \u202eevil",
    "e\u0301\u0327 Z\u0337\u0347",
    "\u0627\u0644\u0633\u0644\u0627\u0645",
)
#: ten failing searches at Harbourside (the briefing lists ten cases), one hostile value each
FAILING = (*MARKUP, FORMULAS[0], FORMULAS[4], SCRIPTS[0])
NOTE_STARTS = ("\t", "\r", "\uff20", "=")
COMBINING = "\u0301"
#: a case reference as long as one may be (120 characters), without a space
LONG_REF = "DA-" + "W" * 117


def _note(i: int, text: str) -> str:
    """A reviewer's note: a formula or control start, the hostile text, line breaks (every kind, or
    only a carriage return, as old Mac files have them), and for one case a 3,000-character word."""
    long_word = "N" * 3000 if i == 3 else ""
    breaks = " one\r\ntwo\rthree\n" if i % 2 else " one\rtwo"
    return f"{NOTE_STARTS[i % len(NOTE_STARTS)]}{text}{breaks}{long_word}"


def _rows() -> list[dict[str, str]]:
    """Harbourside: 12 searches, the 10 in FAILING without grounds; Kingsgate: one high-risk domestic
    abuse case without a MARAC referral (a critical failure), refs full of markup and formula starts;
    Blackwater: 12 good searches with the remaining formula starts, right-to-left names and long words."""
    rows = []
    for i in range(12):
        text = FAILING[i] if i < len(FAILING) else f"ok {i}"
        rows.append(
            build_row(
                "stop_search",
                assessment_id=f"{text}#{i}",
                case_ref=f"{text}/SS{i}",
                place="HRB",
                team=f"{text} T{i % 3}",
                officer=f"{SCRIPTS[i % 3]} {text} O{i}",
                reviewer=f"{FORMULAS[i % len(FORMULAS)]} R",
                assessed_on="2026-11-16",
                case_date="2026-11-01",
                grounds_missing=i < len(FAILING),
                notes=_note(i, text),
            )
        )
    for i in range(12):
        rows.append(
            build_row(
                "stop_search",
                assessment_id=f"BLK#{i}",
                case_ref=f"{FORMULAS[i % len(FORMULAS)]}/BLK{i}",
                place="BLK",
                team=("W" * 190) + f"{i % 2}",
                officer=f"{SCRIPTS[i % 3]}{COMBINING * 3} {i}",
                assessed_on="2026-11-16",
                case_date="2026-11-01",
            )
        )
    rows.append(
        build_row(
            "domestic_abuse",
            assessment_id="DA-1",
            case_ref="<b>DA</b>&amp;<font>",
            place="KNG",
            team="<para>team",
            officer="\uff0bPC <i>",
            assessed_on="2026-11-18",
            case_date="2026-11-10",
            high_risk_no_marac=True,
            notes='<para>unclosed & <b> =HYPERLINK("x")\r\n' + "Z" * 2500,
        )
    )
    rows.append(
        build_row(
            "domestic_abuse",
            assessment_id="DA-2",
            case_ref=LONG_REF,
            place="KNG",
            assessed_on="2026-11-18",
            case_date="2026-11-10",
            high_risk_no_marac=True,
        )
    )
    return rows


ROWS = _rows()


@dataclass(frozen=True)
class Outputs:
    week: Path
    peel: Path

    def files(self, pattern: str) -> Iterator[Path]:
        for folder in (self.week, self.peel):
            yield from sorted(folder.rglob(pattern))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """The rows submitted to a fresh SQLite database with the bundled rulesets published, then the
    week's run and a PEEL rerun of its quarter."""
    root = tmp_path_factory.mktemp("hostile")
    settings = Settings(
        database_url=f"sqlite:///{root / 'qam.db'}",
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=DEFAULT_RULESETS_DIR,
        forms_dir=DEFAULT_FORMS_DIR,
    )
    api.init_database(settings)
    api.publish_rulesets(settings, author="test", note="initial")
    api.submit(settings, [write_submission_csv(root / "week.csv", ROWS)])
    week = api.weekly(settings, WEEK, out=root / "out").folder
    peel = api.peel(settings, PEEL_FROM, PEEL_TO, out=root / "out").run.folder
    return Outputs(week, peel)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield k
            yield from _strings(v)
    elif isinstance(data, list):
        for v in data:
            yield from _strings(v)


def _made_inert(text: str) -> bool:
    """Whether ``text`` carries QAM's spreadsheet-only ' (a text that was made inert for a CSV)."""
    return text.startswith(INERT_PREFIX) and typed_cell(text) != text


# ----------------------------------------------------------------------------- CSV


def test_no_csv_cell_starts_like_a_formula_full_width_ones_included(outputs: Outputs) -> None:
    assert [p.name for p in outputs.files("*.csv")]
    for folder in (outputs.week, outputs.peel):
        assert formula_cells(folder) == []
    for path in outputs.files("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            for line, row in enumerate(csv.reader(fh), start=1):
                bad = [c for c in row if c.startswith(FORMULA_STARTS) and not is_number(c)]
                assert not bad, (path.name, line, bad)


def test_the_cases_csv_holds_refs_names_and_notes_exactly(outputs: Outputs) -> None:
    rows = _csv_rows(outputs.week / "HRB-cases.csv")
    sent = {r["case_ref"]: r for r in ROWS if r["place"] == "HRB" and r["grounds_recorded"] == "no"}
    assert len(rows) == len(FAILING) == len(sent)
    for row in rows:
        original = sent[typed_cell(row["case_ref"])]
        for column in ("team", "officer", "reviewer"):
            assert typed_cell(row[column]) == original[column], column
        assert typed_cell(row["reviewer_note"]) == original["notes"]
    da = {r["case_ref"]: r for r in _csv_rows(outputs.week / "KNG-cases.csv")}
    assert sorted(da) == sorted(["<b>DA</b>&amp;<font>", LONG_REF])
    assert typed_cell(da["<b>DA</b>&amp;<font>"]["reviewer_note"]) == ROWS[-2]["notes"]


def test_the_aggregates_name_every_team_and_officer_exactly(outputs: Outputs) -> None:
    for folder in (outputs.week, outputs.peel):
        rows = _csv_rows(folder / "aggregates.csv")
        for level in ("team", "officer"):
            keys = {typed_cell(r["key"]) for r in rows if r["level"] == level}
            assert keys == {r[level] for r in ROWS}, (folder.name, level)


# ----------------------------------------------------------------------------- JSON and Parquet


def test_every_json_file_parses_and_holds_the_text_exactly(outputs: Outputs) -> None:
    names = []
    for path in outputs.files("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        names.append(path.name)
        assert not [s for s in _strings(data) if _made_inert(s)], path.name
    assert "exceptions.json" in names and "manifest.json" in names
    exceptions = json.loads((outputs.week / "exceptions.json").read_text(encoding="utf-8"))["exceptions"]
    ss01 = next(e for e in exceptions if e["criterion"] == "SS01")
    assert sorted(ss01["cases"]) == sorted(f"{t}/SS{i}" for i, t in enumerate(FAILING))
    da02 = next(e for e in exceptions if e["criterion"] == "DA02")
    assert sorted(da02["cases"]) == sorted(["<b>DA</b>&amp;<font>", LONG_REF])


def test_the_parquet_tables_hold_the_text_exactly(outputs: Outputs) -> None:
    table = pq.read_table(outputs.peel / "aggregates.parquet").to_pylist()
    for level in ("team", "officer"):
        assert {r["key"] for r in table if r["level"] == level} == {r[level] for r in ROWS}
    refs = {ref for r in table for ref in r["cases"] or []}
    assert refs and not [ref for ref in refs if _made_inert(ref)]
    assert {f"{t}/SS{i}" for i, t in enumerate(FAILING)} <= refs


# ----------------------------------------------------------------------------- PDF


def _pdf_text(path: Path) -> str:
    """The PDF's text with all white space removed (lines wrap anywhere)."""
    return "".join("".join(page.extract_text().split()) for page in PdfReader(path).pages)


def test_every_pdf_renders_and_prints_the_markup_literally(outputs: Outputs) -> None:
    pdfs = {p.name: _pdf_text(p) for p in outputs.files("*.pdf")}
    assert {"HRB.pdf", "KNG.pdf", "force.pdf", "peel.pdf"} <= set(pdfs)
    squeeze = lambda text: "".join(text.split())  # noqa: E731
    for i, markup in enumerate(MARKUP):
        # the case, its team and the note, as typed: no bold, no font change, no image, no line break
        for shown in (f"{markup}/SS{i}", f"{markup}T{i % 3}", squeeze(markup)):
            assert squeeze(shown) in pdfs["HRB.pdf"], shown
    assert squeeze("<b>DA</b>&amp;<font>") in pdfs["KNG.pdf"]
    assert squeeze("<para>team") in pdfs["KNG.pdf"]
    assert squeeze('<para>unclosed & <b> =HYPERLINK("x")') in pdfs["KNG.pdf"]
    assert squeeze("<b>DA</b>&amp;<font>") in pdfs["peel.pdf"]


def _runs_past_the_edge(path: Path) -> list[tuple[int, str, float]]:
    """(page, text, right end in points) of every line of plain text drawn past the page's right edge,
    measured with the metrics of the body font (Bitstream Vera, which ReportLab ships)."""
    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
        pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
    past: list[tuple[int, str, float]] = []
    for number, page in enumerate(PdfReader(path).pages, start=1):
        edge = float(page.mediabox.width)

        def visit(
            text: str, cm: Any, tm: Any, font: Any, size: float, number: int = number, edge: float = edge
        ) -> None:
            line = text.rstrip("\n")
            if not line.strip() or not line.isascii():
                return
            bold = "Bold" in str((font or {}).get("/BaseFont", ""))
            x = tm[4] * cm[0] + cm[4]
            right = x + pdfmetrics.stringWidth(line, "VeraBd" if bold else "Vera", size * cm[0])
            if right > edge + 1:
                past.append((number, line[:40], round(right)))

        page.extract_text(visitor_text=visit)
    return past


def test_a_long_case_ref_stays_on_the_page(outputs: Outputs) -> None:
    assert _runs_past_the_edge(outputs.week / "KNG.pdf") == []
