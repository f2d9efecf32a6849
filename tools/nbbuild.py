"""Build the course notebooks from their percent-format sources.

Each notebook is written as ``notebooks/src/NN_name.py`` (cells start with
``# %%`` for code and ``# %% [markdown]`` for prose; ``# %% tags=["a", "b"]``
adds cell tags) and built into ``notebooks/NN_name.ipynb`` without outputs.
A cell tagged ``nbval-check-output`` may be followed by ``# %% [output]``:
the commented lines after it are the printed output that nbval expects.
Sources diff and review like code; the hygiene test checks that every
notebook equals what its source builds, so the two never drift.

    python tools/nbbuild.py            # build every notebook
    python tools/nbbuild.py --check    # exit 1 if a notebook is out of date
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "src"
OUT = ROOT / "notebooks"
HEADER = re.compile(r"^# %%(?: \[(?P<kind>markdown|output)\])?(?: tags=(?P<tags>\[.*\]))?\s*$")
METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python", "version": "3.11"},
}


def _cell(kind: str, lines: list[str], tags: list[str], index: int) -> dict:
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if kind in ("markdown", "output"):
        lines = [re.sub(r"^# ?", "", ln) for ln in lines]
    text = "\n".join(lines)
    source = [ln + "\n" for ln in text.split("\n")]
    source[-1] = source[-1].rstrip("\n")
    cell: dict = {"cell_type": kind, "id": f"cell-{index:03d}", "metadata": {"tags": tags} if tags else {}, "source": source}
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def build(src: Path) -> dict:
    """Return the notebook (as a dict) that a percent-format source describes."""
    cells: list[dict] = []
    kind, tags, lines = None, [], []

    def flush() -> None:
        if kind == "output":
            text = "".join(_cell("markdown", lines, [], 0)["source"]) + "\n"
            cells[-1]["outputs"].append({"name": "stdout", "output_type": "stream", "text": text})
            cells[-1]["execution_count"] = 1  # nbval compares only cells that were "run"
        elif kind is not None:
            cells.append(_cell(kind, lines, tags, len(cells)))

    for line in src.read_text(encoding="utf-8").split("\n"):
        m = HEADER.match(line)
        if m:
            flush()
            kind = m.group("kind") or "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            lines = []
            if kind == "output" and (not cells or "nbval-check-output" not in cells[-1]["metadata"].get("tags", [])):
                raise ValueError(f"{src}: '# %% [output]' must follow a cell tagged nbval-check-output")
        elif kind is not None:
            lines.append(line)
    flush()
    return {"cells": cells, "metadata": METADATA, "nbformat": 4, "nbformat_minor": 5}


def render(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for src in sorted(SRC.glob("[0-9][0-9]_*.py")):
        out = OUT / (src.stem + ".ipynb")
        text = render(build(src))
        if "--check" in argv:
            if not out.exists() or out.read_text(encoding="utf-8") != text:
                stale.append(out.name)
        else:
            out.write_text(text, encoding="utf-8")
            print(f"built {out.relative_to(ROOT)}")
    if stale:
        print("out of date (run python tools/nbbuild.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
