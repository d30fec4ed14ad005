"""The briefings' house style: the bundled font, escaping of user text, paragraph styles, and the
A4 page (footer with rulesets, run and page x of y; draft banner; running header). Deterministic:
reportlab invariant mode, a font shipped inside reportlab and fallback fonts shipped in
engine/reports/fonts/ (for the scripts the body font lacks: engine.reports.scripts), so equal input
gives equal bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, FrameBreak, PageTemplate, Paragraph

from engine.core.models import RulesetRef
from engine.reports.scripts import FALLBACK_MARKUP, RTL_MARKUP, BidiParagraph, bolden, is_rtl, runs, visual

DRAFT_BANNER = "DRAFT - unpublished rulesets, not for operational use"

# --- page geometry and palette (neutral on purpose: no red/amber/green anywhere) ---------------
# reportlab has no type information: its sizes are typed here, as the points they are
PAGE_W: float
PAGE_H: float
PAGE_W, PAGE_H = A4
MARGIN_X: float = 20 * mm
WIDTH: float = PAGE_W - 2 * MARGIN_X
FOOTER_BASELINE: float = 11 * mm
INK = colors.HexColor("#1a1a1a")
GREY = colors.HexColor("#5f6368")
RULE = colors.HexColor("#c8ccd2")
ACCENT = colors.HexColor("#1f4e79")
SHADE = colors.HexColor("#eef2f7")
BAND = colors.HexColor("#f1f1f1")
HEAD = colors.HexColor("#e4e8ee")

FONT, FONT_BOLD, FONT_ITALIC, FONT_BOLD_ITALIC = (
    "QAMSans",
    "QAMSans-Bold",
    "QAMSans-Oblique",
    "QAMSans-BoldOblique",
)
_FONT_FILES = {
    FONT: "Vera.ttf",
    FONT_BOLD: "VeraBd.ttf",
    FONT_ITALIC: "VeraIt.ttf",
    FONT_BOLD_ITALIC: "VeraBI.ttf",
}


@cache
def _glyphs() -> frozenset[int]:
    """Register the Vera family shipped inside reportlab (same bytes on every machine) and
    return the code points all four faces can draw."""
    folder = Path(reportlab.__file__).parent / "fonts"
    covered: set[int] | None = None
    for name, file in _FONT_FILES.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))
        cmap = set(pdfmetrics.getFont(name).face.charToGlyph)
        covered = cmap if covered is None else covered & cmap
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD_ITALIC
    )
    return frozenset(covered or ())


def drawable(text: str) -> str:
    """Text that the body font alone can draw, for a place that has one font (chart labels,
    measuring). Controls become spaces, and a letter the font lacks falls back to its unaccented
    form ('ś' prints as 's'). Anything else becomes '?'. Paragraphs use :func:`esc` instead, which
    draws those characters with the fallback fonts."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(part if font is None else "?" * len(part) for font, part in runs(text, _glyphs()))


def esc(text: object) -> str:
    """User or data text made safe for Paragraph markup: `<b>` in a reviewer note prints as `<b>`.
    Characters the body font lacks are wrapped in the fallback font that draws them (Hebrew, Arabic,
    emoji...). Build the Paragraph with :func:`para` or :func:`plain`, so that right-to-left text is
    drawn in reading order."""
    text = str(text)
    if text.isascii() and text.isprintable():
        return escape(text)
    out = []
    for font, part in runs(text, _glyphs()):
        markup = escape(part).replace("\n", "<br/>")
        out.append(f'<font name="{font}">{markup}</font>' if font else markup)
    return "".join(out)


def draw_text(canv: Canvas, x: float, y: float, text: str, font: str, size: float) -> None:
    """``canv.drawString(x, y, text)`` for user text in any script, with the canvas already set to
    ``font`` at ``size``. Runs that the font lacks are drawn in the fallback fonts (regular weight),
    right-to-left text in reading order."""
    if text.isascii() and text.isprintable():
        canv.drawString(x, y, text)
        return
    parts = runs(text.replace("\n", " "), _glyphs())
    if all(name is None for name, _ in parts):
        canv.drawString(x, y, "".join(part for _, part in parts))
        return
    for i, part in visual([(is_rtl(name), part) for name, part in parts]):
        name = parts[i][0] or font
        canv.setFont(name, size)
        canv.drawString(x, y, part)
        x += stringWidth(part, name, size)
    canv.setFont(font, size)


