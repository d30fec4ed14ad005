"""Whether a run folder's files are the same as a reference folder's (issue 17: an optimisation must
not change any output figure). Every file of either folder is compared byte for byte; a PDF that
differs is also compared by its text (pdftotext -layout, when installed), so a change of layout
alone can be told from a change of what it says. manifest.json records the outputs' hashes, so it
differs whenever another file does.

    python benchmarks/same_outputs.py /tmp/ref/peel-2026-05-25-2026-11-22 /tmp/new/peel-2026-05-25-2026-11-22

Prints one line per file (same, DIFFERENT, only in one folder) and exits 0 when every file is the
same, 1 otherwise.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pdf_text(path: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else None


def compare(reference: Path, new: Path) -> list[str]:
    """One line per file of either folder: 'same', 'DIFFERENT ...' or 'only in ...'."""
    names = sorted(
        {p.name for p in reference.iterdir() if p.is_file()} | {p.name for p in new.iterdir() if p.is_file()}
    )
    lines = []
    for name in names:
        a, b = reference / name, new / name
        if not a.exists() or not b.exists():
            lines.append(f"{name}: only in {new if b.exists() else reference}")
        elif _sha(a) == _sha(b):
            lines.append(f"{name}: same ({a.stat().st_size:,} bytes)")
        elif name.endswith(".pdf"):
            ta, tb = _pdf_text(a), _pdf_text(b)
            words = (
                "same text"
                if ta is not None and ta == tb
                else "text differs"
                if ta is not None
                else "text not compared"
            )
            lines.append(f"{name}: DIFFERENT bytes ({a.stat().st_size:,} -> {b.stat().st_size:,}), {words}")
        else:
            lines.append(f"{name}: DIFFERENT ({a.stat().st_size:,} -> {b.stat().st_size:,} bytes)")
    return lines


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    lines = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(lines))
    sys.exit(0 if all(": same " in line for line in lines) else 1)


if __name__ == "__main__":
    main()
