"""A learner's path through a lesson in a real JupyterLab, driven in a real Chromium.

JupyterLab is started on a free port with a random token, its root a temporary copy of
``notebooks/`` (the lesson writes its outputs there, not into the checkout). Chromium
(Debian's ``chromium``, driven by Playwright for Python: Playwright's own browser download
needs internet) opens lesson 02, runs every cell from the *Run* menu, answers the quiz's
first question and presses *Check*, then moves the slider of the lesson's first interactive
cell and checks that the drawing changes. Screenshots go to the test's ``tmp_path`` and to
``outputs/browser/`` of the repository (git-ignored), for an instructor to look at.

Without Chromium or Playwright the test is skipped, saying what is missing; in CI
(``CI=true``) a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tlcourse_exercises import quiz

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
LESSON = "02_feature_extraction"
SCREENSHOTS = ROOT / "outputs" / "browser"
# Chromium's flags for a headless run in a container: no sandbox (no user namespaces), no GPU,
# /tmp instead of a small /dev/shm, and none of the background requests a browser makes.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                 "--disable-extensions", "--disable-sync", "--no-first-run", "--metrics-recording-only"]
# A bound for a hung kernel, not the expected time: lesson 02 computes for about 1.5 min alone on 2
# cores (tlcourse/minutes.json), and took 5.5 min in JupyterLab and under nbval alike on a 2-core machine
# shared with other test runs.
LESSON_TIMEOUT_S = 600


def chromium_path() -> str | None:
    """``$TLCOURSE_CHROMIUM``, else the first Chromium or Chrome on PATH."""
    if os.environ.get("TLCOURSE_CHROMIUM"):
        return os.environ["TLCOURSE_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"no answer from {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def lab_settings(folder: Path) -> None:
    """JupyterLab user settings for a test: every cell in the page (no windowing), no news prompt."""
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture
def lab(tmp_path: Path):
    """A JupyterLab server on a copy of notebooks/: yields ``(base_url, token, root_dir)``."""
    root = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns("outputs", ".ipynb_checkpoints"))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    # The kernel draws inline: a non-interactive MPLBACKEND (the tests' Agg) would hide every figure.
    env.pop("MPLBACKEND", None)
    env.setdefault("TLCOURSE_PROFILE", "quick")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp_path / "lab-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp_path / "lab-workspaces")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "jupyter-runtime")
    lab_settings(tmp_path / "lab-settings")
    log = tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--IdentityProvider.token={token}",
               "--ServerApp.allow_root=True", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/api/status?token={token}", process, log)
        yield base, token, root
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser(missing):
    """A headless Chromium driven by Playwright."""
    path = chromium_path()
    if path is None:
        missing("no Chromium on PATH (apt install chromium, or set TLCOURSE_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def normalized(text: str) -> str:
    return " ".join(text.split())


# Done when no code cell waits or runs and the kernel is idle, read from JupyterLab's own models
# (the app object is exposed to the page by --LabApp.expose_app_in_browser): a cell whose input is
# collapsed, as the solutions are, hides its prompt.
RUN_FINISHED_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.sessionContext.session) return false;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  return panel.sessionContext.kernelDisplayStatus === 'idle' && cells.length > 0 &&
         !cells.some(c => c.model.executionState === 'running' || (c.promptNode?.textContent ?? '').includes('*'));
}"""
FAILED_CELL_JS = """(i) => { const cell = window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code')[i];
  return {source: cell.model.sharedModel.getSource(), output: cell.outputArea.node.innerText}; }"""
EXECUTION_COUNTS_JS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code').map(c => c.model.executionCount)"""


