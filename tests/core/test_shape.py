"""engine.core.shape: the one "did you mean" suggester and the YAML shape checks every loader shares."""

from __future__ import annotations

from engine.core.errors import Problem
from engine.core.shape import ShapeChecker, describe, line_of, nearest, suggest
from engine.core.yamlio import parse_yaml


def test_suggest_names_the_nearest_known_name_or_lists_them_sorted() -> None:
    assert suggest("titel", ["version", "title"]) == " (did you mean 'title'?)"
    assert suggest("zzz", ["version", "title"]) == " (known: title, version)"
    assert suggest("zzz", []) == ""


def test_suggest_ignores_case_unless_told_not_to() -> None:
    assert suggest("ID", ["id", "text"]) == " (did you mean 'id'?)"
    assert suggest("ID", ["id", "text"], ignore_case=False) == " (known: id, text)"
    assert suggest("Title", ["title"], ignore_case=False) == " (did you mean 'title'?)"


def test_suggest_without_the_list_of_known_names() -> None:
    assert suggest("zzz", ["title"], list_known=False) == ""
    assert suggest("titel", ["title"], list_known=False) == " (did you mean 'title'?)"


def test_the_cutoff_sets_how_near_a_near_miss_is() -> None:
    # difflib ratio of BLX and BLK is 2/3; of BXX and BLK 1/3
    assert nearest("BLX", ["BLK", "CRN"]) == "BLK"
    assert nearest("BXX", ["BLK", "CRN"]) is None
    assert nearest("BXX", ["BLK", "CRN"], cutoff=0.3) == "BLK"
    assert nearest("blx", ["BLK"], ignore_case=False) is None
    assert nearest("blx", ["BLK"]) == "BLK"


def _checker(**style: bool) -> tuple[ShapeChecker, list[Problem]]:
    problems: list[Problem] = []
    return ShapeChecker("f.yaml", problems, **style), problems


def test_mapping_says_what_it_got_or_what_belongs_in_it() -> None:
    check, problems = _checker()
    assert check.mapping({"a": 1}, 1, "a file") == {"a": 1}
    assert check.mapping(["a"], 1, "a file") is None
    assert check.mapping("x", 2, "a force file", contents="'force' and 'places'") is None
    assert [str(p) for p in problems] == [
        "f.yaml:1: a file must be a mapping of keys to values, got a list",
        "f.yaml:2: a force file must be a mapping with 'force' and 'places'",
    ]


def test_keys_reports_unknown_then_missing_keys_at_their_lines() -> None:
    node = parse_yaml("form: x\nTitle: y\nextra: 1\n", "f.yaml")
    check, problems = _checker()
    assert check.keys(node, "form", required=("form", "title")) is False
    assert [str(p) for p in problems] == [
        "f.yaml:2: form: unknown key 'Title' (did you mean 'title'?)",
        "f.yaml:3: form: unknown key 'extra' (known: form, title)",
        "f.yaml:1: form: missing required key 'title'",
    ]


def test_keys_in_a_files_own_words_and_suggestion_style() -> None:
    node = parse_yaml("x: 1\nTitle: y\nextra: 1\n", "f.yaml")
    check, problems = _checker(ignore_case=False, list_known=False)
    check.keys(
        node, "", required=("x", "title"), optional=("help",), at=9, missing="question is missing '{key}'"
    )
    assert [str(p) for p in problems] == [
        "f.yaml:2: unknown key 'Title' (did you mean 'title'?)",
        "f.yaml:3: unknown key 'extra'",
        "f.yaml:9: question is missing 'title'",
    ]


def test_a_problem_may_name_its_field() -> None:
    check, problems = _checker()
    check.problem(4, "duplicate place code 'AAA'", "places.1.code")
    assert [str(p) for p in problems] == ["f.yaml:4:places.1.code: duplicate place code 'AAA'"]


def test_choice_and_text_list_suggest_known_values() -> None:
    node = parse_yaml("kind: rat\nkinds: [rate, cout, rate]\n", "f.yaml")
    check, problems = _checker()
    assert check.choice(node, "kind", "rule", ("rate", "count")) is None
    assert check.text_list(node, "kinds", "rule", ("rate", "count")) == ("rate",)
    assert [str(p) for p in problems] == [
        "f.yaml:1: rule: 'kind' must be one of the known values, got 'rat' (did you mean 'rate'?)",
        "f.yaml:2: rule: unknown kinds value 'cout' (did you mean 'count'?)",
        "f.yaml:2: rule: kinds value 'rate' is listed twice",
    ]


def test_describe_and_line_of() -> None:
    node = parse_yaml("a:\n  - 1\n  - 2\n", "f.yaml")
    assert [describe(v) for v in ({}, [], None, True, "x", 3)] == [
        "a mapping",
        "a list",
        "nothing",
        "true",
        "'x'",
        "3",
    ]
    assert (line_of(node), line_of(node, "a"), line_of(node["a"], 1)) == (1, 1, 3)
    assert line_of({"a": 1}, "a") is None
