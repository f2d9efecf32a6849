"""Time each notebook of a test run: print the minutes, and write them for tools/update_minutes.py.

At the end of every run that executed notebooks (nbval), the minutes per
notebook are printed and written to ``outputs/notebook_minutes.json``
(git-ignored)::

    {"date": "2026-12-01", "cpus": 2, "profile": "", "failed": [],
     "notebooks": {"00_setup_check": 0.52, ...}}

After a clean run of every notebook on the test machine (quick profile),
``python tools/update_minutes.py`` merges these into ``tlcourse/minutes.json``,
the one source of the course's minutes, and rebuilds the notebooks and README.

After the last cell of each lesson, while its kernel still runs, the claims the
authors declared for it (``benchmarks/claims/NN_name.py``) are recorded from the
lesson's variables by ``benchmarks/ledger.py`` into ``notebooks/outputs/claims/``,
where ``benchmarks/results.py`` reads them. Lessons themselves record nothing.

Each lesson's kernel draws its figures inline, as in JupyterLab (the tests' ``MPLBACKEND=Agg``
would show none), each with its text alternative (``tools/alt_text.py``). After a
lesson's last cell, if every cell passed, the lesson with the outputs this run gave it is written
to ``outputs/executed/NN_name.ipynb``: what ``make site`` builds the course's website from, without
running the lessons again.

``tests/test_site.py`` checks the built website: it is collected only when named
(``make site-test``), so a ``make test`` before ``make site`` does not look for a site.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import tokenize
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
from IPython.core.displayhook import DisplayHook

# The tests never download: whatever the shell says, they run offline (a test of the download
# path switches it back on for its local file:// sources), and so do the notebooks' kernels.
os.environ.setdefault("TLCOURSE_OFFLINE", "1")

# The lessons' percent-format sources are notebooks, not modules: importing one (as
# --doctest-modules would) runs the whole lesson. nbval runs the built .ipynb instead.
collect_ignore = ["notebooks/src"]

_SECONDS: dict[str, float] = defaultdict(float)
_FAILED: set[str] = set()
MEASURED_FILE = Path("outputs") / "notebook_minutes.json"
ROOT = Path(__file__).resolve().parent
EXECUTED_DIR = ROOT / "outputs" / "executed"
SITE_TEST = ROOT / "tests" / "test_site.py"
_LEDGER_LINES: list[str] = []
_EXECUTED_LINES: list[str] = []
_OUTPUTS: dict[str, dict[int, list]] = defaultdict(dict)  # notebook -> code cell number -> its outputs this run
_PREPARED: set[str] = set()  # notebooks whose kernel runs _PREPARE


def _with_kit(path: Path, call: str) -> str:
    """Kernel code that loads the authors' kit module at ``path`` from this checkout, as ``_kit``, runs ``call``,
    and leaves no name behind (lessons never import the kit)."""
    return (f"import importlib.util as _spec_util, sys as _sys\n"
            f"_spec = _spec_util.spec_from_file_location('tlcourse_kit_{path.stem}', {str(path)!r})\n"
            "_kit = _sys.modules[_spec.name] = _spec_util.module_from_spec(_spec)\n"
            "_spec.loader.exec_module(_kit)\n"
            f"{call}\n"
            "del _spec_util, _sys, _spec, _kit\n")


# Run in a lesson's kernel before its first cell: figures inline, each described (its alt text).
_PREPARE = ("get_ipython().run_line_magic('matplotlib', 'inline')\n"
            + _with_kit(ROOT / "tools" / "alt_text.py", "_kit.describe_figures()"))


def pytest_ignore_collect(collection_path, config):  # noqa: D103 - pytest hook
    if collection_path == SITE_TEST:  # checks the built website: only when named, after `make site`
        named = any(Path(str(arg).split("::")[0]).resolve() == SITE_TEST for arg in config.args)
        return None if named else True
    return None


def _run_in_kernel(kernel, code: str, timeout: float) -> list[str]:
    """Run ``code`` in a notebook's kernel, outside its history; return what it printed or raised."""
    said: list[str] = []

    def keep(msg):
        if msg["msg_type"] == "stream":
            said.append(msg["content"]["text"].strip())
        elif msg["msg_type"] == "error":
            said.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

    try:
        kernel.kc.execute_interactive(code, timeout=timeout, store_history=False, allow_stdin=False, output_hook=keep)
    except TimeoutError:
        said.append("timed out")
    return said


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):  # noqa: D103 - pytest hook
    result = yield  # nbval has started the notebook's kernel by now
    kernel = getattr(item.parent, "kernel", None)
    if str(item.path).endswith(".ipynb") and kernel is not None and item.parent.nodeid not in _PREPARED:
        _PREPARED.add(item.parent.nodeid)
        if said := _run_in_kernel(kernel, _PREPARE, timeout=120):
            _EXECUTED_LINES.append(f"{Path(str(item.path)).stem}: figures not prepared: {' '.join(said)}")
    return result


