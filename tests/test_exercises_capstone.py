"""The checks of 06_capstone_your_own_data: the right answers pass; a skipped exercise is told so, and the
usual slips (the wrong folder, a count off, percentages, precision, the overall accuracy, classes mixed up,
no values) are refused, each named."""


import numpy as np
import pytest

from tlcourse_exercises import capstone as ex

# What `tlcourse audit --splits` writes, read back (only what the check reads)
SERVES = {"test": {"root": "/data/ab/val", "files": ["f"] * 153},
          "notes": ["no 'test' split: the folder's 'val' split serves as the test set, and ..."]}
CARVED = {"test": {"root": "/data/my_photos", "files": ["f"] * 40},
          "notes": ["stratified split of /data/my_photos, seed 0: 70% train, 15% validation, 15% test"]}


@pytest.mark.parametrize("splits, name, n", [(SERVES, "val", 153), (SERVES, " VAL ", 153.0),
                                             (SERVES, "/data/ab/val", np.int64(153)), (CARVED, "carved", 40)],
                         ids=["name", "spaces and case", "a path", "carved"])
def test_test_split_passes(splits, name, n):
    res = ex.check_test_split(name, n, splits)
    assert res, str(res)


@pytest.mark.parametrize("splits, name, n, words", [
    (SERVES, None, None, "you have not answered yet"),
    (SERVES, "train", 153, "'train' is not it"),
    (SERVES, "val", 152, "152 test images is not right"),
    (SERVES, "val", None, "set n_test too"),
    (SERVES, None, 153, "set test_from too"),
    (SERVES, "val", "many", "a whole number"),
    (SERVES, "val", 152.5, "a whole number"),
    (CARVED, "my_photos", 40, 'answer "carved"'),
    (CARVED, "test", 40, "'test' is not it"),
], ids=["skipped", "wrong folder", "off by one", "no count", "no folder", "a word", "a fraction",
        "carved folder", "carved, test"])
def test_test_split_refuses(splits, name, n, words):
    res = ex.check_test_split(name, n, splits)
    assert not res and words in str(res), str(res)


Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
Y_PRED = np.array([0, 0, 0, 1, 1, 1, 1, 1, 0, 0])  # recall: ants 3/4, bees 4/6; precision 3/5, 4/5; overall 0.7
NAMES = ["ants", "bees"]


@pytest.mark.parametrize("answer", [{"ants": 0.75, "bees": 4 / 6}, {"ants": np.float64(0.75), "bees": np.float64(4 / 6)}])
def test_per_class_accuracy_passes(answer):
    res = ex.check_per_class_accuracy(answer, Y_TRUE, Y_PRED, NAMES)
    assert res, str(res)


@pytest.mark.parametrize("answer, words", [
    (None, "you have not answered yet"),
    ({"ants": None, "bees": None}, "ants has no value (None)"),
    ([0.75, 4 / 6], "give a dict"),
    ({0: 0.75, 1: 4 / 6}, "the keys are class numbers"),
    ({"ant": 0.75, "bee": 4 / 6}, "the keys should be the class names"),
    ({"ants": 75.0, "bees": 400 / 6}, "is a percentage"),
    ({"ants": 0.6, "bees": 0.8}, "ants: 0.6 is the precision"),
    ({"ants": 0.7, "bees": 0.7}, "is the accuracy over all classes"),
    ({"ants": 4 / 6, "bees": 0.75}, "is the accuracy of 'bees'"),
    ({"ants": "0.75", "bees": 4 / 6}, "ants is text ('0.75'), not a number"),
    ({"ants": 0.71, "bees": 4 / 6}, "ants: 0.71 is not it"),
], ids=["skipped", "None values", "a list", "numbers as keys", "wrong names", "percent", "precision", "overall",
        "swapped", "a string", "wrong"])
def test_per_class_accuracy_refuses(answer, words):
    res = ex.check_per_class_accuracy(answer, Y_TRUE, Y_PRED, NAMES)
    assert not res and words in str(res), str(res)


def test_per_class_accuracy_of_a_class_without_test_images_is_none():
    y_true, y_pred = np.array([0, 0, 1]), np.array([0, 1, 1])
    assert ex.check_per_class_accuracy({"a": 0.5, "b": 1.0, "c": None}, y_true, y_pred, ["a", "b", "c"])
    assert not ex.check_per_class_accuracy({"a": 0.5, "b": 1.0, "c": 0.0}, y_true, y_pred, ["a", "b", "c"])
