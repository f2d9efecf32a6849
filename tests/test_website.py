"""The website's build, without Sphinx or a browser: figures' text alternatives, lesson pages, missing lessons.

tests/test_site.py checks the built site in Chromium (``make site-test``); these are the fast parts.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import types
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.core.pylabtools import select_figure_formats

from tlcourse_exercises import quiz

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import alt_text  # noqa: E402 - tools/ is not a package
import website  # noqa: E402

REPO = "https://github.com/someone/tlcourse"


def _png(values=(1, 2)) -> str:
    fig, ax = plt.subplots()
    ax.plot(values)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_a_figure_shown_by_ipython_carries_its_sentence_as_alt_metadata():
    shell = types.SimpleNamespace(display_formatter=DisplayFormatter())
    select_figure_formats(shell, {"png"})  # what the inline backend registers
    assert alt_text.describe_figures(shell)
    fig, ax = plt.subplots()
    ax.plot([0.5, 0.7, 0.8], label="pretrained")
    ax.plot([0.3, 0.4, 0.6], label="scratch")
    ax.set(xlabel="epoch", ylabel="validation accuracy", title="flowers")
    ax.legend()
    data, metadata = shell.display_formatter.format(fig)
    plt.close(fig)
    assert "image/png" in data
    alt = metadata["image/png"]["alt"]
    assert alt == alt_text.describe(fig)
    assert alt == 'Line plot "flowers" of validation accuracy against epoch (legend: pretrained, scratch).'


def test_describe_says_the_kind_of_each_panel():
    fig, (left, right) = plt.subplots(1, 2)
    left.bar(["a", "b"], [1, 2])
    left.set_ylabel("seconds")
    right.scatter([1, 2], [3, 4])
    right.set_title("PCA of the features")
    fig.suptitle("speed and features")
    assert alt_text.describe(fig) == ('2 panels, titled "speed and features": bar chart of seconds; '
                                   'scatter plot "PCA of the features".')
    plt.close(fig)


def _lesson() -> dict:
    png = _png()
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"tlcourse": {"executed": "2026-12-01T10:00:00",
                                                                          "profile": "quick", "cpus": 2}},
            "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": "# 01 A lesson\n\nSee [the glossary](GLOSSARY.md)."},
                {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "plots.image_grid(...)",
                 "outputs": [{"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>"},
                              "metadata": {"image/png": {"alt": "A grid of 3 images: daisy, rose."}}}]},
                {"cell_type": "code", "metadata": {}, "execution_count": 2, "source": "interactive.explore(...)",
                 "outputs": [{"output_type": "display_data", "metadata": {"image/png": {"alt": "Image \"k=3\"."}},
                              "data": {website.WIDGET_VIEW: {"model_id": "x"}, "image/png": _png((2, 1)),
                                       "text/plain": "[interactive in JupyterLab: k=3]"}}]},
                {"cell_type": "code", "metadata": {"tags": ["solution"]}, "execution_count": 3, "source": "x = 1",
                 "outputs": []},
                {"cell_type": "code", "metadata": {}, "execution_count": 4,
                 "source": 'quiz.show("01_what_is_transfer_learning")',
                 "outputs": [{"output_type": "display_data", "metadata": {},
                              "data": {website.WIDGET_VIEW: {"model_id": "y"}, "text/plain": "Quiz: ..."}}]},
            ]}


def test_a_lesson_page_has_its_run_buttons_its_figures_alt_and_its_quiz_folded():
    nb = _lesson()
    page, figures, undescribed = website.prepare_lesson(nb, "01_what_is_transfer_learning", REPO,
                                                         {"notebooks/GLOSSARY.md"}, executed=True)
    title = page["cells"][0]["source"]
    for link in website.run_links(REPO, "01_what_is_transfer_learning").values():
        assert f'href="{link}"' in title
    assert "the quick profile on 2 CPU cores" in title and "[the glossary](GLOSSARY.md)" in title
    keys = [hashlib.sha256(base64.b64decode(nb["cells"][i]["outputs"][0]["data"]["image/png"])).hexdigest()
            for i in (1, 2)]
    assert figures == dict(zip(keys, ["A grid of 3 images: daisy, rose.", 'Image "k=3".'])) and undescribed == []
    explore = page["cells"][2]["outputs"]
    assert [o["output_type"] for o in explore] == ["stream", "display_data"]
    assert website.WIDGET_VIEW not in explore[1]["data"] and "interactive in JupyterLab" in explore[0]["text"]
    assert "hide-cell" in page["cells"][3]["metadata"]["tags"]
    (shown,) = page["cells"][4]["outputs"]
    questions = quiz.load("01_what_is_transfer_learning").questions
    assert shown["data"]["text/html"].count("<details><summary>Answer</summary>") == len(questions)
    assert website.WIDGET_VIEW not in shown["data"]


def test_a_figure_without_its_sentence_is_named():
    nb = _lesson()
    nb["cells"][1]["outputs"][0]["metadata"] = {}
    _, _, undescribed = website.prepare_lesson(nb, "01_what_is_transfer_learning", REPO, set(), executed=True)
    assert undescribed == ["01_what_is_transfer_learning, code cell 1"]


def test_make_site_names_the_lessons_not_run_and_how_to_run_them(tmp_path, monkeypatch):
    monkeypatch.setattr(website, "EXECUTED", tmp_path / "executed")
    monkeypatch.setattr(website, "BUILD", tmp_path / "build")
    with pytest.raises(SystemExit) as exit_:
        website.stage(REPO, allow_missing=False)
    message = str(exit_.value)
    assert "00_setup_check" in message and "07_text_transfer" in message
    assert "make test" in message and "pytest --nbval-lax notebooks/00_setup_check.ipynb" in message


def test_the_run_buttons_point_at_the_repository_in_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/me/course/"\n')
    assert website.repository(pyproject) == "https://github.com/me/course"
    assert website.repository().startswith("https://github.com/"), "pyproject.toml names the repository"


def test_the_home_page_shows_the_version_and_how_to_cite():
    import tlcourse

    assert website.version() == tlcourse.__version__
    page = website.index_page("https://github.com/OWNER/tlcourse", ["00_setup_check"], {"the quick profile on 2 CPU cores"})
    assert f"version {tlcourse.__version__} of the course" in page and "[CITATION.cff](CITATION.cff)" in page
