"""Build the course's website (``make site``): the executed lessons, the course map, the reference pages.

Sphinx with MyST-NB and the Book theme, every package from PyPI, nothing fetched while building,
no notebook executed. The pages:

- the home page: the course map of the README (between its ``minutes`` markers) and which data
  the figures were measured on;
- each lesson with the outputs and figures it gave in the tests' run (``pytest --nbval-lax``
  writes ``outputs/executed/NN_name.ipynb``, see the repository's conftest.py), the buttons to
  run it (Colab, Kaggle, Binder) and to download it, its quiz as text with the answers folded,
  and each figure's text alternative as its ``alt`` (the ``alt`` the course's kernel gave the
  figure's image, ``tools/alt_text.py``);
- the glossary, the results and decision tables, the instructors' pages; Sphinx's search.

Sources are staged in ``site/_build/src`` (the lesson notebooks, the pages with their links to
files that are not pages turned into links to the repository), the HTML goes to
``site/_build/html`` and ``site/_build/manifest.json`` lists the lesson pages for
``tests/test_site.py``. The repository's address, for the run buttons, is
``[project.urls] Repository`` in pyproject.toml: the publisher sets it.

Usage: ``python tools/website.py`` (all lessons must have been executed), or, while working on
the site, ``python tools/website.py --allow-missing`` (a lesson not executed gets a page that says
so, without outputs).
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import html
import json
import posixpath
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
BUILD = SITE / "_build"
SRC, HTML, EXTRA = BUILD / "src", BUILD / "html", BUILD / "extra"
EXECUTED = ROOT / "outputs" / "executed"
FIGURES_FILE = "_figures.json"  # in SRC: the text alternative of each figure, by the SHA-256 of its PNG
BRANCH = "main"
MD_LINK = re.compile(r"(!?\[[^\]\n]*\]\()\s*([^)\s]+)(\s*\))")
QUIZ_CALL = re.compile(r"""quiz\.show\(\s*["']([^"']+)["']\s*\)""")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def lessons() -> list[Path]:
    """The lessons, ``notebooks/NN_name.ipynb``, in order."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


REFERENCE = ["notebooks/GLOSSARY.md", "notebooks/TROUBLESHOOTING.md", "benchmarks/RESULTS.md", "notebooks/DECISIONS.md"]


def pages() -> list[str]:
    """The markdown pages besides the lessons, relative to the repository: the reference pages, then the instructors'."""
    return REFERENCE + [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "instructors").glob("*.md"))]


