"""Sphinx's configuration of the course's website. Build it with `make site` (tools/website.py),
which stages the pages in site/_build/src and runs Sphinx with this folder as its configuration."""

import json
import sys
from pathlib import Path

from docutils import nodes

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools"))
import website  # noqa: E402 - tools/ is not a package

project = "tlcourse"
author = "the tlcourse authors"
version = release = website.version()
html_title = f"Transfer learning with TensorFlow and Keras, version {version}"
extensions = ["myst_nb"]

# The lessons ran once, in the tests (outputs/executed/): the site shows those outputs, never runs them again.
nb_execution_mode = "off"
# A quiz or an interactive cell is a widget in JupyterLab; the site shows the text and the drawing beside it.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
nb_ipywidgets_js = {}  # no widget manager fetched from a CDN
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 4  # [a section](guide.md#a-room-without-wifi), as GitHub resolves it

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": website.repository(),
    "repository_branch": website.BRANCH,
    "use_repository_button": True,
    "use_download_button": False,  # each lesson has its own buttons (tools/website.py's run_bar)
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "secondary_sidebar_items": {"**": ["page-toc"], "index": []},  # the course map takes the home page's width
}
html_static_path = ["_static"]
html_css_files = ["tlcourse.css"]
html_extra_path = ["_build/extra"]  # the lessons' notebooks, for the download button
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None


def _text_alternatives(app, doctree):
    """Each figure of a lesson gets, as its alt, the text alternative recorded in its notebook output."""
    figures = json.loads((Path(app.srcdir) / website.FIGURES_FILE).read_text(encoding="utf-8"))
    for image in doctree.findall(nodes.image):
        key = Path(image["uri"]).stem
        if key in figures:
            image["alt"] = figures[key]


def setup(app):
    app.connect("doctree-read", _text_alternatives)
    return {"parallel_read_safe": True}
