"""engine.reports.layout: the house styles, and user text in any script (Hebrew, Arabic, emoji...)
printed with the fallback fonts of engine.reports.scripts."""

from __future__ import annotations

import io
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from bidi import get_display
from pypdf import PdfReader
from reportlab.platypus import Table

from engine.reports.layout import Furniture, esc, para, plain, render_story
from engine.reports.scripts import MISSING, RTL_BOLD, SYMBOLS_BOLD, visual

REF = "SS-2026W47-HRB-000"

HEBREW = "השוטר לא הסביר את הסיבה לחיפוש ולא נתן את שמו 12 פעמים; יש לבדוק שוב עם המפקח"
ARABIC = "مرحبا بالعالم"
EMOJI = "😀👍🔥🚓❤☺"
COMBINING = "e\u0301 q\u0301 Ελλάδα Москва"  # é composed; q́ keeps its mark; Greek, Cyrillic
NOTE = f"Note: {HEBREW} · {ARABIC} · {EMOJI} · {COMBINING} end."


@pytest.mark.parametrize("style", ["nobreak", "cellnobreak"])
def test_a_nobreak_paragraph_never_splits_a_token(style: str) -> None:
    p = plain(f"{REF} {REF}", style)
    p.wrap(40, 1000)  # narrower than one reference
    lines = [" ".join(w if isinstance(w, str) else w.text for w in line[1]) for line in p.blPara.lines]
    assert lines == [REF, REF]


def test_an_ordinary_cell_does_split_a_long_token() -> None:
    p = plain(REF, "cell")
    p.wrap(40, 1000)
    assert len(p.blPara.lines) > 1


# --- any script ----------------------------------------------------------------------------------


def _pdf(*texts: str, header: str | None = None) -> bytes:
    """A page with each text in a wide paragraph, and the first in a narrow table cell, too."""
    run_line = f"Run 1 · {header}" if header else "Run 1"
    furniture = Furniture(title="t", author="a", header=header, rulesets=(), run_line=run_line, draft=False)
    story = [Table([[plain(texts[0], "body")]], colWidths=[120]), *(plain(t, "body") for t in texts)]
    return render_story(story, furniture).data


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_hebrew_arabic_emoji_and_combining_marks_print_as_typed() -> None:
    text = _text(_pdf(NOTE))
    assert "?" not in text and MISSING not in text
    # Arabic is printed in its joined letter forms: read back as its letters
    letters = unicodedata.normalize("NFKC", text)
    for word in [*HEBREW.replace(";", "").split(), *ARABIC.split(), "é", "q\u0301", "Ελλάδα", "Москва"]:
        assert word in letters, word
    for emoji in EMOJI:  # copied out of the PDF as the emoji themselves (reportlab alone writes junk)
        assert emoji in text


def test_a_wrapped_right_to_left_sentence_reads_from_the_first_line_down() -> None:
    lines = [
        line for line in _text(_pdf(HEBREW)).splitlines() if any("\u0590" <= c <= "\u05ff" for c in line)
    ]
    words = HEBREW.split()
    # the narrow cell: its first line holds the sentence's first words (not its last)
    first = lines[0].split()
    assert len(first) < len(words) and set(first) == set(words[: len(first)])


@pytest.mark.parametrize(
    "text",
    [
        NOTE,
        f"Team {HEBREW[:20]} (2) and {ARABIC} 50% done",
        "מספר 123 · 456 ok",
        "(שלום) [عالم]",
        "(שלום) עולם ok",
        "הוא (רס״ר כהן) אמר (2) {x} ١٢٣ ٤٥٦ abc",
        "תודה 👍 רבה 🚓 ok 👍",
    ],
)
def test_a_line_is_drawn_in_the_order_of_unicodes_bidi_algorithm(text: str) -> None:
    from engine.reports.layout import _glyphs
    from engine.reports.scripts import is_rtl, runs

    parts = runs(text, _glyphs())
    drawn = "".join(part for _, part in visual([(is_rtl(font), part) for font, part in parts]))
    logical = "".join(part for _, part in parts)  # controls cleaned, Arabic joined
    # python-bidi leaves '(' as '(' where it must be drawn as ')': compared apart, below
    same = str.maketrans("()[]{}", "||||||")
    assert drawn.translate(same) == get_display(logical, base_dir="L").translate(same)


def test_brackets_in_right_to_left_text_face_the_right_way() -> None:
    from engine.reports.layout import _glyphs
    from engine.reports.scripts import is_rtl, runs

    parts = runs("Note: הסביר (2) [שוב] ok (x)", _glyphs())
    drawn = "".join(part for _, part in visual([(is_rtl(font), part) for font, part in parts]))
    assert drawn == "Note: [בוש] (2) ריבסה ok (x)"


def test_bold_text_in_another_script_prints_bold() -> None:
    p = para(f"<b>Case {esc('שלום')}:</b> {esc('שלום')} {esc('Ωμέγα')}", "body")
    p.wrap(400, 100)
    fonts = [f.fontName for line in p.blPara.lines for f in line.words if f.fontName.startswith("QAMRtl")]
    assert fonts[0] == RTL_BOLD and RTL_BOLD not in fonts[1:]
    title = plain("μέγα", "title")  # a bold style
    title.wrap(400, 100)
    assert title.blPara.fontName == SYMBOLS_BOLD


def test_a_character_no_font_draws_prints_as_a_replacement_character_not_a_question_mark() -> None:
    text = _text(_pdf("Officer 王小明 ok"))
    assert "Officer" in text and MISSING * 3 in text and "?" not in text


def test_ascii_text_is_only_escaped() -> None:
    assert esc("a <b> & c") == "a &lt;b&gt; &amp; c"
    assert "font" not in esc("Café – naïve · Wiśniewska")  # Latin: Vera alone, as before


def test_a_page_with_other_scripts_is_byte_identical_when_rendered_again_in_a_fresh_process(
    tmp_path: Path,
) -> None:
    first = _pdf(NOTE, header=HEBREW)
    _pdf("🙂 Ωμέγα שלום", EMOJI[::-1])  # other glyphs of the same fonts in between
    assert _pdf(NOTE, header=HEBREW) == first
    script = (
        "import sys; from pathlib import Path; import tests.reports.test_layout as t; "
        "Path(sys.argv[1]).write_bytes(t._pdf(t.NOTE, header=t.HEBREW))"
    )
    repo = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "note.pdf")], cwd=repo, check=True)
    assert (tmp_path / "note.pdf").read_bytes() == first
