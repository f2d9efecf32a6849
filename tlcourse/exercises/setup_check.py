"""Checks for the exercises of 00_setup_check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tlcourse.checks import Checker, CheckResult

__all__ = ["check_profile", "check_skipped_file"]


def check_profile(answer: str, report: Any) -> CheckResult:
    """Exercise 1: name the active profile and say whether this machine has a GPU.

    Parameters
    ----------
    answer
        ``"quick"`` or ``"full"``.
    report
        What ``tlcourse.setup()`` returned.

    Examples
    --------
    >>> import tlcourse
    >>> check_profile("quick", tlcourse.setup(verbose=False)).passed  # doctest: +SKIP
    True
    """
    c = Checker("Exercise 1: the active profile")
    c.expect(answer in {"quick", "full"}, f"{answer!r} is not a profile: the course has 'quick' and 'full'.")
    c.expect(
        answer == report.profile.name,
        f"setup() chose {report.profile.name!r}, not {answer!r}: look at the 'profile:' line of the report "
        f"(it follows the GPU list, or $TLCOURSE_PROFILE when set).",
        ok=f"the profile is {answer!r}: {report.profile.image_size}-px images, {report.profile.epochs} epochs",
    )
    return c.result()


def check_skipped_file(path: str | Path | None) -> CheckResult:
    """Exercise 2: find the file of the ants/bees training folder that the loader skips.

    The loader reads every format Pillow decodes, GIF included; it skips
    ``imageNotFound.gif`` because it is a flat graphic (a placeholder), not a photo.

    Examples
    --------
    >>> check_skipped_file("imageNotFound.gif").passed
    True
    """
    c = Checker("Exercise 2: the file that is not a photo")
    name = Path(str(path)).name if path else ""
    c.expect(bool(name), "give the path (or name) of the skipped file: it is in `folder.skipped`.")
    if not name:
        return c.result()
    c.expect(
        name == "imageNotFound.gif",
        f"{name!r} is a real photo. Look at `folder.skipped` after scan_images(): one file is a web "
        f"placeholder saved in place of a photo.",
        ok="imageNotFound.gif is a web placeholder (\"this image could not be found\") saved in place of a photo: "
           "the loader reads GIFs, but skips and reports this flat graphic",
    )
    return c.result()