# --- styles --------------------------------------------------------------------------------------


def _style(
    name: str, size: float, *, leading: float | None = None, bold: bool = False, **kw: Any
) -> ParagraphStyle:
    _glyphs()
    return ParagraphStyle(
        name,
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        leading=leading or round(size * 1.32, 1),
        textColor=kw.pop("textColor", INK),
        **kw,
    )


@cache
def styles() -> dict[str, ParagraphStyle]:
    return {
        "title": _style("title", 20, leading=24, bold=True, spaceAfter=2),
        "subtitle": _style("subtitle", 11, textColor=GREY, spaceAfter=10),
        "h1": _style("h1", 13.5, bold=True, textColor=ACCENT, spaceBefore=4, spaceAfter=3),
        "h2": _style("h2", 11, bold=True, spaceBefore=2, spaceAfter=3),
        "body": _style("body", 9.5),
        "lead": _style("lead", 10.5, leading=14),
        "small": _style("small", 8, textColor=GREY),
        "reason": _style("reason", 12, leading=16),
        "label": _style("label", 7.5, textColor=GREY),
        "value": _style("value", 11, leading=13.5, bold=True),
        "cell": _style("cell", 8, leading=10),
        # a cell whose long hyphenated words (ruleset ids) break at a hyphen, not mid-word
        "cell_hyphens": _style("cell_hyphens", 8, leading=10, embeddedHyphenation=1),
        # text whose tokens (case references, ids) must never break inside: a token wider than its
        # column overflows it rather than being split across lines
        "nobreak": _style("nobreak", 9.5, splitLongWords=0),
        "cellnobreak": _style("cellnobreak", 8, leading=10, splitLongWords=0),
        "cellhead": _style("cellhead", 8, leading=10, bold=True),
        "cellhead_right": _style("cellhead_right", 8, leading=10, bold=True, alignment=TA_RIGHT),
        "num": _style("num", 13, leading=16, bold=True, textColor=ACCENT),
        "footer": _style("footer", 7, leading=8.6, textColor=GREY),
        "count": _style("count", 9.5, alignment=TA_RIGHT),
    }


def para(markup: str, style: str) -> Paragraph:
    """A Paragraph from markup whose user parts are already escaped with :func:`esc`. It draws
    right-to-left text in reading order."""
    return styled(markup, styles()[style])


def styled(markup: str, look: ParagraphStyle) -> Paragraph:
    """:func:`para` in a ParagraphStyle of the caller's own."""
    if FALLBACK_MARKUP not in markup:
        return Paragraph(markup, look)
    markup = bolden(markup, look.fontName == FONT_BOLD)
    return (BidiParagraph if RTL_MARKUP in markup else Paragraph)(markup, look)


def plain(text: object, style: str) -> Paragraph:
    """A Paragraph of plain (user or data) text."""
    return para(esc(text), style)


