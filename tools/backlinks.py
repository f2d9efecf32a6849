"""Back-links from the package to the lessons: "Introduced in NN_lesson." in each docstring a lesson calls.

d2l.ai's package says under each function in which section it was defined; here the
functions live in ``tlcourse/`` (the checks in ``tlcourse_exercises/``, the data sets' and weights'
registry in ``tlcourse_assets/``) and the lessons
call them, so the link says where a learner first meets each one. The lessons' code is read as Python (a percent-format
source is a Python file: its prose cells are comments), every name it reaches in
``tlcourse`` (``data.load_mnist``, ``from tlcourse.scratch import digits_cnn``,
``tlcourse.setup``) is resolved to the function or class that defines it, and that
object's docstring gets a paragraph of its own after its summary, ``Introduced in
<first lesson>.``, where a reader of ``help()`` sees it first. The build owns
those lines: it writes them, moves them when a lesson changes, and removes them from
objects no lesson calls any more. ``tools/nbbuild.py`` calls :func:`generated`, so
``nbbuild.py --check`` (and the test that runs it) fails when one is out of date.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The packages whose functions the lessons reach (``tlcourse_assets`` through ``tlcourse``'s re-exports,
#: ``data.dataset_path``); the ``tlcourse`` command, ``tlcourse_cli``, is run, not imported.
PACKAGES = ("tlcourse", "tlcourse_assets", "tlcourse_exercises")
LINE = re.compile(r"^\s*Introduced in \d\d_[a-z_]+\.\s*$")

__all__ = ["first_uses", "generated", "with_backlinks"]


def _names(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted path in tlcourse, from a lesson's ``import tlcourse...`` and ``from tlcourse... import``."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in PACKAGES:
                    bound[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
            for a in node.names:
                bound[a.asname or a.name] = f"{node.module}.{a.name}"
    return bound


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; ``None`` for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def _resolve(path: str) -> Any:
    """The object a dotted path names: modules imported as needed, then attributes."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # the module exists, one of its imports does not: say so, never drop links
                raise
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def _lesson_objects(source: Path) -> list[Any]:
    """The tlcourse functions and classes a lesson's code names, in the order they appear."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    bound, found = _names(tree), []
    for node in ast.walk(tree):
        parts = _dotted(node) if isinstance(node, (ast.Attribute, ast.Name)) else None
        if not parts or parts[0] not in bound:
            continue
        obj = _resolve(".".join([bound[parts[0]], *parts[1:]]))
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__.split(".")[0] in PACKAGES:
            found.append(obj)
    return found


def first_uses(sources: list[Path]) -> dict[tuple[str, str], str]:
    """(module, qualified name) of each function and class the lessons call -> the first lesson that does."""
    first: dict[tuple[str, str], str] = {}
    for src in sorted(sources):
        for obj in _lesson_objects(src):
            first.setdefault((obj.__module__, obj.__qualname__), src.stem)
    return first


def _docstring_nodes(tree: ast.Module) -> dict[str, ast.Constant]:
    """Qualified name -> the docstring node of every function and class of a module (nested classes too)."""
    found = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                doc = node.body[0] if node.body else None
                if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
                    found[prefix + node.name] = doc.value
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return found


def _relinked(lines: list[str], indent: str, lesson: str | None) -> list[str]:
    """A docstring's lines without its old back-link, with ``Introduced in <lesson>.`` if a lesson is given."""
    kept: list[str] = []
    for line in lines:
        if LINE.match(line):
            if kept and kept[-1].strip() == "":  # the paragraph's blank line goes with it
                kept.pop()
            continue
        kept.append(line)
    if lesson is None:
        return kept
    if kept[-1].strip() != '"""':  # closing quotes after text (a one-line docstring): give them a line
        head, close = kept[-1].rsplit('"""', 1)
        kept = [*kept[:-1], head, f'{indent}"""{close}']
    body, close = kept[:-1], kept[-1]
    at = next((i for i, line in enumerate(body) if line.strip() == ""), len(body))  # the summary's end
    return [*body[:at], "", f"{indent}Introduced in {lesson}.", *body[at:], close]


def with_backlinks(path: Path, text: str, first: dict[tuple[str, str], str]) -> str:
    """``text`` (the module at ``path``) with every docstring's back-link as ``first`` says."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    lines = text.split("\n")
    nodes = _docstring_nodes(ast.parse(text))
    for qualname, node in sorted(nodes.items(), key=lambda kv: -kv[1].lineno):  # bottom up: line numbers hold
        start, end = node.lineno - 1, node.end_lineno
        lesson = first.get((module, qualname))
        has_link = any(LINE.match(line) for line in lines[start:end])
        if lesson is None and not has_link:
            continue
        indent = re.match(r"\s*", lines[start]).group()
        lines[start:end] = _relinked(lines[start:end], indent, lesson)
    return "\n".join(lines)


def generated(sources: list[Path]) -> dict[Path, str]:
    """The package's modules with their back-links as the lessons ``sources`` say."""
    first = first_uses(sources)
    return {path: with_backlinks(path, path.read_text(encoding="utf-8"), first)
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}
