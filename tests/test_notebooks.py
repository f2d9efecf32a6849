"""Notebook hygiene: what STYLE.md asks of every lesson, checked on the files in git.

The notebooks themselves run end to end under nbval (pytest collects notebooks/).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHECKED_TAG = "nbval-check-output"
SOLUTION_TAG = "solution"


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks_numbered_without_gaps():
    assert NOTEBOOKS, "no notebooks found"
    numbers = []
    for nb in NOTEBOOKS:
        m = re.fullmatch(r"(\d\d)_[a-z0-9_]+\.ipynb", nb.name)
        assert m, f"{nb.name}: name must be NN_snake_case.ipynb"
        numbers.append(int(m.group(1)))
    assert numbers == list(range(len(numbers))), f"numbering has gaps: {numbers}"


def test_notebooks_are_built_from_their_sources():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "nbbuild.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert {p.stem for p in NOTEBOOKS} == {p.stem for p in (ROOT / "notebooks" / "src").glob("*.py")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_hygiene(path):
    raw = path.read_bytes()
    assert b"\r\n" not in raw, "CRLF line endings"
    nb = load(path)
    assert set(nb["metadata"]) <= {"kernelspec", "language_info"}, f"extra metadata {set(nb['metadata'])}"
    cells = nb["cells"]
    first, last = cells[0], cells[-1]
    assert first["cell_type"] == "markdown"
    head = "".join(first["source"])
    assert head.startswith("# ") and "You will learn" in head and "Estimated time" in head
    assert last["cell_type"] == "markdown" and "Key points" in "".join(last["source"])
    setup_cells = []
    for i, cell in enumerate(cells):
        src = "".join(cell["source"])
        meta = cell.get("metadata", {})
        # solution cells may also be collapsed in JupyterLab (tools/nbbuild.py writes it), nothing else
        allowed = {"tags", "jupyter"} if SOLUTION_TAG in meta.get("tags", []) else {"tags"}
        assert set(meta) <= allowed, f"cell {i}: extra metadata {sorted(set(meta) - allowed)}"
        assert meta.get("jupyter", {"source_hidden": True}) == {"source_hidden": True}, f"cell {i}: jupyter metadata"
        if cell["cell_type"] != "code":
            continue
        if CHECKED_TAG in cell["metadata"].get("tags", []):
            # the expected output nbval compares, printed text only
            assert all(o["output_type"] == "stream" for o in cell["outputs"]), f"cell {i}: non-text output"
        else:
            assert cell["execution_count"] is None, f"cell {i}: execution count stored"
            assert cell["outputs"] == [], f"cell {i}: outputs stored"
        assert not re.search(r"^\s*[!%]\s*pip\b", src, re.M), f"cell {i}: installs packages"
        assert not re.search(r"^\s*from\s+\S+\s+import\s+\*", src, re.M), f"cell {i}: star import"
        if "tlcourse.setup(" in src:
            setup_cells.append(i)
    assert len(setup_cells) == 1, f"one set-up cell expected, found {setup_cells}"
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    assert setup_cells[0] == code[0] or setup_cells[0] == code[1], "tlcourse.setup() belongs in the first code cells"


def test_hygiene_check_catches_a_dirty_notebook(tmp_path):
    """The check above can fail: a notebook with an output and a count is refused."""
    nb = load(NOTEBOOKS[0])
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["execution_count"] = 3
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    dirty = tmp_path / NOTEBOOKS[0].name
    dirty.write_text(json.dumps(nb))
    with pytest.raises(AssertionError):
        test_notebook_hygiene(dirty)
