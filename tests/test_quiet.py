"""No TensorFlow C++ or absl log line reaches the learner; the course's errors and Python's still do.

In a notebook the course's kernel (tools/kernel.py, installed by ``make install``) keeps them out;
in the terminal the ``tlcourse`` command filters them. Each test runs a fresh interpreter or kernel:
the lines are printed while TensorFlow loads, once per process. The environment is the test's own
(the mirror) without ``TF_CPP_MIN_LOG_LEVEL``, as on a learner's machine.
"""

from __future__ import annotations

import json
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
    out = run(["-m", "tlcourse_cli", "doctor"])
    assert " set-up (seed " in out.stdout, out.stderr[-2000:]
    assert not noise(out), noise(out)


def test_importing_tlcourse_imports_no_tensorflow_and_needs_no_import_order():
    out = run(["-c", "import sys, tlcourse; assert 'tensorflow' not in sys.modules; print('ok')"])
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
    assert not (ROOT / "tlcourse" / "__init__.py").read_text().count("meta_path")


def test_the_fetch_command_imports_no_tensorflow():
    # `tlcourse fetch` downloads files: it goes through doctor, which must not load TensorFlow to do so.
    out = run(["-c", "import sys, tlcourse_cli.cli, tlcourse_cli.doctor; assert 'tensorflow' not in sys.modules; print('ok')"])
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def run_cell(code: str, kernels: Path | None = None) -> list[str]:
    """Run one cell in the environment's ``python3`` kernel (or the one in the folder ``kernels``); its output lines."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    specs = KernelSpecManager(kernel_dirs=[str(kernels)]) if kernels else KernelSpecManager()
    client = NotebookClient(nb, km=KernelManager(kernel_name="python3", kernel_spec_manager=specs), timeout=300)
    # ipykernel copies file descriptor 2 into the notebook except under pytest (PYTEST_CURRENT_TEST):
    # the kernel gets a learner's environment.
    env = {k: v for k, v in os.environ.items() if k not in {"TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST"}}
    client.execute(env=env)
    outputs = nb.cells[0].outputs
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream").splitlines()


CELL = "import keras, tensorflow as tf\nprint('sum', int(tf.constant(1) + 1))\nimport sys; print('py err', file=sys.stderr)"


@pytest.mark.slow
def test_a_lesson_kernel_shows_python_output_and_no_tensorflow_log_line(tmp_path):
    lines = run_cell(CELL)
    assert "sum 2" in lines and "py err" in lines, lines
    assert not [line for line in lines if NOISE.search(line)], lines
    # The same cell in a kernel without the course's settings (ipykernel's defaults) shows them:
    # the check above can fail.
    default = tmp_path / "python3"
    default.mkdir()
    (default / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    assert [line for line in run_cell(CELL, tmp_path) if NOISE.search(line)]


def test_a_course_error_is_still_shown_without_a_traceback(tmp_path):
    out = run(["-m", "tlcourse_cli", "train", str(tmp_path / "nonexistent"), "--out", str(tmp_path / "x")])
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


IMPORT = ("from tlcourse_cli.cli import quiet_native_logs\nwith quiet_native_logs():\n    import tensorflow\n"
          "print(tensorflow.__version__)")


def test_the_filter_drops_log_lines_and_keeps_everything_else(fake_tensorflow):
    out = run(["-c", IMPORT], pythonpath=fake_tensorflow)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["fake"]
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
