"""The bounds every tabular input file is read within (issue 20): how wide a row, how long a cell and
a line, how deeply nested a JSON submission may be. Each is far beyond any real file, and small
enough that a hostile or broken one is refused with one clear message instead of filling memory or
printing a line per column.
"""

from __future__ import annotations

#: the most columns a submission row may have: the widest form has about 30 questions, and a file
#: holding every bundled form's columns about 120; a 100,000-column header is one error, not 100,000
MAX_COLUMNS = 1000
#: the longest cell (characters) of a submission or extract: what one Excel cell can hold, so no
#: reviewer's note is longer, and an incidents extract's values are all far shorter
MAX_CELL_CHARACTERS = 32_767
#: the longest physical line of a CSV file read (characters): a row of MAX_COLUMNS short answers is
#: a few KB; a file without line breaks (or one huge quoted cell) is refused at this line instead of
#: being read whole into memory
MAX_LINE_CHARACTERS = 4 * 2**20
#: how deeply a JSON submission may nest: a list of objects of single values needs 2 levels, and
#: anything within this depth but deeper than that is reported value by value
MAX_JSON_DEPTH = 64


def too_long(length: int, limit: int = MAX_CELL_CHARACTERS) -> str:
    """The message for a cell of ``length`` characters, over ``limit``."""
    return (
        f"the cell is {length:,} characters long, more than the {limit:,} a cell may hold (as in Excel): "
        "shorten it"
    )


def too_wide(width: int, what: str = "header") -> str:
    """The message for a header (or JSON object) of ``width`` columns, over MAX_COLUMNS."""
    return f"the {what} has {width:,} columns, more than the {MAX_COLUMNS:,} a submission may have: is this the right file?"