# --- the document: page furniture, page x of y -------------------------------------------------


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type information
    """Holds pages back until the end so each can say 'page x of y'."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(GREY)
            self.drawRightString(PAGE_W - MARGIN_X, FOOTER_BASELINE, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


@dataclass(frozen=True)
class Furniture:
    """What every page carries besides the story (and the PDF's title and author)."""

    title: str
    author: str
    header: str | None  # the running header from page 2, if any
    rulesets: Sequence[RulesetRef]  # named in the footer of every page
    run_line: str  # the footer's second line, left of "Page x of y"
    draft: bool  # the draft banner on every page


class _Doc(BaseDocTemplate):  # type: ignore[misc]  # reportlab has no type information
    """A4 with the run's footer on every page, the draft banner when draft, and a running header."""

    def __init__(self, out: io.BytesIO, furniture: Furniture) -> None:
        self._header = furniture.header
        self._draft = draft = furniture.draft
        self._run_line = furniture.run_line
        labels = " · ".join(r.label for r in furniture.rulesets)
        self._rulesets_para = para("<b>Rulesets:</b> " + (esc(labels) or "none recorded"), "footer")
        _, ruleset_h = self._rulesets_para.wrap(WIDTH, PAGE_H)
        self._rulesets_y = FOOTER_BASELINE + 10
        bottom = self._rulesets_y + ruleset_h + 7 * mm
        top = (30 if draft else 21) * mm
        super().__init__(
            out,
            pagesize=A4,
            invariant=1,
            title=furniture.title,
            author=furniture.author,
            subject=furniture.title,
            creator="QAM",
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=top,
            bottomMargin=bottom,
        )
        frame = Frame(MARGIN_X, bottom, WIDTH, PAGE_H - top - bottom, 0, 0, 0, 0, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._furnish)])

    def _furnish(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        canv.saveState()
        y_top = PAGE_H - 10 * mm
        if self._draft:
            canv.setFillColor(colors.HexColor("#ececec"))
            canv.setFont(FONT_BOLD, 96)
            canv.translate(PAGE_W / 2, PAGE_H / 2)
            canv.rotate(50)
            canv.drawCentredString(0, -30, "DRAFT")
            canv.rotate(-50)
            canv.translate(-PAGE_W / 2, -PAGE_H / 2)
            canv.setFillColor(INK)
            canv.rect(MARGIN_X, y_top - 9 * mm, WIDTH, 9 * mm, stroke=0, fill=1)
            canv.setFillColor(colors.white)
            canv.setFont(FONT_BOLD, 11)
            canv.drawCentredString(PAGE_W / 2, y_top - 6 * mm, DRAFT_BANNER)
            y_top -= 11 * mm
        if self._header and doc.page > 1:
            canv.setFont(FONT, 8)
            canv.setFillColor(GREY)
            draw_text(canv, MARGIN_X, y_top - 4 * mm, self._header, FONT, 8)
            canv.setStrokeColor(RULE)
            canv.setLineWidth(0.5)
            canv.line(MARGIN_X, y_top - 6 * mm, PAGE_W - MARGIN_X, y_top - 6 * mm)
        top_of_footer = self._rulesets_y + self._rulesets_para.height + 3
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.line(MARGIN_X, top_of_footer, PAGE_W - MARGIN_X, top_of_footer)
        self._rulesets_para.drawOn(canv, MARGIN_X, self._rulesets_y)
        canv.setFont(FONT, 7.5)
        canv.setFillColor(GREY)
        draw_text(canv, MARGIN_X, FOOTER_BASELINE, self._run_line, FONT, 7.5)
        canv.restoreState()


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered PDF and how many pages it has."""

    data: bytes
    pages: int


def render_story(story: list[Flowable], furniture: Furniture) -> RenderedPdf:
    """Lay out ``story`` on A4 pages that carry ``furniture``."""
    buf = io.BytesIO()
    doc = _Doc(buf, furniture)
    doc.build(story, canvasmaker=_NumberedCanvas)
    return RenderedPdf(buf.getvalue(), doc.page)


# --- flowables ----------------------------------------------------------------------------------


class Section(Flowable):  # type: ignore[misc]  # reportlab has no type information
    """A section that starts on the current page only if its head (heading to chart) and the first
    rows of its table fit there, or the whole section does; otherwise on the next page. Unlike
    KeepTogether it never measures a long table just to decide."""

    def __init__(self, head: list[Flowable], tail: list[Flowable]) -> None:
        super().__init__()
        self._head = head
        self._tail = tail

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803 (reportlab's names)
        return aW, 0xFFFFFF  # always asks to be split: split() decides where the section starts

    def split(self, aW: float, aH: float) -> list[Flowable]:  # noqa: N803
        content = [*self._head, *self._tail]
        frame = getattr(self, "_frame", None)
        if frame is None or getattr(frame, "_atTop", False):
            return content
        need = _stack_height(self._head, aW, aH) + _MIN_FIRST_ROWS
        if need > aH:
            need = min(need, _stack_height(content, aW, aH))  # a short section may still fit whole
        return [FrameBreak(), *content] if need > aH else content


def _stack_height(flowables: list[Flowable], aW: float, aH: float) -> float:  # noqa: N803
    return float(sum(f.wrap(aW, aH)[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in flowables))


#: room for a table's title, column headings and first row below a section's head
_MIN_FIRST_ROWS: float = 30 * mm


class HRule(Flowable):  # type: ignore[misc]  # reportlab has no type information
    """A thin full-width rule under a heading."""

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        self._w = aw
        return aw, 3

    def draw(self) -> None:
        self.canv.setStrokeColor(RULE)
        self.canv.setLineWidth(0.6)
        self.canv.line(0, 1.5, self._w, 1.5)
