"""A form's own words (engine.inputs.forms): the optional ``label`` (how a list of case types names it)
and ``noun`` (what one case is called in a reason), their defaults, and a bad one refused at its line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.core.errors import FormError
from engine.inputs.forms import Form, default_words, load_form, load_forms

REPO = Path(__file__).resolve().parents[2]
HATE_TEXT = (REPO / "qa_forms" / "hate_crime.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "hate_crime.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_new_forms_declare_their_label_and_noun(forms: dict[str, Form]) -> None:
    new = ("child_sexual_exploitation", "hate_crime", "missing_from_home", "problem_solving")
    assert {t: (forms[t].label, forms[t].noun) for t in new} == {
        "child_sexual_exploitation": ("child sexual exploitation", "children at risk of exploitation"),
        "hate_crime": ("hate crime", "hate crime reports"),
        "missing_from_home": ("missing from home", "missing episodes"),
        "problem_solving": ("problem solving", "problem-solving plans"),
    }


BUNDLED = ("crime_file", "domestic_abuse", "investigation", "stop_search", "victim_care")


def test_the_bundled_forms_keep_the_words_briefings_have_always_used(forms: dict[str, Form]) -> None:
    assert {t: (forms[t].label, forms[t].noun) for t in BUNDLED} == {
        "crime_file": ("crime files", "case files"),
        "domestic_abuse": ("domestic abuse", "domestic abuse cases"),
        "investigation": ("investigations", "investigations"),
        "stop_search": ("stop searches", "searches"),
        "victim_care": ("victim care", "victim cases"),
    }


def test_a_form_without_words_is_named_by_its_case_type(tmp_path: Path) -> None:
    text = (
        HATE_TEXT.replace("form: hate_crime", "form: racist_graffiti")
        .replace("label: hate crime\n", "")
        .replace("noun: hate crime reports\n", "")
    )
    form = load_form(_write(tmp_path, text, "racist_graffiti.yaml"))
    assert (form.label, form.noun) == ("racist graffiti", "racist graffiti cases")
    assert default_words("stop_search") == ("stop searches", "searches")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("noun: hate crime reports", "noun: Hate Crime Reports", "'noun' must be a few words on one line"),
        ("noun: hate crime reports", "noun: hate crime reports; updates", "lower case, or an acronym"),
        ("label: hate crime", "label: ''", "'label' must be non-empty text"),
        ("noun: hate crime reports", "noun: [reports]", "'noun' must be non-empty text"),
        ("label: hate crime", "label: " + "very " * 12 + "long", "at most 60 characters"),
        ("label: hate crime", "lable: hate crime", "unknown key 'lable' (did you mean 'label'?)"),
    ],
)
def test_a_bad_label_or_noun_is_refused_at_its_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in HATE_TEXT
    text = HATE_TEXT.replace(old, new, 1)
    path = _write(tmp_path, text)
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if row.startswith(new.split(":")[0]))
    with pytest.raises(FormError) as info:
        load_form(path)
    problems = [str(p) for p in info.value.problems]
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in problems), problems


def test_forms_list_shows_every_form_with_the_items_it_feeds() -> None:
    listed = CliRunner().invoke(app, ["forms", "list"])
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:] if line.strip()}
    assert set(rows) == set(load_forms(REPO / "qa_forms"))
    assert "D7, M7" in rows["missing_from_home"] and rows["missing_from_home"].endswith("missing episodes")
    assert " D10 " in rows["problem_solving"] and " D7 " in rows["hate_crime"]
    assert " D11 " in rows["stop_search"] and rows["stop_search"].endswith("searches")


def test_an_acronym_may_be_in_capitals(tmp_path: Path) -> None:
    text = HATE_TEXT.replace("noun: hate crime reports", "noun: NCHI and crime reports")
    assert load_form(_write(tmp_path, text)).noun == "NCHI and crime reports"
