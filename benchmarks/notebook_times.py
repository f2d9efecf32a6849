"""Run every notebook end to end (as the tests do) and print its wall time in minutes.

These are the CPU minutes of the README's course map. Pass notebook names to
time only some of them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1] / "notebooks"


def main(names: list[str]) -> None:
    paths = sorted(ROOT.glob("[0-9][0-9]_*.ipynb"))
    if names:
        paths = [p for p in paths if any(n in p.name for n in names)]
    total = 0.0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
        minutes = (time.perf_counter() - t0) / 60
        total += minutes
        print(f"{path.stem:34s} {minutes:5.2f} min", flush=True)
    print(f"{'total':34s} {total:5.2f} min")


if __name__ == "__main__":
    main(sys.argv[1:])
