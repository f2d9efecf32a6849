"""The checks of 00_setup_check: right answers pass; skipped, malformed and wrong ones are refused, and a
wrong profile is not told the right one (the exercise is to read the report)."""

from types import SimpleNamespace

import pytest

from tlcourse_exercises import setup_check

REPORT = SimpleNamespace(profile=SimpleNamespace(name="quick", image_size=128, epochs=3))


@pytest.mark.parametrize("answer", ["quick", " Quick "])
def test_profile_passes(answer):
    assert setup_check.check_profile(answer, REPORT)


@pytest.mark.parametrize("answer, words", [
    (None, "you have not answered yet"),
    ("full", "is not the profile setup() chose"),
    ("fast", "is not a profile"),
    (REPORT.profile, "give the profile's name, a string"),
])
def test_profile_refuses(answer, words):
    res = setup_check.check_profile(answer, REPORT)
    assert not res and words in str(res), str(res)


def test_a_wrong_profile_is_not_told_the_answer():
    assert "quick" not in str(setup_check.check_profile("full", REPORT)).split("NOT YET", 1)[1]


@pytest.mark.parametrize("path", ["imageNotFound.gif", "/data/hymenoptera/train/ants/imageNotFound.gif"])
def test_skipped_file_passes(path):
    assert setup_check.check_skipped_file(path)


@pytest.mark.parametrize("answer, words", [
    (None, "you have not answered yet"),
    ("0013035.jpg", "is a real photo"),
    (("ants/imageNotFound.gif", "placeholder"), "give the path alone"),
    ("/data/hymenoptera/train", "is not a file name"),
])
def test_skipped_file_refuses(answer, words):
    res = setup_check.check_skipped_file(answer)
    assert not res and words in str(res), str(res)
