"""The packages' layout, checked: imports point one way, settings are read in one place, files stay small.

Four packages, in layers, bottom to top (tlcourse/README.md says the same in prose). The library the
lessons import, ``tlcourse``, over the registry of what the course downloads, ``tlcourse_assets``:

0. ``settings`` (in ``tlcourse``): every environment variable, read once;
1. ``tlcourse_assets``, one piece: where data sets, weights and the text model live, how they are
   fetched and checked, their errors;
2. the lessons' libraries: ``runtime``, ``data``, ``models``, ``features``, ``plots``, ``measure``,
   ``claims`` (the verdict rule), ``interactive`` (controls that redraw a figure), ``recipe``;
3. techniques built on them: ``scratch``, ``training``, ``adapt``, ``text``.

Over it, the exercise checks and quizzes the lessons call, ``tlcourse_exercises``: 4. ``checks`` (the
``Checker``) and ``quiz``; 5. ``probes`` (steps several checks share); 6. one module of checks per lesson.

Over all of it, the ``tlcourse`` command (``tlcourse_cli``), an application the lessons run and never
import: 7. ``doctor`` (the machine and the course's needs); 8. ``capstone`` (audit, plan, cache, stages,
saving); 9. ``cli`` (and ``__main__`` over that).

A module may import its own piece and anything in a lower layer, never a higher
one or a sibling's private name: so nothing in ``tlcourse`` imports the exercises or the command.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tlcourse"
EXERCISES = PACKAGE.parent / "tlcourse_exercises"
APP = PACKAGE.parent / "tlcourse_cli"
ASSETS = PACKAGE.parent / "tlcourse_assets"
ROOTS = (PACKAGE, ASSETS, EXERCISES, APP)
#: Each package, and the prefix of its pieces' names in LAYERS.
PACKAGES = {"tlcourse": "", "tlcourse_assets": "assets.", "tlcourse_exercises": "exercises.", "tlcourse_cli": ""}
#: Packages that are one piece as a whole: their modules import each other freely.
WHOLE = {"tlcourse_assets": "assets"}

LAYERS = {
    "settings": 0,
    "assets": 1,
    "runtime": 2, "data": 2, "models": 2, "features": 2, "plots": 2, "measure": 2,
    "claims": 2, "interactive": 2, "recipe": 2,
    "scratch": 3, "training": 3, "adapt": 3, "text": 3,
    "exercises.checks": 4, "exercises.quiz": 4, "exercises.probes": 5,
    "doctor": 7, "capstone": 8, "cli": 9, "__main__": 10,
}
LESSON_CHECKS = 6  # every other module of tlcourse_exercises: one lesson's checks


def _layer(piece: str) -> int | None:
    if piece in LAYERS:
        return LAYERS[piece]
    return LESSON_CHECKS if piece.startswith("exercises.") else None
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(p for root in ROOTS for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _top(path: Path) -> str:
    """The piece a module belongs to: ``data`` for ``tlcourse/data/images.py``, ``exercises.quiz``."""
    root = next(r for r in ROOTS if r in path.parents)
    if root.name in WHOLE:
        return WHOLE[root.name]
    rel = path.relative_to(root)
    return PACKAGES[root.name] + (rel.parts[0].removesuffix(".py") if len(rel.parts) == 1 else rel.parts[0])


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``(module, imported names, line)`` for every ``tlcourse`` import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] in PACKAGES]
    return found


def _target(module: str, name: str) -> str | None:
    """The top-level piece an import reaches (``from tlcourse import data`` reaches data)."""
    parts = module.split(".")
    if parts[0] in WHOLE:
        return WHOLE[parts[0]]
    prefix = PACKAGES[parts[0]]
    if len(parts) > 1:
        return prefix + parts[1]
    return prefix + name if _layer(prefix + name) is not None else None


def test_every_module_has_a_layer():
    assert all(_layer(_top(p)) is not None for p in _modules() if not _top(p).endswith("__init__"))


def _import_violations(path: Path, me: str) -> list[str]:
    """What the module ``path`` of the piece ``me`` imports against the layers: upwards, or a private name."""
    found = []
    for module, names, line in _imports(path):
        for name in names or [""]:
            target = _target(module, name)
            if target is None or target == me:
                continue
            if _layer(target) >= _layer(me):
                found.append(f"{path.name}:{line} imports {target} (layer {_layer(target)}) from layer {_layer(me)}")
            if name.startswith("_"):
                found.append(f"{path.name}:{line} imports the private name {name} of {module}")
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE.parent).as_posix())
def test_imports_point_down_and_never_at_private_names(path):
    me = _top(path)
    if me.endswith("__init__"):
        return  # the package's own front door re-exports set-up from runtime
    assert not _import_violations(path, me)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE.parent).as_posix())
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
            readers.append(path.relative_to(PACKAGE.parent).as_posix())
    assert readers == ["tlcourse/settings.py"]


# No private API of anyone else, checked on the syntax tree of every file the course ships or runs.
#
# A name is private when it has a leading underscore and no trailing one: ``_x`` and ``__x`` are, dunders
# (``__init__``) and sunders (``_repr_mimebundle_``, IPython's documented rich-display protocol) are not.
# A file may use a private name only where it is the file's own: defined in a class body of the file (a
# method, a class attribute) or assigned as ``self._x``/``cls._x`` in one, and not inherited from a base
# outside the file (overriding a base's private method depends on it as much as calling it does; a base
# the file cannot name, a class factory's parameter, counts as inherited). Whatever the object, then,
# ``x._name`` and ``getattr``/``setattr``/``hasattr``/``delattr(x, "_name")`` are refused for a name
# that is not the file's own, even on ``self`` (a private method of a Keras base class is still Keras's).
# Imports: nothing from ``keras.src`` or ``tensorflow.python`` (nor ``keras.src.x`` written out), no
# private module of another package (``pandas._libs``), no private name (``from m import _x``).
PRIVATE_ROOTS = ("keras.src", "tensorflow.python")
OWN_PACKAGES = (*PACKAGES, "tools", "benchmarks")
ACCESSORS = {"getattr", "setattr", "hasattr", "delattr"}
SHIPPED = sorted(
    p for p in [*_modules(), *(PACKAGE.parent / "benchmarks").glob("*.py"),
                *(PACKAGE.parent / "tools").glob("*.py"), *(PACKAGE.parent / "notebooks" / "src").glob("*.py")]
    if "__pycache__" not in p.parts)
# (file relative to the repository, what the check reports): why nothing public does it. Aim for none.
ALLOWED: dict[tuple[str, str], str] = {}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("_")


def _aliases(tree: ast.Module) -> dict[str, str]:
    """The dotted name each imported name stands for (``tf`` -> ``tensorflow``, ``adapt`` -> ``tlcourse.adapt``)."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update({a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                          for a in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    return found


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``tf.python.ops`` -> ``"tensorflow.python.ops"``; None unless a chain of attributes on an imported name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _resolve(dotted: str) -> object:
    """The object a dotted name names, importing what it must."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def _own_names(tree: ast.Module, aliases: dict[str, str]) -> tuple[set[str], list[tuple[int, str]]]:
    """The private names the file's classes define, and the definitions that override a foreign base's."""
    classes = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}

    def foreign_bases(cls: ast.ClassDef) -> list[ast.expr]:
        out = []
        for base in cls.bases:
            local = isinstance(base, ast.Name) and base.id in classes and classes[base.id] is not cls
            out += foreign_bases(classes[base.id]) if local else [base]
        return out

    own, overrides = set(), []
    for cls in classes.values():
        defined = {}
        for item in cls.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.setdefault(item.name, item.lineno)
            targets = (item.targets if isinstance(item, ast.Assign)
                       else [item.target] if isinstance(item, (ast.AnnAssign, ast.AugAssign)) else [])
            defined.update({t.id: item.lineno for t in targets if isinstance(t, ast.Name)})
        for node in ast.walk(cls):
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
            defined.update({t.attr: node.lineno for t in targets if isinstance(t, ast.Attribute)
                            and isinstance(t.value, ast.Name) and t.value.id in ("self", "cls")})
        for name, line in defined.items():
            if not _is_private(name):
                continue
            for base in foreign_bases(cls):
                dotted = _dotted(base, aliases)
                try:
                    inherited = dotted is None or hasattr(_resolve(dotted), name)
                except (ImportError, AttributeError):
                    inherited = True
                if inherited:
                    overrides.append((line, f"{cls.name}.{name} (defined over {ast.unparse(base)}, "
                                            "which has it or cannot be named here)"))
                    break
            else:
                own.add(name)
    return own, overrides


def private_uses(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` for every use of someone else's private API in ``source`` (the rule above).

    Examples
    --------
    >>> private_uses("opt._get_variable_index(v)")
    [(1, 'opt._get_variable_index')]
    """
    tree = ast.parse(source)
    aliases = _aliases(tree)
    own, found = _own_names(tree, aliases)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if _is_private(node.attr) and node.attr not in own:
                found.append((node.lineno, f"{ast.unparse(node.value)}.{node.attr}"))
            if _dotted(node, aliases) in PRIVATE_ROOTS:
                found.append((node.lineno, ast.unparse(node)))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ACCESSORS
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str) and _is_private(node.args[1].value)
              and node.args[1].value not in own):
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if not node.level else [])
            for module in modules:
                foreign = module.split(".")[0] not in OWN_PACKAGES
                if (f"{module}.".startswith(tuple(f"{r}." for r in PRIVATE_ROOTS))
                        or foreign and any(_is_private(part) for part in module.split("."))):
                    found.append((node.lineno, f"import of {module}"))
            if isinstance(node, ast.ImportFrom):
                found += [(node.lineno, f"from {node.module} import {a.name}")
                          for a in node.names if _is_private(a.name)]
    return sorted(found)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(PACKAGE.parent).as_posix())
