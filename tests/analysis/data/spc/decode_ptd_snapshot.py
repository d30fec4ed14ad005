"""Decode an NHSRplotthedots testthat value snapshot (R serialize(), XDR, base64) into a reference CSV.

Usage: python decode_ptd_snapshot.py ae_all_performance.snapshot.b64 > ae_all_performance.csv
Reads only what those snapshots hold: a data frame of numeric, logical and character columns.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import math
import struct
import sys
from typing import Any

NILVALUE, SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP, REFSXP = (
    254,
    1,
    2,
    9,
    10,
    13,
    14,
    16,
    19,
    255,
)
NA_INT = -(2**31)


class Reader:
    def __init__(self, data: bytes) -> None:
        if data[:2] != b"X\n":
            raise ValueError("not an XDR serialize() stream")
        self.data, self.pos, self.refs = data, 2, []
        self.int(), self.int(), self.int()  # format version, R version, minimal R version

    def int(self) -> int:
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def item(self) -> Any:  # R objects of several shapes
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == NILVALUE:
            return None
        if kind == REFSXP:
            return self.refs[(flags >> 8 or self.int()) - 1]
        if kind == SYMSXP:
            sym = ("symbol", self.item())
            self.refs.append(sym)
            return sym
        if kind == LISTSXP:  # attribute pairlist -> list of (tag, value)
            attr = self.item() if has_attr else None
            del attr
            tag = self.item() if has_tag else None
            head = [(tag[1] if tag else None, self.item())]
            rest = self.item()
            return head + (rest or [])
        if kind == CHARSXP:
            n = self.int()
            if n == -1:
                return None
            text = self.data[self.pos : self.pos + n].decode("utf-8")
            self.pos += n
            return text
        n = self.int()
        if kind == REALSXP:
            values = list(struct.unpack_from(f">{n}d", self.data, self.pos))
            self.pos += 8 * n
            values = [None if math.isnan(v) else v for v in values]
        elif kind in (LGLSXP, INTSXP):
            values = [self.int() for _ in range(n)]
            values = [None if v == NA_INT else v for v in values]
        elif kind in (STRSXP, VECSXP):
            values = [self.item() for _ in range(n)]
        else:
            raise ValueError(f"unsupported R type {kind}")
        attrs = dict(self.item()) if has_attr else {}
        return {"values": values, "attrs": attrs}


def main(path: str) -> None:
    text = "".join(open(path, encoding="ascii").read().split())
    frame = Reader(base64.b64decode(text)).item()
    names = frame["attrs"]["names"]["values"]
    columns = {name: col["values"] for name, col in zip(names, frame["values"], strict=True) if col}
    keep = [
        c
        for c in (
            "y",
            "rebase_group",
            "mean",
            "lpl",
            "upl",
            "outside_limits",
            "relative_to_mean",
            "close_to_limits",
            "special_cause_flag",
            "point_type",
        )
        if c in columns
    ]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["period", *keep])
    for i, seconds in enumerate(columns["x"]):
        period = dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()
        out.writerow(
            [
                period,
                *(repr(columns[c][i]) if isinstance(columns[c][i], float) else columns[c][i] for c in keep),
            ]
        )


if __name__ == "__main__":
    main(sys.argv[1])
