"""Merge the minutes a clean test run measured into tlcourse/minutes.json, then rebuild.

A maintainer step, after a clean run of every notebook on the course's test
machine (2-core CPU, no GPU, quick profile), e.g. ``make test``: the root
``conftest.py`` wrote ``outputs/notebook_minutes.json``; this script copies its
minutes into each notebook's ``compute_quick`` (teaching, exercises and the GPU
estimates are not touched), records when and where they were measured, and
runs ``tools/nbbuild.py`` and ``tools/schedule.py`` so the notebooks' "Estimated
time" lines, the README's course map and the instructors' timetables follow.
Review and commit the four kinds of file.

    python tools/update_minutes.py                          # outputs/notebook_minutes.json
    python tools/update_minutes.py run.json --images-per-second 150

``--images-per-second`` records the training speed of the machine that ran
(00_setup_check prints it); without it the stored speed is kept, which is right
as long as the test machine has not changed. A run with a failed notebook, one
that skipped a notebook, or one not in the quick profile is refused: its
minutes would mislead every learner's estimate.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nbbuild  # noqa: E402 - the builder sits next to this script

__all__ = ["main", "merge"]

DEFAULT_MEASURED = nbbuild.ROOT / "outputs" / "notebook_minutes.json"


def merge(table: dict[str, Any], measured: dict[str, Any], images_per_second: float | None = None) -> dict[str, Any]:
    """Return a copy of the timings ``table`` with the measured quick-profile minutes.

    Parameters
    ----------
    table
        Parsed ``tlcourse/minutes.json``.
    measured
        Parsed ``outputs/notebook_minutes.json`` (see the root conftest.py).
    images_per_second
        Training speed of the machine that ran, if it changed.

    Raises
    ------
    ValueError
        If the run failed, missed a notebook or was not in the quick profile.

    Examples
    --------
    >>> table = {"images_per_second": 140.0, "measured": "old", "notebooks": {
    ...     "00_a": {"teaching": 10, "exercises": 3, "compute_quick": 0.6, "compute_full": 1}}}
    >>> run = {"date": "2026-12-01", "cpus": 2, "profile": "", "failed": [], "notebooks": {"00_a": 0.53}}
    >>> merge(table, run)["notebooks"]["00_a"]["compute_quick"]
    0.5
    """
    if measured.get("failed"):
        raise ValueError(f"not a clean run, these notebooks failed: {measured['failed']}")
    if measured.get("profile", "") not in ("", "quick"):
        raise ValueError(f"measured in the {measured['profile']!r} profile; compute_quick is the quick profile's")
    missing = sorted(set(table["notebooks"]) - set(measured["notebooks"]))
    unknown = sorted(set(measured["notebooks"]) - set(table["notebooks"]))
    if missing or unknown:
        raise ValueError(f"the run does not match tlcourse/minutes.json: not run {missing}, unknown {unknown}")
    new = json.loads(json.dumps(table))
    for name, minutes in measured["notebooks"].items():
        # one decimal, as the README shows it; never 0, which would read as "no computing"
        new["notebooks"][name]["compute_quick"] = max(0.1, round(float(minutes), 1))
    if images_per_second is not None:
        new["images_per_second"] = float(images_per_second)
    new["measured"] = (f"quick profile, a clean run of pytest --nbval-lax on a {measured['cpus']}-core CPU "
                       f"without a GPU, {measured['date']}")
    return new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measured", nargs="?", type=Path, default=DEFAULT_MEASURED,
                        help="minutes written by a test run (default: outputs/notebook_minutes.json)")
    parser.add_argument("--images-per-second", type=float, default=None,
                        help="training speed of the machine that ran (default: keep the stored one)")
    args = parser.parse_args(argv)
    measured = json.loads(args.measured.read_text(encoding="utf-8"))
    if measured.get("cpus") != 2:
        print(f"warning: measured on {measured.get('cpus')} cores; the course's reference machine has 2")
    try:
        table = merge(nbbuild.read_table(), measured, args.images_per_second)
    except ValueError as exc:
        print(f"{args.measured}: {exc}", file=sys.stderr)
        return 1
    nbbuild.MINUTES.write_text(nbbuild.dump_table(table), encoding="utf-8")
    print(f"merged {args.measured} into {nbbuild.MINUTES.relative_to(nbbuild.ROOT)}")
    import schedule  # the workshop timetables follow the minutes too (instructors/schedule.md)

    return nbbuild.main([]) or schedule.main([])


if __name__ == "__main__":
    sys.exit(main())
