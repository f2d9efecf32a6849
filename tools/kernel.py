"""Install this environment's Python kernel for the course: TensorFlow's C++ log lines out of the notebooks.

ipykernel (6 and later) copies what the kernel process writes to its file descriptors 1 and 2 into
the notebook. TensorFlow 2.21 writes its start-up log lines there (oneDNN, CUDA probing), whatever
``TF_CPP_MIN_LOG_LEVEL`` says. This kernel runs with ``capture_fd_output`` off, so those lines go to
the terminal that runs Jupyter, as they did before ipykernel 6, while everything Python prints
(``print``, warnings, tracebacks) reaches the notebook as usual; ``TF_CPP_MIN_LOG_LEVEL=3`` quiets
TensorFlow's later lines. The kernel keeps the name ``python3``, which every lesson's metadata names.

    python tools/kernel.py            # into sys.prefix (the venv); `make install` runs it

A ``python3`` kernel in the user's own Jupyter folder (``jupyter kernelspec list``) takes precedence;
with it the lessons still run, and show TensorFlow's lines.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FLAG = "--IPKernelApp.capture_fd_output=False"


def kernel_spec() -> dict:
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", FLAG],
        "display_name": "Python 3 (tlcourse)",
        "language": "python",
        "env": {"TF_CPP_MIN_LOG_LEVEL": "3"},
        "metadata": {"debugger": True},
    }


def install(prefix: Path = Path(sys.prefix)) -> Path:
    """Write ``share/jupyter/kernels/python3/kernel.json`` under ``prefix``; return its path."""
    path = prefix / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kernel_spec(), indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(f"wrote {install()}")
