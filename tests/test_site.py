"""The course's website in a real Chromium: every internal link resolves, each lesson shows its figures.

``make site`` builds the site into ``site/_build/html`` (tools/website.py). This test serves that
folder over HTTP from a thread, opens the home page in Chromium (Debian's, driven by Playwright,
launched as in tests/test_browser.py) and visits every page reachable by links to the same site:

- no link leads to a missing file, and every ``#anchor`` names an element of its page;
- each lesson page shows every figure its notebook drew, at least one that has loaded (but 07,
  which draws none), each with a text alternative; it links to Colab, Kaggle
  and Binder, and to its notebook, which downloads;
- each quiz reads as text with its answers folded; no widget is left on a page;
- the search page finds a lesson.

Collected only when named (``make site-test``, see the repository's conftest.py): ``make test``
runs before ``make site``. Without a built site (or Chromium) it skips, saying what is missing; in
CI (``CI=true``) it fails. A site built with ``--allow-missing`` is checked, then the test skips
(fails in CI), naming the lessons it lacks.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from test_browser import browser  # noqa: F401 - the fixture: Debian's Chromium driven by Playwright

from tlcourse_exercises import quiz

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "site" / "_build" / "html"
MANIFEST = ROOT / "site" / "_build" / "manifest.json"
# Lessons with no figure to show: 07's one interactive cell prints its results (every other lesson draws).
DRAWS_NO_FIGURE = {"07_text_transfer"}
RUN_LINKS = {"colab": "https://colab.research.google.com/github/",
             "kaggle": "https://kaggle.com/kernels/welcome?src=https://github.com/",
             "binder": "https://mybinder.org/v2/gh/"}

LINKS_JS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
IDS_JS = "() => [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name'))"
# Every image of a cell's output: loaded or not, seen or folded away, and its alt.
FIGURES_JS = """() => [...document.querySelectorAll('.cell_output img')].map(i => ({
  src: i.getAttribute('src'), alt: i.getAttribute('alt') || '', loaded: i.complete && i.naturalWidth > 0,
  shown: i.getClientRects().length > 0}))"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports what failed; no access log
        pass


@pytest.fixture(scope="module")
def site_url():
    """The built site, served from a thread on a free port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def manifest(missing):
    if not (HTML / "index.html").is_file() or not MANIFEST.is_file():
        missing(f"no built site in {HTML.relative_to(ROOT)}: run `make site` (after `make test`)")
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def crawl(page, start: str) -> tuple[dict[str, int], dict[str, set[str]], list[tuple[str, str]]]:
    """Visit every page reachable from ``start`` on its site: status by URL, ids by page, (from, link) pairs."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(start))
    status: dict[str, int] = {}
    ids: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []
    queue = [start]
    while queue:
        url = queue.pop()
        if url in status:
            continue
        if not urlsplit(url).path.endswith((".html", "/")):  # a download, an image, a script: fetched, not opened
            status[url] = page.request.get(url).status
            continue
        response = page.goto(url)
        status[url] = response.status if response else 0
        if status[url] != 200:
            continue
        ids[url] = set(page.evaluate(IDS_JS))
        for href in page.evaluate(LINKS_JS):
            if href.startswith(origin):
                links.append((url, href))
                queue.append(urldefrag(href).url.split("?")[0])
    return status, ids, links


def test_every_link_resolves_and_every_lesson_shows_its_figures_and_run_buttons(browser, site_url, manifest,  # noqa: F811
                                                                                 missing):
    started = time.monotonic()
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.set_default_timeout(30_000)
    status, ids, links = crawl(page, f"{site_url}/index.html")
    broken = sorted({f"{href} (from {source}): HTTP {status[urldefrag(href).url.split('?')[0]]}"
                     for source, href in links if status[urldefrag(href).url.split("?")[0]] != 200})
    assert not broken, "links to missing files:\n" + "\n".join(broken)
    no_anchor = sorted({f"{href} (from {source})" for source, href in links
                        if urldefrag(href).fragment and urldefrag(href).url in ids
                        and unquote(urldefrag(href).fragment) not in ids[urldefrag(href).url]})
    assert not no_anchor, "links to an anchor their page lacks:\n" + "\n".join(no_anchor)
    reached = {urlsplit(url).path.lstrip("/") for url in ids}
    expected = {lesson["page"] for lesson in manifest["lessons"].values()} | set(manifest["pages"])
    assert expected <= reached, f"pages no link leads to: {sorted(expected - reached)}"

    for name, lesson in manifest["lessons"].items():
        url = f"{site_url}/{lesson['page']}"
        page.goto(url)
        hrefs = {key: page.locator(f"a.tl-run-{key}").get_attribute("href") for key in [*RUN_LINKS, "download"]}
        for key, prefix in RUN_LINKS.items():
            assert (hrefs[key] or "").startswith(prefix), f"{name}: no {key} button ({hrefs[key]})"
            assert f"notebooks{'%2F' if key == 'binder' else '/'}{name}.ipynb" in hrefs[key], hrefs[key]
        download = page.request.get(f"{site_url}/notebooks/{hrefs['download']}")
        assert download.status == 200 and json.loads(download.body())["cells"], f"{name}: the download is broken"
        assert page.locator("script[type='application/vnd.jupyter.widget-view+json']").count() == 0, name
        if quiz.quiz_dir().joinpath(f"{name}.json").is_file():
            folded = page.locator(".tl-quiz details:not([open])")
            assert folded.count() == len(quiz.load(name).questions), f"{name}: the quiz's answers are not folded"
            assert not folded.first.locator("p").first.is_visible(), f"{name}: an answer shows before it is opened"
        if not lesson["executed"]:
            continue
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        figures = page.evaluate(FIGURES_JS)
        assert len(figures) == lesson["figures"], f"{name}: {len(figures)} figures of the {lesson['figures']} it drew"
        if name not in DRAWS_NO_FIGURE:
            assert [f for f in figures if f["shown"] and f["loaded"]], f"{name}: no figure shows"
        without = [f["src"] for f in figures if len(f["alt"].split()) < 3 or f["alt"].endswith(".png")]
        assert not without, f"{name}: figures without a text alternative: {without}"
        assert all(f["loaded"] for f in figures if f["shown"]), f"{name}: a figure did not load"

    fine_tuning = next(lesson["page"] for name, lesson in manifest["lessons"].items() if name.endswith("_fine_tuning"))
    page.goto(f"{site_url}/search.html?q=fine-tuning")
    results = page.locator(f"#search-results a[href*='{fine_tuning}']")
    results.first.wait_for()
    page.close()
    print(f"site test: {len(status)} files, {len(links)} links, {len(manifest['lessons'])} lessons "
          f"in {time.monotonic() - started:.0f} s")
    not_run = [name for name, lesson in manifest["lessons"].items() if not lesson["executed"]]
    if not_run:
        missing(f"the site was built without the outputs of {', '.join(not_run)} (tools/website.py --allow-missing)")
