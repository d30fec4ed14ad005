"""User text in any script. The body font (Vera) draws Latin text. A character that Vera lacks is
drawn with DejaVu Sans (Hebrew, Arabic, Greek, Cyrillic, symbols) or Noto Emoji. Both fonts are
shipped in engine/reports/fonts/, so every machine embeds the same bytes.

Right-to-left text is handled in two steps. When the markup is made, a right-to-left stretch gets a
font of its own, and Arabic letters are joined (arabic-reshaper). When a line is drawn, after the
line breaks are known, the stretch is put in visual order (python-bidi). A Hebrew sentence that
wraps over two lines therefore reads from the first line to the second.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import arabic_reshaper  # type: ignore[import-untyped]  # no type information
from bidi import get_display  # type: ignore[import-untyped]  # no type information
from bidi.mirror import MIRRORED  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

FOLDER = Path(__file__).parent / "fonts"

#: DejaVu Sans, for letters and symbols that the body font lacks
SYMBOLS, SYMBOLS_BOLD = "QAMSymbols", "QAMSymbols-Bold"
#: DejaVu Sans again, under names used only for right-to-left stretches. A drawn line's fragments
#: then tell which of them to reverse, and reportlab never merges one with a neighbour.
RTL, RTL_BOLD = "QAMRtl", "QAMRtl-Bold"
#: Noto Emoji, monochrome (reportlab cannot embed colour emoji), and again for emoji inside a
#: right-to-left stretch
EMOJI, RTL_EMOJI = "QAMEmoji", "QAMRtlEmoji"
_FILES = {
    SYMBOLS: "DejaVuSans.ttf",
    SYMBOLS_BOLD: "DejaVuSans-Bold.ttf",
    RTL: "DejaVuSans.ttf",
    RTL_BOLD: "DejaVuSans-Bold.ttf",
    EMOJI: "NotoEmoji-Regular.ttf",
    RTL_EMOJI: "NotoEmoji-Regular.ttf",
}
_RTL_FONTS = frozenset({RTL, RTL_BOLD, RTL_EMOJI})
#: what esc() puts around a right-to-left stretch: markup with it needs a BidiParagraph
RTL_MARKUP = f'<font name="{RTL}'
#: the start of every fallback font tag that esc() writes
FALLBACK_MARKUP = '<font name="QAM'
_BOLD_TAGS = re.compile(rf'<(/?)b>|<font name="({SYMBOLS}|{RTL})">')
#: printed for a character that no font here draws (CJK among them)
MISSING = "\ufffd"

_RIGHT_TO_LEFT = frozenset({"R", "AL"})
_STRONG = frozenset({"L", "R", "AL"})
#: variation selectors and skin-tone modifiers: a monochrome emoji ignores them
_DROP = frozenset([*range(0xFE00, 0xFE10), *range(0x1F3FB, 0x1F400), *range(0xE0100, 0xE01F0)])

#: '(' drawn as ')' in right-to-left text, and so on (UAX #9 rule L4), which python-bidi leaves to
#: the font, and reportlab does not do
_MIRROR = str.maketrans(MIRRORED)

#: from here on, Noto Emoji rather than DejaVu (which has the emoticons, in another style)
_EMOJI_FIRST = 0x1F000

Run = tuple[str | None, str]  # (font family, or None for the body font; text)


@cache
def _cover() -> tuple[frozenset[int], frozenset[int]]:
    """Register the fallback fonts. Return the code points that DejaVu draws in both weights and
    the code points that Noto Emoji draws."""
    if ttfonts.makeToUnicodeCMap is not _to_unicode_cmap:
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, file in _FILES.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FOLDER / file)))
    for normal, bold in ((SYMBOLS, SYMBOLS_BOLD), (RTL, RTL_BOLD), (EMOJI, EMOJI), (RTL_EMOJI, RTL_EMOJI)):
        # italic text prints upright: DejaVu's oblique faces have no Arabic, and Hebrew has no italic
        pdfmetrics.registerFontFamily(normal, normal=normal, bold=bold, italic=normal, boldItalic=bold)

    def cmap(name: str) -> frozenset[int]:
        return frozenset(pdfmetrics.getFont(name).face.charToGlyph)

    return cmap(SYMBOLS) & cmap(SYMBOLS_BOLD), cmap(EMOJI)


_REPORTLAB_CMAP = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """reportlab's ToUnicode CMap (how a viewer copies and searches a font's text), with characters
    beyond U+FFFF (emoji) written in UTF-16 as PDF requires. reportlab writes their code point,
    which viewers cannot read. The output for any other character is unchanged."""
    cmap: str = _REPORTLAB_CMAP(fontname, subset)
    for i, code in enumerate(subset):
        if code > 0xFFFF:
            utf16 = chr(code).encode("utf-16-be").hex().upper()
            cmap = cmap.replace(f"<{i:02X}> <{code:04X}>", f"<{i:02X}> <{utf16}>")
    return cmap


def _control(ch: str) -> str | None:
    """'' for a character that prints nothing (format characters such as zero-width joiners and
    direction marks, variation selectors, skin-tone modifiers), ' ' for a control or separator
    other than a line break, None for any other character."""
    category = unicodedata.category(ch)
    if category == "Cf" or ord(ch) in _DROP:
        return ""
    if ch != "\n" and category.startswith(("C", "Z")):
        return " "
    return None


def _plain_letter(ch: str, body: frozenset[int]) -> str:
    """An accented letter that the body font lacks, as its plain letter ('ś' as 's'), or ''."""
    if not unicodedata.category(ch).startswith("L"):
        return ""
    parts = [c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)]
    return "".join(parts) if parts and all(ord(c) in body for c in parts) else ""


def runs(text: str, body: frozenset[int]) -> list[Run]:
    """``text`` as runs of one font each, in logical order. ``body`` is the set of code points that
    the body font draws (the run's font is None). A right-to-left stretch is in RTL, shaped. A
    character the body font lacks is in SYMBOLS or EMOJI (every emoji beyond U+1F000, so that they
    share one style), or is MISSING in SYMBOLS when neither has it and has no compatibility form they
    draw (a full-width ＝ prints as =). An accented Latin letter falls back to its plain letter in
    the body font, as it did before these fonts existed."""
    symbols, emoji = _cover()
    out: list[Run] = []

    def add(font: str | None, part: str) -> None:
        if out and out[-1][0] == font:
            out[-1] = (font, out[-1][1] + part)
        elif part:
            out.append((font, part))

    for rtl, part in _stretches(unicodedata.normalize("NFC", text)):
        for ch in _shaped(part, symbols) if rtl else part:
            cleaned = _control(ch)
            ch = ch if cleaned is None else cleaned
            if not ch:
                continue
            if rtl:
                add(*_in_stretch(ch, symbols, emoji))
            elif ch == "\n" or ord(ch) in body:
                add(None, ch)
            elif plain := _plain_letter(ch, body):
                add(None, plain)
            elif ord(ch) in emoji and (ord(ch) >= _EMOJI_FIRST or ord(ch) not in symbols):
                add(EMOJI, ch)
            elif ord(ch) in symbols:
                add(SYMBOLS, ch)
            elif compatible := _compatible(ch, body, symbols):
                for run in compatible:
                    add(*run)
            else:
                add(SYMBOLS, MISSING)
    return out


def _compatible(ch: str, body: frozenset[int], symbols: frozenset[int]) -> list[Run]:
    """A character neither font draws as its compatibility form (NFKC) where both together draw that:
    the full-width ＝ ＋ － ＠ that East Asian input methods type as = + - @ (which printed as a
    missing-glyph box), full-width digits and brackets, ligatures, circled and superscript numbers.
    [] when there is none."""
    form = unicodedata.normalize("NFKC", ch)
    if form == ch:
        return []
    out: list[Run] = []
    for c in form:
        if ord(c) in body:
            out.append((None, c))
        elif ord(c) in symbols:
            out.append((SYMBOLS, c))
        else:
            return []
    return out


def bolden(markup: str, bold: bool) -> str:
    """``markup`` with a fallback font tag made bold where the text around it is bold: inside
    ``<b>``, or anywhere when the style's font is ``bold``. reportlab's ``<font name>`` sets the
    weight of its font and ignores the bold around it."""
    depth = int(bold)

    def tag(m: re.Match[str]) -> str:
        nonlocal depth
        if m[2] is None:
            depth += -1 if m[1] else 1
            return m[0]
        return f'<font name="{m[2]}-Bold">' if depth > 0 else m[0]

    return _BOLD_TAGS.sub(tag, markup)


def _in_stretch(ch: str, symbols: frozenset[int], emoji: frozenset[int]) -> Run:
    """A character of a right-to-left stretch in a right-to-left font: every unit of the stretch
    is then known when lines are drawn."""
    if ord(ch) in emoji and (ord(ch) >= _EMOJI_FIRST or ord(ch) not in symbols):
        return RTL_EMOJI, ch
    if ord(ch) in symbols:
        return RTL, ch
    form = unicodedata.normalize("NFKC", ch)  # a full-width sign, say, as its usual form
    return RTL, form if form != ch and all(ord(c) in symbols for c in form) else MISSING


def _stretches(text: str) -> Iterator[tuple[bool, str]]:
    """``text`` cut into left-to-right parts and right-to-left stretches (True). A stretch runs from
    a right-to-left letter (or Arabic digit) to the last one, or the last number after one, before
    the next left-to-right letter or line break. This is the span that Unicode's bidi algorithm
    (UAX #9) sets right to left in a left-to-right paragraph. Neutrals at its edges take the
    paragraph's direction."""
    classes = _classes(text)
    start = i = 0
    while i < len(text):
        if classes[i] not in ("R", "AL", "AN"):
            i += 1
            continue
        end = k = i
        while k + 1 < len(text) and classes[k + 1] not in ("L", "B"):
            k += 1
            if classes[k] in ("R", "AL", "EN", "AN"):
                end = k
        if start < i:
            yield False, text[start:i]
        yield True, text[i : end + 1]
        start = i = end + 1
    if start < len(text):
        yield False, text[start:]


_BRACKETS = {"(": ")", "[": "]", "{": "}"}


def _classes(text: str) -> list[str]:
    """Each character's bidi class after the UAX #9 rules that decide where a stretch ends, for a
    left-to-right paragraph. A European number after Arabic letters is an Arabic number (W2). A '%'
    after a European number joins it (W5). A number after left-to-right letters is left to right
    (W7). A bracket pair takes the direction of its content and context (N0)."""
    classes = [unicodedata.bidirectional(c) for c in text]
    if not any(k in _RIGHT_TO_LEFT for k in classes):
        return classes
    last = "L"
    for i, k in enumerate(classes):
        if k in _STRONG:
            last = k
        elif k == "B":
            last = "L"
        elif k == "EN":
            classes[i] = {"AL": "AN", "L": "L"}.get(last, "EN")
        elif k == "ET" and i and classes[i - 1] == "EN":
            classes[i] = "EN"
    stack: list[tuple[str, int]] = []
    pairs = []
    for i, ch in enumerate(text):
        if classes[i] == "B":
            stack.clear()
        elif ch in _BRACKETS and len(stack) < 63:
            stack.append((_BRACKETS[ch], i))
        elif ch in _BRACKETS.values():
            opened = [n for n, (closing, _) in enumerate(stack) if closing == ch]
            if opened:
                pairs.append((stack[opened[-1]][1], i))
                del stack[opened[-1] :]
    for opening, closing in sorted(pairs):
        inside = {_direction(k) for k in classes[opening + 1 : closing]}
        before = next((d for j in range(opening - 1, -1, -1) if (d := _direction(classes[j]))), "L")
        if "L" in inside or "R" in inside:
            classes[opening] = classes[closing] = "L" if "L" in inside or before == "L" else "R"
    return classes


def _direction(bidi_class: str) -> str | None:
    """'L' or 'R' for a class that sets a direction (numbers count as right to left; a line break
    starts a left-to-right paragraph), else None."""
    return "L" if bidi_class in ("L", "B") else "R" if bidi_class in ("R", "AL", "EN", "AN") else None


def _shaped(stretch: str, symbols: frozenset[int]) -> str:
    """Arabic letters in ``stretch`` in their joined forms (arabic-reshaper, which also drops the
    vowel marks that reportlab cannot position). A joined form or ligature that DejaVu lacks is
    replaced by its plain letters."""
    if not any(unicodedata.bidirectional(c) == "AL" for c in stretch):
        return stretch
    shaped: str = arabic_reshaper.reshape(stretch)
    return "".join(c if ord(c) in symbols else unicodedata.normalize("NFKC", c) for c in shaped)


def is_rtl(font: str | None) -> bool:
    """Whether a run or fragment in ``font`` is a right-to-left stretch."""
    return font in _RTL_FONTS


def visual(units: Sequence[tuple[bool, str]]) -> list[tuple[int, str]]:
    """The units of one line, such as fragments or words, in the order they are drawn from left to
    right. Each unit is given as (True for a right-to-left stretch's, its text). Each unit is paired
    with its index and its text in drawing order. A run of stretch units, and the spaces between
    them, reads right to left. python-bidi orders the characters within each unit; brackets in
    them are mirrored."""
    order: list[tuple[int, str]] = []
    i = 0
    while i < len(units):
        if not units[i][0]:
            order.append((i, units[i][1]))
            i += 1
            continue
        end = k = i
        while k + 1 < len(units) and (units[k + 1][0] or units[k + 1][1].isspace()):
            k += 1
            if units[k][0]:
                end = k
        order += [
            (j, str(get_display(units[j][1], base_dir="R")).translate(_MIRROR)) for j in range(end, i - 1, -1)
        ]
        i = end + 1
    return order


class BidiParagraph(Paragraph):  # type: ignore[misc]  # reportlab has no type information
    """A Paragraph whose right-to-left stretches are drawn in visual order, line by line. Lines are
    broken in logical order and reordered only while they are drawn."""

    blPara: Any  # reportlab's broken lines, set by wrap()

    def drawPara(self, debug: int = 0) -> None:  # noqa: N802 (reportlab's name)
        logical = self.blPara
        self.blPara = _visual_lines(logical)
        try:
            super().drawPara(debug)
        finally:
            self.blPara = logical


def _visual_lines(para: Any) -> Any:
    """A copy of reportlab's broken lines (``blPara``) in visual order."""
    if para.kind == 0:  # one fragment, so one font: words
        if not is_rtl(para.fontName):
            return para
        lines = [(extra, [t for _, t in visual([(True, w) for w in words])]) for extra, words in para.lines]
        return para.clone(lines=lines)
    lines = []
    for line in para.lines:
        frags = line.words
        order = visual([(is_rtl(getattr(f, "fontName", None)), getattr(f, "text", "")) for f in frags])
        drawn = copy.copy(line)
        drawn.words = [
            frags[i] if getattr(frags[i], "text", "") == t else frags[i].clone(text=t) for i, t in order
        ]
        lines.append(drawn)
    return para.clone(lines=lines)