def _ends_with_semicolon(source: str) -> bool:
    try:
        return DisplayHook.semicolon_at_end_of_expression(source)
    except (SyntaxError, tokenize.TokenError):  # a cell IPython transforms first (a magic): no `;` rule
        return False


def _write_executed(item) -> None:
    """Write the notebook of ``item``, its last cell, with the outputs of this run (if every cell passed)."""
    stem = Path(str(item.path)).stem
    out = EXECUTED_DIR / f"{stem}.ipynb"
    outputs = _OUTPUTS.pop(item.parent.nodeid, {})
    nb = copy.deepcopy(item.parent.nb)
    not_run = sum(c.cell_type == "code" for c in nb.cells) - len(outputs)
    if stem in _FAILED or not_run:
        out.unlink(missing_ok=True)  # never leave an earlier run's outputs beside a failed or partial run
        _EXECUTED_LINES.append(f"{stem}: not written, {'a cell failed' if stem in _FAILED else f'{not_run} cells not run'}")
        return
    count = 0
    for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        # nbval runs cells outside the kernel's history, where IPython cannot see a closing `;`: drop the
        # result it would have kept out (as JupyterLab does), else a figure shows twice
        quiet = _ends_with_semicolon(cell.source)
        cell.outputs = [nbformat.from_dict(dict(o)) for o in outputs.get(number) or []
                        if not (quiet and o.get("output_type") == "execute_result")]
        count = count + 1 if number in outputs else count
        cell.execution_count = count if number in outputs else None
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    said = _run_in_kernel(item.parent.kernel, "print(__import__('tlcourse').active_profile().name)", timeout=60)
    nb.metadata["tlcourse"] = {"executed": datetime.datetime.now().isoformat(timespec="seconds"),
                               "profile": said[0] if len(said) == 1 else "?", "cpus": os.cpu_count()}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".part")
    nbformat.write(nb, partial)
    partial.replace(out)
    _EXECUTED_LINES.append(f"{stem}: {out.relative_to(ROOT)}")


@pytest.hookimpl(tryfirst=True)  # before nbval's teardown stops the kernel
def pytest_runtest_teardown(item, nextitem):  # noqa: D103 - pytest hook
    notebook, kernel = item.parent, getattr(item.parent, "kernel", None)
    if not str(item.path).endswith(".ipynb") or kernel is None:
        return
    if getattr(item, "test_outputs", None) is not None:
        _OUTPUTS[notebook.nodeid][item.cell_num] = item.test_outputs
    if nextitem and nextitem.parent is notebook:
        return
    if Path(str(item.path)).parent == ROOT / "notebooks":  # the lessons themselves, not a copy elsewhere
        _write_executed(item)
    stem = Path(str(item.path)).stem
    if not (ROOT / "benchmarks" / "claims" / f"{stem}.py").is_file() or not kernel.is_alive():
        return
    # after its last cell: the claims the lesson's variables hold, recorded by benchmarks/ledger.py
    code = _with_kit(ROOT / "benchmarks" / "ledger.py", f"print(_kit.record_lesson({stem!r}, "
                     "{k: v for k, v in globals().items() if not k.startswith('_')}))")
    said = _run_in_kernel(kernel, code, timeout=300)
    _LEDGER_LINES.append(f"{stem}: {' '.join(said) or 'nothing said'}")


def pytest_runtest_logreport(report):  # noqa: D103 - pytest hook
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        # setup, call and teardown of every cell: the kernel's start-up is in the first cell's setup
        _SECONDS[path] += report.duration
        if report.failed:
            _FAILED.add(Path(path).stem)


def pytest_terminal_summary(terminalreporter):  # noqa: D103 - pytest hook
    if _EXECUTED_LINES:
        terminalreporter.section("executed lessons, for `make site` (outputs/executed/)")
        for line in _EXECUTED_LINES:
            terminalreporter.write_line(line)
    if _LEDGER_LINES:
        terminalreporter.section("claims recorded (benchmarks/claims/ -> notebooks/outputs/claims/)")
        for line in _LEDGER_LINES:
            terminalreporter.write_line(line)
    if not _SECONDS:
        return
    terminalreporter.section("notebook run times")
    for name, seconds in sorted(_SECONDS.items()):
        terminalreporter.write_line(f"{name:48s} {seconds / 60:5.2f} min")
    terminalreporter.write_line(f"{'all notebooks':48s} {sum(_SECONDS.values()) / 60:5.2f} min")
    measured = {
        "date": datetime.date.today().isoformat(),
        "cpus": os.cpu_count(),
        # empty: chosen from the hardware (quick without a GPU); update_minutes wants quick-profile minutes
        "profile": os.environ.get("TLCOURSE_PROFILE", ""),
        "failed": sorted(_FAILED),
        "notebooks": {Path(p).stem: round(s / 60, 2) for p, s in sorted(_SECONDS.items())},
    }
    out = Path(terminalreporter.config.rootpath) / MEASURED_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(measured, indent=2) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"written to {MEASURED_FILE} (merge with: python tools/update_minutes.py)")
