"""The package's layout, checked: imports point one way, settings are read in one place, files stay small.

The layers, bottom to top (tlcourse/README.md says the same in prose):

0. ``settings``: every environment variable, read once;
1. ``assets``: where data sets, weights and the text model live, how they are fetched, their errors;
2. the lessons' libraries: ``runtime``, ``data``, ``models``, ``features``, ``plots``, ``checks``, ``timings``,
   ``claims`` (the ledger of measured claims), ``interactive`` (controls that redraw a figure);
3. techniques built on them: ``scratch``, ``training``, ``practices``, ``adapt``, ``text``;
4. ``doctor`` (the machine and the course's needs);
5. ``capstone``, ``exercises``, ``quiz``; 6. ``cli``, the command over all of it (and ``__main__`` over that).

A module may import its own package and anything in a lower layer, never a higher
one or a sibling's private name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tlcourse"

LAYERS = {
    "settings": 0,
    "assets": 1,
    "runtime": 2, "data": 2, "models": 2, "features": 2, "plots": 2, "checks": 2, "timings": 2,
    "claims": 2, "interactive": 2,
    "scratch": 3, "training": 3, "practices": 3, "adapt": 3, "text": 3,
    "doctor": 4,
    "capstone": 5, "exercises": 5, "quiz": 5, "cli": 6, "__main__": 7,
}
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _top(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) == 1 else rel.parts[0]


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``(module, imported names, line)`` for every ``tlcourse`` import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tlcourse":
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "tlcourse"]
    return found


def _target(module: str, name: str) -> str | None:
    """The top-level piece of tlcourse an import reaches (``from tlcourse import data`` reaches data)."""
    parts = module.split(".")
    if len(parts) > 1:
        return parts[1]
    return name if name in LAYERS else None


def test_every_module_has_a_layer():
    assert {_top(p) for p in _modules()} - {"__init__"} <= set(LAYERS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_and_never_at_private_names(path):
    me = _top(path)
    if me == "__init__":
        return  # the package's own front door re-exports set-up from runtime
    for module, names, line in _imports(path):
        for name in names or [""]:
            target = _target(module, name)
            if target is None or target == me:
                continue
            assert LAYERS[target] < LAYERS[me], (
                f"{path.name}:{line} imports {target} (layer {LAYERS[target]}) from layer {LAYERS[me]}")
            assert not name.startswith("_"), f"{path.name}:{line} imports the private name {name} of {module}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_attribute_of_another_module_is_used(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               and n.module and n.module.startswith("tlcourse") for a in n.names}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            pytest.fail(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}, a private name")


def test_the_environment_is_read_in_settings_only():
    readers = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        if "os.environ" in text or "getenv" in text:
            readers.append(path.relative_to(PACKAGE).as_posix())
    assert readers == ["settings.py"]


def test_no_private_api_of_keras_or_tensorflow():
    roots = [PACKAGE, PACKAGE.parent / "tests", PACKAGE.parent / "notebooks" / "src", PACKAGE.parent / "benchmarks"]
    offenders = [f"{p.name}:{i}" for root in roots for p in root.rglob("*.py") if p.name != Path(__file__).name
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if "keras.src" in line or "tensorflow.python" in line]
    assert not offenders, offenders


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small_enough_to_read_in_one_sitting(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.name} has {n} lines: split it along its seams"


def test_the_layer_check_can_fail(tmp_path):
    """A module of layer 2 that imports the capstone (layer 5) is refused."""
    bad = PACKAGE / "models.py"
    source = bad.read_text(encoding="utf-8") + "\nfrom tlcourse.capstone import train\n"
    fake = tmp_path / "tlcourse" / "models.py"
    fake.parent.mkdir()
    fake.write_text(source, encoding="utf-8")
    imports = _imports(fake)
    assert ("tlcourse.capstone", ["train"], source.count("\n")) in imports
    assert LAYERS[_target("tlcourse.capstone", "train")] > LAYERS["models"]
