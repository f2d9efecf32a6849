"""Checks for the exercises of 00_setup_check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tlcourse_exercises.checks import Checker, CheckResult

__all__ = ["check_profile", "check_skipped_file"]


def check_profile(answer: str | None, report: Any) -> CheckResult:
    """Exercise 1: name the profile ``tlcourse.setup()`` chose for this machine.

    Introduced in 00_setup_check.

    ``answer`` is ``"quick"`` or ``"full"`` (case and spaces do not matter); ``report`` is what
    ``tlcourse.setup()`` returned.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> report = SimpleNamespace(profile=SimpleNamespace(name="quick", image_size=128, epochs=3))
    >>> check_profile(" Quick", report).passed
    True
    >>> print(check_profile("full", report))
    Exercise 1: the active profile: NOT YET
      [x] 'full' is not the profile setup() chose: look at the 'profile:' line of the report ...
    """
    c = Checker("Exercise 1: the active profile")
    if not (c.given(answer, 'set MY_PROFILE to "quick" or "full", as the report of tlcourse.setup() says.')
            and c.expect(isinstance(answer, str), f"MY_PROFILE is a {type(answer).__name__}: give the profile's name, "
                                                   'a string, "quick" or "full".')
            and c.expect(answer.strip().lower() in {"quick", "full"},
                          f"{answer!r} is not a profile: the course has 'quick' and 'full'.")):
        return c.result()
    chosen = report.profile  # a wrong answer is not told the right one: the exercise is to read the report
    c.expect(answer.strip().lower() == chosen.name, f"{answer!r} is not the profile setup() chose: look at the 'profile:' "
             "line of the report (it follows the GPU list; $TLCOURSE_PROFILE, when set, decides).",
             ok=f"the profile is {chosen.name!r}: {chosen.image_size}-px images, {chosen.epochs} epochs")
    return c.result()


def check_skipped_file(path: str | Path | None) -> CheckResult:
    """Exercise 2: find the file of the ants/bees training folder that the loader skips.

    Introduced in 00_setup_check.

    The loader reads every format Pillow decodes, GIF included; it skips
    ``imageNotFound.gif`` because it is a flat graphic (a placeholder), not a photo.

    Examples
    --------
    >>> check_skipped_file("imageNotFound.gif").passed
    True
    >>> print(check_skipped_file(None))
    Exercise 2: the file that is not a photo: NOT YET
      [x] you have not answered yet: set SKIPPED to the path (or name) of the skipped file; it is in `folder.skipped`.
    """
    c = Checker("Exercise 2: the file that is not a photo")
    kind, skipped = type(path).__name__, "imageNotFound.gif"  # what `folder.skipped` of ants/bees lists
    if not (c.given(path, "set SKIPPED to the path (or name) of the skipped file; it is in `folder.skipped`.")
            and c.expect(not isinstance(path, (tuple, list)), f"SKIPPED is a {kind}: each entry of `folder.skipped` is "
                                                               "(path, reason); give the path alone, folder.skipped[0][0].")
            and c.expect(isinstance(path, (str, os.PathLike)), f"SKIPPED is a {kind}: give the path of the skipped file "
                                                                "as text (or a Path), from `folder.skipped`.")
            and c.expect("." in Path(path).name, f"{str(path)!r} is not a file name: give the path of the skipped file, "
                                                  "from `folder.skipped`.")):
        return c.result()
    c.expect(Path(path).name == skipped, f"{Path(path).name!r} is a real photo. Look at `folder.skipped` after "
             "scan_images(): one file is a web placeholder saved in place of a photo.",
             ok=f"{skipped} is a web placeholder (\"this image could not be found\") saved in place of a photo: the "
                "loader reads GIFs, but skips and reports this flat graphic")
    return c.result()
