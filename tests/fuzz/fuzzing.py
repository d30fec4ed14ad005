"""What the fuzz tests share: the corpus folders, the run length (QAM_FUZZ_EXAMPLES), hypothesis's
settings, a guard against hangs, and byte-level mutations of a seed file.

Every fuzz test replays its corpus first (tests/fuzz/corpus/<target>/: valid seeds, and every input
that once crashed, minimised), then draws a bounded number of new inputs with hypothesis.

In the normal suite each target draws a fixed number of examples (a few seconds), derandomized and
without an example database, so CI runs exactly the same inputs every time. Setting QAM_FUZZ_EXAMPLES
runs longer with fresh random inputs (``QAM_FUZZ_EXAMPLES=20000 python -m pytest -n 0 -m fuzz
tests/fuzz``); a failure prints the minimised input, to be saved in the target's corpus folder with
the fix.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"
#: examples per target in a long run (unset: each target's own small CI budget)
ENV_EXAMPLES = "QAM_FUZZ_EXAMPLES"
#: one input taking longer than this is a failure (hypothesis's deadline): generous, as the suite
#: shares two cores with other work (3 s was passed by a 0.1 s input under a load of 8 on 2 cores,
#: and hypothesis then shrank away from the fixed CI inputs), but far beyond any honest run on a
#: small input
DEADLINE = dt.timedelta(seconds=15)
#: one input still running after this many seconds is a hang: the guard interrupts it
HANG_SECONDS = 20


def long_run() -> bool:
    return bool(os.environ.get(ENV_EXAMPLES))


def examples(ci_budget: int) -> int:
    """How many inputs a target draws: QAM_FUZZ_EXAMPLES when set, otherwise its CI budget."""
    value = os.environ.get(ENV_EXAMPLES)
    return int(value) if value else ci_budget


def fuzz_settings(ci_budget: int) -> settings:
    """Hypothesis settings for a fuzz target: bounded, deadlined, and deterministic unless a long run.

    ``database=None``: no example database, so a run never depends on what an earlier one found
    (the corpus folders are the memory, committed with the fix). ``derandomize``: the CI inputs are
    the same on every run; a long run draws fresh ones.
    """
    return settings(
        max_examples=examples(ci_budget),
        deadline=DEADLINE,
        database=None,
        derandomize=not long_run(),
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
        print_blob=long_run(),
    )


def corpus(target: str, pattern: str = "*") -> list[Path]:
    """The corpus files of a target, sorted (the same order on every machine)."""
    return sorted(p for p in (CORPUS / target).glob(pattern) if p.is_file())


class Hang(Exception):
    """One input ran longer than HANG_SECONDS."""


@contextlib.contextmanager
def hang_guard(what: Any, seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Interrupt the block with Hang (naming ``what``) after ``seconds``: hypothesis's deadline only
    judges an input once it returns, so a loop that never ends would otherwise stall the suite."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s: {what!r:.300}")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ----------------------------------------------------------------------------- mutating bytes

#: byte strings that tend to matter to a CSV or JSON reader: quoting, separators, line ends, bytes
#: that are not UTF-8, byte order marks, control characters, formula starts, numbers out of range
INTERESTING: tuple[bytes, ...] = (
    b'"',
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r",
    b"\r\n",
    b"\x00",
    b"\x1b",
    b"\x7f",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",  # a UTF-16 surrogate, encoded as if it were a character
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"PK\x03\x04",
    b"'=",
    b'=HYPERLINK("x")',
    b"\xef\xbc\x9d",  # full-width =
    b"\xe2\x80\xae",  # right-to-left override
    b'""',
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"NaN",
    b"-Infinity",
    b"1e400",
    b"-0",
    b"\\ud800",
    b"\\u0000",
    b"9" * 4400,
    b"[" * 3000,
    b"2026-02-30",
    b"1899-12-31",
    b"45000",
    b"n/a",
    b"   ",
)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """One seed with one to five mutations: a byte replaced, an interesting chunk or random bytes
    inserted, a range deleted or repeated, or the tail cut off (a truncated upload)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["replace", "insert", "random", "delete", "repeat", "truncate"]))
        at = draw(st.integers(0, len(data)))
        if kind == "replace" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(INTERESTING))
        elif kind == "random":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            data[at : at + draw(st.integers(1, 64))] = b""
        elif kind == "repeat":
            chunk = data[at : at + draw(st.integers(1, 200))]
            data[at:at] = chunk * draw(st.integers(1, 3))
        elif kind == "truncate":
            del data[at:]
    return bytes(data)
