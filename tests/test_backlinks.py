"""The "Introduced in" back-links the notebook build writes into the package's docstrings."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import backlinks  # noqa: E402 - tools/ is not a package

MODULE = '''"""A module."""


def short():
    """One line."""


def long():
    """Summary.

    More prose.

    Examples
    --------
    >>> long()
    """


class Thing:
    """A class.

    Introduced in 01_old.
    """
'''


def test_links_follow_the_summary_and_move_or_go_with_the_lessons():
    path = ROOT / "tlcourse" / "example.py"
    first = {("tlcourse.example", "short"): "02_b", ("tlcourse.example", "long"): "03_c"}
    text = backlinks.with_backlinks(path, MODULE, first)
    assert '    """One line.\n\n    Introduced in 02_b.\n    """' in text
    assert '    """Summary.\n\n    Introduced in 03_c.\n\n    More prose.\n' in text
    assert '    """A class.\n    """' in text  # no lesson calls Thing any more: its old link goes
    assert backlinks.with_backlinks(path, text, first) == text  # a second build changes nothing
    moved = backlinks.with_backlinks(path, text, {("tlcourse.example", "long"): "00_a"})
    assert "Introduced in 00_a." in moved and "03_c" not in moved and "02_b" not in moved


def test_first_uses_resolves_module_attributes_and_from_imports(tmp_path):
    lesson = tmp_path / "04_lesson.py"
    lesson.write_text("import tlcourse\nfrom tlcourse import data\nfrom tlcourse.scratch import digits_cnn as cnn\n"
                      "tlcourse.setup()\nx = data.few_shot([0, 1], 1)\nm = cnn()\n", encoding="utf-8")
    earlier = tmp_path / "02_lesson.py"
    earlier.write_text("from tlcourse import data\n# data.load_mnist() in a comment is not a call\ndata.few_shot\n",
                       encoding="utf-8")
    first = backlinks.first_uses([lesson, earlier])
    assert first == {("tlcourse.runtime", "setup"): "04_lesson", ("tlcourse.data.splits", "few_shot"): "02_lesson",
                     ("tlcourse.scratch", "digits_cnn"): "04_lesson"}
