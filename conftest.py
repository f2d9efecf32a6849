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
"""

from __future__ import annotations

import datetime
import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

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
_LEDGER_LINES: list[str] = []

# Run in a lesson's kernel after its last cell: the authors' kit, loaded from this checkout by path.
_RECORD = """
import importlib.util as _spec_util, sys as _sys
_spec = _spec_util.spec_from_file_location("tlcourse_benchmarks_ledger", {path!r})
_ledger = _sys.modules[_spec.name] = _spec_util.module_from_spec(_spec)
_spec.loader.exec_module(_ledger)
print(_ledger.record_lesson({notebook!r}, {{k: v for k, v in globals().items() if not k.startswith("_")}}))
"""


@pytest.hookimpl(tryfirst=True)  # before nbval's teardown stops the kernel
def pytest_runtest_teardown(item, nextitem):  # noqa: D103 - pytest hook
    notebook, kernel = item.parent, getattr(item.parent, "kernel", None)
    if not str(item.path).endswith(".ipynb") or kernel is None or (nextitem and nextitem.parent is notebook):
        return
    stem = Path(str(item.path)).stem
    if not (ROOT / "benchmarks" / "claims" / f"{stem}.py").is_file() or not kernel.is_alive():
        return
    said: list[str] = []

    def keep(msg):
        if msg["msg_type"] == "stream":
            said.append(msg["content"]["text"].strip())
        elif msg["msg_type"] == "error":
            said.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

    code = _RECORD.format(path=str(ROOT / "benchmarks" / "ledger.py"), notebook=stem)
    try:
        kernel.kc.execute_interactive(code, timeout=300, store_history=False, allow_stdin=False, output_hook=keep)
    except TimeoutError:
        said.append("timed out")
    _LEDGER_LINES.append(f"{stem}: {' '.join(said) or 'nothing said'}")


def pytest_runtest_logreport(report):  # noqa: D103 - pytest hook
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        # setup, call and teardown of every cell: the kernel's start-up is in the first cell's setup
        _SECONDS[path] += report.duration
        if report.failed:
            _FAILED.add(Path(path).stem)


def pytest_terminal_summary(terminalreporter):  # noqa: D103 - pytest hook
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
