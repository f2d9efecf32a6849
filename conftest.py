"""Print how long each notebook took, at the end of every test run (the course map's minutes)."""

from __future__ import annotations

from collections import defaultdict

_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):  # noqa: D103 - pytest hook
    if report.nodeid.split("::")[0].endswith(".ipynb"):
        _SECONDS[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):  # noqa: D103 - pytest hook
    if not _SECONDS:
        return
    terminalreporter.section("notebook run times")
    for name, seconds in sorted(_SECONDS.items()):
        terminalreporter.write_line(f"{name:48s} {seconds / 60:5.2f} min")
    terminalreporter.write_line(f"{'all notebooks':48s} {sum(_SECONDS.values()) / 60:5.2f} min")