def test_no_private_api_of_anyone_else(path):
    rel = path.relative_to(PACKAGE.parent).as_posix()
    uses = [(line, what) for line, what in private_uses(path.read_text(encoding="utf-8"))
            if (rel, what) not in ALLOWED]
    assert not uses, "\n".join(f"{rel}:{line} uses {what}, a private API: use a public one" for line, what in uses)


def test_the_private_api_check_can_fail():
    planted = """
import keras
from keras.src.ops import numpy
import tensorflow.python.ops
from pandas._libs import lib
from tlcourse.models import _helper

class Adam(keras.optimizers.Adam):
    def __init__(self):
        super().__init__()
        self._factors = []

    def _var_key(self, variable):
        return id(variable)

    def _mine(self):
        return self._factors

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable) + self._mine() + self._factors
        return self.__class__, self._repr_html_, getattr(self, "_iterations"), keras.src.ops

def factory(cls):
    class Sub(cls):
        def _features(self):
            return 0
    return Sub

opt._get_variable_index(v)
"""
    found = private_uses(planted)
    assert found == [
        (3, "import of keras.src.ops"),
        (4, "import of tensorflow.python.ops"),
        (5, "import of pandas._libs"),
        (6, "from tlcourse.models import _helper"),
        (13, "Adam._var_key (defined over keras.optimizers.Adam, which has it or cannot be named here)"),
        (20, "self._get_variable_index"),
        (21, "getattr(self, '_iterations')"),
        (21, "keras.src"),
        (25, "Sub._features (defined over cls, which has it or cannot be named here)"),
        (29, "opt._get_variable_index"),
    ], found
    assert not private_uses("class A:\n    def f(self):\n        self._x = 1\n        return self._x, A()._x")


def test_no_private_api_of_keras_or_tensorflow():
    """Not even in a string (``importlib.import_module("keras.src...")``), nor in the tests."""
    roots = [*ROOTS, *(PACKAGE.parent / d for d in ("tests", "notebooks/src", "benchmarks"))]
    offenders = [f"{p.name}:{i}" for root in roots for p in root.rglob("*.py") if p.name != Path(__file__).name
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if "keras.src" in line or "tensorflow.python" in line]
    assert not offenders, offenders


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE.parent).as_posix())
def test_modules_stay_small_enough_to_read_in_one_sitting(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.name} has {n} lines: split it along its seams"


def test_the_layer_check_can_fail(tmp_path):
    """A module of layer 2 that imports the capstone application (layer 8), or a private name, is refused."""
    fake = tmp_path / "models.py"
    fake.write_text((PACKAGE / "models.py").read_text(encoding="utf-8")
                    + "\nfrom tlcourse_cli.capstone import train\nfrom tlcourse.data import _private\n", encoding="utf-8")
    found = _import_violations(fake, "models")
    assert any("imports capstone (layer 8) from layer 2" in f for f in found), found
    assert any("the private name _private" in f for f in found), found
    assert not _import_violations(PACKAGE / "models.py", "models")