def repository(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The course's GitHub address, ``[project.urls] Repository`` of pyproject.toml."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return project.get("urls", {}).get("Repository", "https://github.com/OWNER/tlcourse").rstrip("/")


def run_links(repo: str, lesson: str) -> dict[str, str]:
    """Where a lesson opens (Colab, Kaggle, Binder) and downloads, for the repository ``repo`` on GitHub.

    Examples
    --------
    >>> links = run_links("https://github.com/someone/tlcourse", "00_setup_check")
    >>> links["Colab"]
    'https://colab.research.google.com/github/someone/tlcourse/blob/main/notebooks/00_setup_check.ipynb'
    >>> links["Kaggle"]
    'https://kaggle.com/kernels/welcome?src=https://github.com/someone/tlcourse/blob/main/notebooks/00_setup_check.ipynb'
    >>> links["Binder"]
    'https://mybinder.org/v2/gh/someone/tlcourse/main?labpath=notebooks%2F00_setup_check.ipynb'
    """
    slug = repo.removeprefix("https://github.com/")
    path = f"notebooks/{lesson}.ipynb"
    return {"Colab": f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/{path}",
            "Kaggle": f"https://kaggle.com/kernels/welcome?src={repo}/blob/{BRANCH}/{path}",
            "Binder": f"https://mybinder.org/v2/gh/{slug}/{BRANCH}?labpath={path.replace('/', '%2F')}",
            "download": f"{lesson}.ipynb"}


def run_bar(repo: str, lesson: str) -> str:
    """The lesson page's buttons, as an HTML block of its markdown."""
    links = run_links(repo, lesson)
    names = {"Colab": "Open in Colab", "Kaggle": "Open in Kaggle", "Binder": "Launch on Binder",
             "download": "Download the notebook (.ipynb)"}
    anchors = "".join(f'<a class="tl-run-{key.lower()}" href="{html.escape(url)}"'
                      f'{" download" if key == "download" else ""}>{names[key]}</a>' for key, url in links.items())
    return f'<div class="tl-run" role="group" aria-label="Run this lesson">{anchors}</div>'


def rewrite_links(text: str, rel: str, site_files: set[str], repo: str) -> str:
    """Links of the markdown ``text`` (the file ``rel``) to repository files that are not on the site, to GitHub.

    Examples
    --------
    >>> rewrite_links("[guide](guide.md), [config](jupyterhub/values.yaml), [map](#course-map)",
    ...               "instructors/hub.md", {"instructors/guide.md"}, "https://github.com/o/r")
    '[guide](guide.md), [config](https://github.com/o/r/blob/main/instructors/jupyterhub/values.yaml), [map](#course-map)'
    """
    def link(match: re.Match) -> str:
        target = match.group(2)
        path, _, anchor = target.partition("#")
        if not path or re.match(r"[a-z][a-z0-9+.-]*:", path):
            return match.group(0)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
        if resolved in site_files or not (ROOT / resolved).exists():
            return match.group(0)  # a page of the site (or nothing at all: Sphinx says so)
        kind = "tree" if (ROOT / resolved).is_dir() else "blob"
        return f"{match.group(1)}{repo}/{kind}/{BRANCH}/{resolved}{'#' + anchor if anchor else ''}{match.group(3)}"

    return MD_LINK.sub(link, text)


def _inline(text: str) -> str:
    """Quiz text as HTML: escaped, with `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def quiz_html(quiz: Any) -> str:
    """A lesson's quiz as HTML: each question with its options, and its answer folded under it.

    Examples
    --------
    >>> from tlcourse_exercises import quiz
    >>> page = quiz_html(quiz.load("01_what_is_transfer_learning"))
    >>> page.count("<details>") == len(quiz.load("01_what_is_transfer_learning").questions)
    True
    """
    from tlcourse_exercises.quiz import ASKS, letter

    items = []
    for q in quiz.questions:
        body = [f"<p>{_inline(q['text'])} <em>({ASKS[q['kind']]})</em></p>"]
        if q["kind"] == "numeric":
            a = q["answer"]
            answer = f"<p>{a['value']:g} (within {a['tolerance']:g}). {_inline(q['explanation'])}</p>"
        else:
            right = [q["answer"]] if q["kind"] == "single" else q["answer"]
            body.append('<ol type="a">' + "".join(f"<li>{_inline(o)}</li>" for o in q["options"]) + "</ol>")
            answer = (f"<p>{', '.join(letter(i) for i in sorted(right))}</p><ul>"
                      + "".join(f"<li>{letter(i)}) {'right' if i in right else 'wrong'}: {_inline(why)}</li>"
                                for i, why in enumerate(q["explanations"])) + "</ul>")
        body.append(f"<details><summary>Answer</summary>{answer}</details>")
        items.append("<li>" + "".join(body) + "</li>")
    return (f'<div class="tl-quiz"><p><strong>Quiz: {_inline(quiz.title)}</strong></p><ol>{"".join(items)}</ol>'
            "<p><em>In JupyterLab each question has a Check button.</em></p></div>")


def _figure_key(png_b64: str | list[str]) -> str:
    data = "".join(png_b64) if isinstance(png_b64, list) else png_b64
    return hashlib.sha256(base64.b64decode(data)).hexdigest()


def _static(output: dict) -> list[dict]:
    """An output as a static page shows it: an interactive view's text, then its drawing; no widget."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return [output]
    text = "".join(data.get("text/plain", ""))
    shown = [{"output_type": "stream", "name": "stdout", "text": text + "\n"}] if text.strip() else []
    if "image/png" in data:
        shown.append({"output_type": "display_data", "metadata": output.get("metadata", {}),
                      "data": {"image/png": data["image/png"], "text/plain": "<Figure>"}})
    return shown


def prepare_lesson(nb: dict, name: str, repo: str, site_files: set[str], executed: bool) -> tuple[dict, dict, list]:
    """The lesson ``nb`` as its page shows it; its figures' text alternatives; its figures without one."""
    from tlcourse_exercises import quiz

    nb = copy.deepcopy(nb)
    figures: dict[str, str] = {}
    undescribed: list[str] = []
    run = nb.get("metadata", {}).get("tlcourse", {})
    note = (f"Outputs and figures from the course's tests on {run.get('executed', '?')[:10]}: the {run.get('profile')} "
            f"profile on {run.get('cpus')} CPU cores ([which data](../index.md#the-data-behind-the-figures))."
            if executed else
            ":::{warning}\nThis lesson was not run for this build of the site: no outputs, no figures. "
            "Run it (`make test`, or `pytest --nbval-lax notebooks/" + name + ".ipynb`) and build again.\n:::")
    for index, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            source = rewrite_links(source, f"notebooks/{name}.ipynb", site_files, repo)
            if index == 0:
                title, _, rest = source.partition("\n")
                source = f"{title}\n\n{run_bar(repo, name)}\n\n{note}\n{rest}"
            cell["source"] = source
            continue
        if cell["cell_type"] != "code":
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "solution" in tags:
            tags.append("hide-cell")  # folded, as JupyterLab collapses it
        if call := QUIZ_CALL.search(source):  # from the quiz's file: the same whether the lesson ran or not
            q = quiz.load(call.group(1))
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"text/html": quiz_html(q), "text/plain": quiz.as_text(q)}}]
            continue
        cell["outputs"] = [shown for output in cell.get("outputs", []) for shown in _static(output)]
        for output in cell["outputs"]:
            if "image/png" in output.get("data", {}):
                alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
                if alt:
                    figures[_figure_key(output["data"]["image/png"])] = alt
                else:
                    undescribed.append(f"{name}, code cell {cell.get('execution_count')}")
    return nb, figures, undescribed


