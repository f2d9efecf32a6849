"""The linter runs with the tests: ruff, configured in pyproject.toml, on the whole repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "F401" in out.stdout