def test_a_lesson_runs_and_its_quiz_and_explore_cell_respond_in_jupyterlab(lab, browser, tmp_path):
    base, token, root = lab
    lesson = root / f"{LESSON}.ipynb"
    cells = json.loads(lesson.read_text(encoding="utf-8"))["cells"]
    n_code = sum(c["cell_type"] == "code" for c in cells)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    for old in SCREENSHOTS.glob("*.png"):  # an instructor should see this run's screenshots only
        old.unlink()

    def shoot(name: str, target) -> None:
        target.screenshot(path=str(shots / f"{name}.png"))

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    started = time.monotonic()
    try:
        page.goto(f"{base}/lab/tree/{lesson.name}?token={token}")
        page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for()
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                               "window.jupyterapp.shell.currentWidget.sessionContext.kernelDisplayStatus === 'idle'",
                               timeout=180_000)  # the kernel's start, slow on a loaded machine

        # Run > Run All Cells, as a learner would.
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.wait_for_function(RUN_FINISHED_JS, timeout=LESSON_TIMEOUT_S * 1000, polling=1000)
        run_s = time.monotonic() - started  # from opening the lesson: the kernel's start, then Run All
        counts = page.evaluate(EXECUTION_COUNTS_JS)
        not_run = [i for i, n in enumerate(counts) if n is None]
        assert len(counts) == n_code
        if not_run:  # an error stops Run All: the cell before the first one left out raised it
            culprit = max(not_run[0] - 1, 0)
            failed = page.evaluate(FAILED_CELL_JS, culprit)
            raise AssertionError(f"code cells {not_run} of {LESSON} did not run: code cell {culprit} "
                                 f"failed:\n{failed['source'][:2000]}\n--- its output ---\n{failed['output'][-4000:]}")
        shoot("01_lesson_after_run_all", page)

        # The quiz: choose the first question's right answer, press Check, read the feedback.
        questions = quiz.load(LESSON).questions
        first = questions[0]
        assert first["kind"] == "single", "the test answers a single-choice first question"
        box = page.locator(".widget-vbox", has=page.locator("h3", has_text="Quiz:")).last
        question = box.locator(".widget-vbox", has=page.locator(".widget-radio-box")).first
        question.scroll_into_view_if_needed()
        wrong = next(i for i in range(len(first["options"])) if i != first["answer"])
        feedback = question.locator(".widget-html").last
        for choice in (wrong, first["answer"]):
            question.get_by_role("radio", name="abcdefghijklmnopqrstuvwxyz"[choice], exact=True).check()
            question.get_by_role("button", name="Check").click()
            expected = normalized(quiz.grade(first, choice)[1].replace("`", ""))  # `code` is drawn as <code>
            page.wait_for_function("([el, text]) => el.innerText.replace(/\\s+/g, ' ').trim() === text",
                                   arg=[feedback.element_handle(), expected])
            assert normalized(feedback.inner_text()) == expected
            assert expected.startswith("Right:" if choice == first["answer"] else "Not quite:")
            shoot(f"02_quiz_{'right' if choice == first['answer'] else 'wrong'}_answer", question)

        # The first interactive cell: move its slider with the keyboard, the drawing must change.
        if page.locator(".tlcourse-explore").count() == 0:
            pytest.fail(f"{LESSON} drew no interactive cell (tlcourse.interactive.explore): the test moves the first one")
        explore = page.locator(".tlcourse-explore").first
        explore.scroll_into_view_if_needed()
        image = explore.locator(".widget-output img").first
        image.wait_for()
        before = image.get_attribute("src")
        shoot("03_explore_before", explore)
        readout = explore.locator(".widget-readout").first
        value_before = readout.inner_text()
        handle = explore.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")  # one step; the slider sends it on release (continuous_update=False)
        page.wait_for_function("([box, old]) => { const i = box.querySelector('.widget-output img');"
                               " return i !== null && i.src !== old && i.complete && i.naturalWidth > 0; }",
                               arg=[explore.element_handle(), before])
        assert readout.inner_text() != value_before, "the slider did not move"
        after = explore.locator(".widget-output img").first
        assert after.get_attribute("src") not in {None, before}
        shoot("04_explore_after_one_step", explore)
        total_s = time.monotonic() - started
        print(f"browser test: lesson opened and run in {run_s:.0f} s, quiz and slider done at {total_s:.0f} s")
    except BaseException:  # pytest.fail too: the page at the moment of failure
        page.screenshot(path=str(shots / "99_failure.png"))
        raise
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for shot in shots.glob("*.png"):
            shutil.copy(shot, SCREENSHOTS / shot.name)
        page.close()