def photos_used() -> str:
    """The photos the lessons read, as each lesson's claims ledger recorded them (benchmarks/ledger.py)."""
    found = {json.loads(p.read_text(encoding="utf-8")).get("data")
             for p in (ROOT / "notebooks" / "outputs" / "claims").glob("*.json")}
    return "; and in another run, ".join(sorted(d for d in found if d)) or "not recorded"


def version() -> str:
    """The course's version, ``tlcourse.__version__`` (its one home), read without importing the package."""
    text = (ROOT / "tlcourse" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def index_page(repo: str, names: list[str], runs: set[str]) -> str:
    """The home page: the README's introduction and course map, the data behind the figures, the other pages.

    ``runs`` says how the lessons ran (``"the quick profile on 2 CPU cores"``), from their notebooks.
    """
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    title = readme.splitlines()[0].lstrip("# ").strip()
    intro = readme.split("\n\n")[1].strip()
    block = re.search(r"<!-- minutes:begin -->\n(.*?)<!-- minutes:end -->", readme, re.S)
    if block is None:
        sys.exit("README.md has no course map between <!-- minutes:begin --> and <!-- minutes:end -->")
    page_titles = {p: (ROOT / p).read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip() for p in pages()}
    instructors = [p for p in pages() if p.startswith("instructors/")]
    toc = "\n".join(
        [":::{toctree}\n:hidden:\n:caption: Lessons\n"] + [f"notebooks/{n}" for n in names] + [":::\n"]
        + [":::{toctree}\n:hidden:\n:caption: Reference\n"] + [p[:-3] for p in REFERENCE] + [":::\n"]
        + [":::{toctree}\n:hidden:\n:caption: Instructors\n"] + [p[:-3] for p in instructors] + [":::"])
    listed = "\n".join(f"- [{page_titles[p]}]({p})" for p in REFERENCE)
    teaching = "\n".join(f"- [{page_titles[p]}]({p})" for p in instructors)
    return f"""# {title}

{intro}

Each lesson below is shown with the outputs and figures it gave when the course's tests last ran
it, and buttons to run it yourself (Colab, Kaggle, Binder) or download it. The code is on
[GitHub]({repo}). <a href="search.html">Search the course</a>. This is version {version()} of the course;
to cite it, see [CITATION.cff](CITATION.cff).

## Course map

{block.group(1).strip()}

## The data behind the figures

The figures were measured when the course's tests ran each lesson, in {" and ".join(sorted(runs)) or "no run"}, on
these photos, as the lessons found them: {photos_used()}. With internet, the course downloads TensorFlow's
flower_photos, 3,670 photos at their original sizes; a classroom mirror may hold another copy. No lesson
depends on the count or the size: on your machine the numbers come out a little different, and the lessons
say which differences matter.

## Also on this site

{listed}

For instructors:

{teaching}

{toc}
"""


def stage(repo: str, allow_missing: bool) -> tuple[dict, list[str]]:
    """Write the site's sources into SRC (and the downloads into EXTRA); return the manifest and what is undescribed."""
    import nbformat

    names = [p.stem for p in lessons()]
    missing = [n for n in names if not (EXECUTED / f"{n}.ipynb").is_file()]
    if missing and not allow_missing:
        where = EXECUTED.relative_to(ROOT) if EXECUTED.is_relative_to(ROOT) else EXECUTED
        sys.exit(f"make site: no executed notebook for {', '.join(missing)} in {where}/.\n"
                 "The tests write them as they run the lessons: run `make test` (every lesson), or one lesson with\n"
                 f"  .venv/bin/python -m pytest --nbval-lax notebooks/{missing[0]}.ipynb\n"
                 "(`make site SITE_ARGS=--allow-missing` builds without them, each page saying so.)")
    for folder in (SRC, EXTRA):
        shutil.rmtree(folder, ignore_errors=True)
    (SRC / "notebooks").mkdir(parents=True)
    (EXTRA / "notebooks").mkdir(parents=True)
    site_files = {f"notebooks/{n}.ipynb" for n in names} | set(pages())
    figures: dict[str, str] = {}
    undescribed: list[str] = []
    runs: set[str] = set()
    manifest: dict[str, Any] = {"repository": repo, "lessons": {}, "pages": ["index.html"]}
    for name in names:
        executed = name not in missing
        nb = nbformat.read(EXECUTED / f"{name}.ipynb" if executed else ROOT / "notebooks" / f"{name}.ipynb", 4)
        page, found, without = prepare_lesson(nb, name, repo, site_files, executed)
        nbformat.write(nbformat.from_dict(page), SRC / "notebooks" / f"{name}.ipynb")
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", EXTRA / "notebooks" / f"{name}.ipynb")  # the download
        figures.update(found)
        undescribed += without
        shown = sum("image/png" in o.get("data", {}) for cell in page["cells"] for o in cell.get("outputs", []))
        manifest["lessons"][name] = {"page": f"notebooks/{name}.html", "executed": executed, "figures": shown}
        if executed:
            run = nb.metadata.get("tlcourse", {})
            runs.add(f"the {run.get('profile', '?')} profile on {run.get('cpus', '?')} CPU cores")
    for rel in pages():
        (SRC / rel).parent.mkdir(parents=True, exist_ok=True)
        (SRC / rel).write_text(rewrite_links((ROOT / rel).read_text(encoding="utf-8"), rel, site_files, repo),
                               encoding="utf-8")
        manifest["pages"].append(rel[:-3] + ".html")
    (SRC / "index.md").write_text(rewrite_links(index_page(repo, names, runs), "README.md", site_files, repo),
                                  encoding="utf-8")
    (SRC / FIGURES_FILE).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return manifest, undescribed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--allow-missing", action="store_true",
                        help="build even if some lessons were not executed (their pages say so); for working on the site")
    args = parser.parse_args(argv)
    try:
        import myst_nb  # noqa: F401 - the site's packages come with the dev extra
    except ImportError:
        sys.exit("make site needs Sphinx, MyST-NB and the Book theme: pip install -e '.[dev]'")
    started = time.monotonic()
    repo = repository()
    manifest, undescribed = stage(repo, args.allow_missing)
    if undescribed:
        sys.exit("figures without a text alternative (did the tests' kernel load tools/alt_text.py?): "
                 + "; ".join(undescribed))
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(SITE), "-d", str(BUILD / "doctrees"),
               "-W", "--keep-going", "-q", "-j", "auto", str(SRC), str(HTML)]
    if subprocess.run(command, cwd=ROOT).returncode != 0:
        return 1
    (BUILD / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    not_run = [n for n, lesson in manifest["lessons"].items() if not lesson["executed"]]
    print(f"site built in {time.monotonic() - started:.0f} s: {HTML.relative_to(ROOT)}/index.html "
          f"({len(manifest['lessons']) - len(not_run)} lessons with outputs"
          f"{', without: ' + ', '.join(not_run) if not_run else ''}; "
          f"{sum(lesson['figures'] for lesson in manifest['lessons'].values())} figures)")
    print(f"run buttons point at {repo}: the publisher sets [project.urls] Repository in pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
