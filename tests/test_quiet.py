"""No TensorFlow C++ or absl log line reaches the learner; the course's errors and Python's still do.

Each test runs a fresh interpreter: the lines are printed while TensorFlow loads,
once per process. The environment is the test's own (the mirror) without
``TF_CPP_MIN_LOG_LEVEL``, as on a learner's machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOISE = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|cuda|oneDNN", re.M)


def run(args, *, level=None, pythonpath=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), str(ROOT)])
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)


def noise(out) -> list[str]:
    return [line for line in (out.stdout + out.stderr).splitlines() if NOISE.search(line)]


def test_doctor_prints_no_tensorflow_log_line():
    out = run(["-m", "tlcourse", "doctor"])
    assert "tlcourse set-up" in out.stdout, out.stderr[-2000:]
    assert not noise(out), noise(out)


def test_importing_tlcourse_then_tensorflow_is_silent():
    out = run(["-c", "import sys, tlcourse; assert 'tensorflow' not in sys.modules\n"
                     "import keras, tensorflow as tf; tf.config.list_physical_devices(); print('ok')"])
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
    assert not noise(out) and out.stderr.strip() == "", out.stderr


def test_a_course_error_is_still_shown_without_a_traceback(tmp_path):
    out = run(["-m", "tlcourse", "train", str(tmp_path / "nonexistent"), "--out", str(tmp_path / "x")])
    assert out.returncode != 0
    assert re.search(r"^error: .*nonexistent", out.stderr, re.M), out.stderr
    assert "Traceback" not in out.stderr
    assert not noise(out), noise(out)


# A stand-in for TensorFlow that writes what TensorFlow 2.21 writes to file descriptor 2 while it
# loads, and what must still get through: a C line that is not a log line, a fatal line, a warning.
FAKE_TENSORFLOW = textwrap.dedent(r'''
    import os, sys, warnings
    for line in [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796114499.198736   24039 port.cc:153] oneDNN custom operations are on.",
        "I0000 00:00:1796114499.199082   24039 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
        "W0000 00:00:1796114499.3   24039 some_file.cc:7] a warning from C++",
        "E0000 00:00:1796114502.804988   24039 cuda_platform.cc:52] failed call to cuInit",
        "a message from C that is no log line",
        "F0000 00:00:1796114502.9   24039 cpu_feature_guard.cc:37] fatal: this line explains an abort",
    ]:
        os.write(2, (line + "\n").encode())
    warnings.warn("a Python warning while TensorFlow loads")
    if os.environ.get("FAKE_TF_FAILS"):
        raise ImportError("a real import error")
    __version__ = "fake"
''')


@pytest.fixture
def fake_tensorflow(tmp_path):
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE_TENSORFLOW)
    return tmp_path


IMPORT = "import tlcourse, tensorflow; print(tensorflow.__version__, type(tensorflow.__loader__).__name__)"


def test_the_filter_drops_log_lines_and_keeps_everything_else(fake_tensorflow):
    out = run(["-c", IMPORT], pythonpath=fake_tensorflow)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["fake", "SourceFileLoader"]  # TensorFlow's own loader, once imported
    assert "a message from C that is no log line" in out.stderr
    assert "fatal: this line explains an abort" in out.stderr
    assert "a Python warning while TensorFlow loads" in out.stderr
    for gone in ["absl::InitializeLog", "port.cc", "cudart_stub", "some_file.cc", "cuda_platform"]:
        assert gone not in out.stderr, out.stderr


def test_the_filter_follows_the_users_level(fake_tensorflow):
    two = run(["-c", IMPORT], level="2", pythonpath=fake_tensorflow).stderr
    assert "cuda_platform.cc" in two and "some_file.cc" not in two and "port.cc" not in two
    zero = run(["-c", IMPORT], level="0", pythonpath=fake_tensorflow).stderr
    assert all(s in zero for s in ["absl::InitializeLog", "port.cc", "some_file.cc", "cuda_platform.cc"])


def test_an_import_error_still_shows_its_traceback(fake_tensorflow):
    out = subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "FAKE_TF_FAILS": "1",
                              "PYTHONPATH": os.pathsep.join([str(fake_tensorflow), str(ROOT)])})
    assert out.returncode == 1
    assert "Traceback" in out.stderr and "ImportError: a real import error" in out.stderr
    assert "port.cc" not in out.stderr


def test_stderr_works_after_the_import(fake_tensorflow):
    code = IMPORT + "\nimport os, sys; os.write(2, b'fd after\\n'); print('py after', file=sys.stderr)"
    out = run(["-c", code], pythonpath=fake_tensorflow)
    assert "fd after" in out.stderr and "py after" in out.stderr
