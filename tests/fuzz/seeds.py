"""Writes the valid seed files of the submission corpus (tests/fuzz/corpus/submission_{csv,json}/valid-*)
from the factories: ``python -m tests.fuzz.seeds``. Run it again when a QA form changes (the corpus
test says which seed no longer loads); crash-* files are kept as they are."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from engine.inputs.canonical_questions import CANONICAL_CASE_TYPES
from engine.inputs.submission_files import write_submission_csv
from tests.factories import build_row
from tests.fuzz.fuzzing import CORPUS

#: text that must reach every output as written: markup, formula starts, right-to-left and combining
#: characters, a line break inside a cell, a quote
AWKWARD = {
    "team": "=Team <b>A</b> & co",
    "officer": "+PC \u05d0\u05d1 O'Neil",
    "notes": '@SUM(A1)\n"quoted" e\u0301\u202e; tab\there',
}


def _rows() -> list[dict[str, str]]:
    rows = [
        build_row(ct, assessment_id=f"SEED-{i}", case_ref=f"CR/{i}")
        for i, ct in enumerate(CANONICAL_CASE_TYPES)
    ]
    rows.append(build_row("stop_search", assessment_id="SEED-AWKWARD", case_ref="-1", **AWKWARD))
    return rows


def write_seeds(root: Path = CORPUS) -> list[Path]:
    csv_dir, json_dir = root / "submission_csv", root / "submission_json"
    csv_dir.mkdir(parents=True, exist_ok=True)
    json_dir.mkdir(parents=True, exist_ok=True)
    rows = _rows()
    written = [write_submission_csv(csv_dir / "valid-every-case-type.csv", rows)]
    text = written[0].read_text(encoding="utf-8")
    # the same rows as Excel on Windows saves them: a byte order mark and CRLF line ends
    bom = csv_dir / "valid-bom-crlf.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    # semicolons (a European Excel) and UTF-16 (Excel's "Unicode text")
    buffer = io.StringIO(newline="")
    columns = list(dict.fromkeys(c for r in rows for c in r))
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=";", restval="")
    writer.writeheader()
    writer.writerows(r for r in rows if not r["assessment_id"].endswith("AWKWARD"))
    (csv_dir / "valid-semicolons.csv").write_text(buffer.getvalue(), encoding="utf-8", newline="")
    (csv_dir / "valid-utf16.csv").write_bytes(buffer.getvalue().replace(";", ",").encode("utf-16"))
    written += [bom, csv_dir / "valid-semicolons.csv", csv_dir / "valid-utf16.csv"]
    as_json = [{k: (int(v) if k == "dash_yes_count" else v or None) for k, v in r.items()} for r in rows]
    (json_dir / "valid-every-case-type.json").write_text(
        json.dumps(as_json, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    written.append(json_dir / "valid-every-case-type.json")
    return written


if __name__ == "__main__":
    for path in write_seeds():
        print(path)
