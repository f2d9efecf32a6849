"""Notebook hygiene: what the course asks of every lesson, checked on the files in git.

Also static checks of the sources: the repository names no file it does not contain, no markdown
heading hides in a code cell, and each lesson's declarations (benchmarks/claims/) record its seed claims
(benchmarks/ledger.py's SEED_CLAIMS).
The notebooks themselves run end to end under nbval (pytest collects notebooks/).
"""

import ast
import json
import posixpath
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import ledger as kit  # noqa: E402 - benchmarks/ledger.py, the authors' claims ledger

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


# --- The repository names no file it does not contain ---------------------------------------------------------

# Files scanned for references: text the course ships, and the lessons through their sources (each
# notebooks/NN_name.ipynb is built from notebooks/src/NN_name.py, which the build test keeps equal).
SCANNED_SUFFIXES = {".py", ".md", ".json", ".yml", ".yaml", ".toml", ".txt", ".cfg"}
SCANNED_NAMES = {"Makefile", ".ci/run"}
# Names that are not in git on purpose, each with why it is right to name it.
NOT_IN_GIT = {
    "outputs/": "what the package writes at run time (git-ignored)",
    "notebooks/outputs/": "what the lessons write as they run, the claims ledgers among it (git-ignored)",
    "student/": "`make student` writes the student edition here (git-ignored)",
    "reference/": "`make reference` writes the lessons' HTML here (git-ignored)",
    "site/_build/": "`make site` builds the course's website here (git-ignored)",
    "wheelhouse/": "`make wheelhouse` downloads the course's wheels here (git-ignored)",
    "data/cache/": "downloaded data sets are cached here (git-ignored)",
    "benchmarks/RESULTS.md": "`make results` writes it from a run of the lessons; committed once generated",
}
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
MD_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DOC = re.compile(r"(?<![\w.\-/])([A-Z][A-Z0-9_]*\.(?:md|rst))\b")
LESSON_FILE = re.compile(r"(?<![\w.\-/])(\d\d_[a-z0-9_]+\.(?:ipynb|py))\b")


def _repo_files():
    """Files in git, and new ones not ignored (what the next commit holds), that are on disk."""
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"not a git checkout: {out.stderr.strip()}")
    return sorted({f for f in out.stdout.splitlines() if (ROOT / f).is_file()})


def _exists(path, files, folders):
    """Does the repository hold ``path`` (a file or folder; ``NN_name``, ``NN_`` and ``*`` are patterns)?"""
    path = path.rstrip("/")
    if any(path == entry.rstrip("/") or path.startswith(entry) for entry in NOT_IN_GIT):
        return True
    if "*" in path or re.search(r"(^|/)NN_", path):
        pattern = re.escape(path).replace(r"\*", "[^/]*")
        pattern = re.sub(r"(^|/)NN_name", r"\1\\d\\d_[^/]*", pattern)
        pattern = re.sub(r"(^|/)NN_", r"\1\\d\\d_", pattern)
        return any(re.fullmatch(pattern, f) for f in files | folders)
    return path in files or path in folders


def _base(rel):
    """The folder a file's relative references start from: a lesson's source and quiz are shown from notebooks/."""
    folder = posixpath.dirname(rel)
    return "notebooks" if folder in ("notebooks/src", "notebooks/quizzes") else folder


def _markdown_lines(rel, text):
    """The lines of ``text`` that hold markdown (with their numbers): all of a .md or .json file, a lesson's prose."""
    lines = list(enumerate(text.splitlines(), 1))
    if rel.endswith((".md", ".json")):
        return lines
    if not rel.startswith("notebooks/src/"):
        return []
    prose, markdown = [], False
    for number, line in lines:
        if line.startswith("# %%"):
            markdown = "[markdown]" in line
        elif markdown:
            prose.append((number, line))
    return prose


def missing_references(rel, text, files):
    """``(line, name)`` for each repository file that ``text`` (the file ``rel``) names and the repository lacks."""
    folders = {str(parent) for f in files for parent in PurePosixPath(f).parents} - {"."}
    tops = sorted({f.split("/")[0] for f in files if "/" in f})
    path = re.compile(r"(?<![\w.\-/~$@])((?:\.\.?/)*(?:" + "|".join(map(re.escape, tops)) + r")/[\w.\-*/]*)")
    base = _base(rel)
    names = {posixpath.basename(f) for f in files} | {posixpath.basename(n) for n in NOT_IN_GIT if not n.endswith("/")}
    found = []

    def check(number, name, relative_to):
        name = name.rstrip(".,:;")
        resolved = posixpath.normpath(posixpath.join(relative_to, name)) if relative_to else posixpath.normpath(name)
        if resolved.startswith("../") or not _exists(resolved, files, folders):
            found.append((number, name))

    for number, line in _markdown_lines(rel, text):
        for target in MD_LINK.findall(line):
            target = target.split("#", 1)[0].split("?", 1)[0]
            if target and not re.match(r"[a-z][a-z0-9+.-]*:", target):
                check(number, target, base)
    for number, line in enumerate(text.splitlines(), 1):
        line = URL.sub(" ", line)
        for name in path.findall(line):
            check(number, name, base if name.startswith(("./", "../")) else "")
        # a bare top-level doc (README.md) may be any of the repository's files of that name
        for name in DOC.findall(line):
            if name not in names:
                found.append((number, name))
        # a lesson by its file name (03_fine_tuning.ipynb); tests make up lessons (01_x.py) in temporary folders
        for name in LESSON_FILE.findall(line) if not rel.startswith("tests/") else []:
            if not any(posixpath.join(p, name) in files for p in (base, "notebooks", "notebooks/src")):
                found.append((number, name))
    return list(dict.fromkeys(found))  # a broken link is also a bare path: named once


def _scanned(files):
    return [f for f in files
            if (Path(f).suffix in SCANNED_SUFFIXES or f in SCANNED_NAMES) and not f.endswith(".ipynb")]


def test_the_repository_names_no_file_it_does_not_contain():
    files = _repo_files()
    scanned = _scanned(files)
    assert "notebooks/src/03_fine_tuning.py" in scanned and "Makefile" in scanned and "README.md" in scanned
    problems = [f"{rel}:{number}: names {name!r}, which the repository does not contain"
                for rel in scanned
                for number, name in missing_references(rel, (ROOT / rel).read_text(encoding="utf-8"), set(files))]
    assert not problems, "\n".join(problems)


def test_the_reference_check_can_fail_and_does_not_false_alarm():
    files = set(_repo_files())
    # the missing names are spelled in parts so that this file does not name them
    absent, nowhere, gone, lost = "NOT" "HERE" ".md", "../" "nowhere" ".md", "tlcourse/" "gone" ".py", "09" "_gone" ".ipynb"
    lesson = "\n".join([
        "# %% [markdown]",
        f"# See {absent}, [the glossary](GLOSSARY.md) and [a gap]({nowhere}); README.md and GLOSSARY.md are there.",
        "# Also [the map](../README.md#course-map), https://example.org/tlcourse/x.py and tlcourse/claims.py.",
        "# %%",
        f"x = 1  # {gone}",
        "values[0](x)",
        "# %% [markdown]",
        "# notebooks/outputs/claims/NN_name.json, notebooks/src/NN_name.py, tests/test_exercises_*.py, .ci/run,",
        f"# benchmarks/RESULTS.md, student/NN_name.ipynb and 03_fine_tuning.ipynb, your config.yaml; {lost}.",
    ])
    found = missing_references("notebooks/src/" "99_demo.py", lesson, files)
    assert sorted(found) == sorted([(2, absent), (2, nowhere), (5, gone), (9, lost)])
    guide = "[from here](../notebooks/GLOSSARY.md), [not from here](notebooks/GLOSSARY.md), [a section](#set-up)"
    assert missing_references("instructors/guide.md", guide, files) == [(1, "notebooks/GLOSSARY.md")]
    assert missing_references("README.md", "[gone](tools/" "gone.py)", files) == [(1, "tools/" "gone.py")]
    assert missing_references("tests/" "test_x.py", f"# {lost}, and tmp_path / 'RESULTS.md'", files) == []


def test_every_allowed_missing_name_is_ignored_by_git_or_generated():
    for name, why in NOT_IN_GIT.items():
        assert why, name
        if name.endswith("/"):
            out = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", name + "x"])
            assert out.returncode == 0, f"{name} is allowed as git-ignored, and git does not ignore it"
    assert "RESULTS.md" in (ROOT / "benchmarks" / "results.py").read_text(encoding="utf-8")


# --- Lesson sources -------------------------------------------------------------------------------------------

SOURCES = sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))


def code_cell_headings(source):
    """``(line, text)`` of each markdown heading (``# ## ...``) inside a code cell of a percent-format source."""
    found, kind = [], None
    for number, line in enumerate(source.splitlines(), 1):
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line else "output" if "[output]" in line else "code"
        elif kind == "code" and re.match(r"#\s+#{1,6}\s+\S", line):
            found.append((number, line))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_no_markdown_heading_inside_a_code_cell(path):
    found = code_cell_headings(path.read_text(encoding="utf-8"))
    assert not found, "a heading in a code cell (start a `# %% [markdown]` cell instead):\n" + "\n".join(
        f"{path.name}:{n}: {line}" for n, line in found)


def test_code_cell_heading_check_can_fail():
    source = "# %% [markdown]\n# ## 1. Prose\n# %%\nx = 1\n# ## 2. Lost\n# %% [output]\n# ## printed\n"
    assert code_cell_headings(source) == [(5, "# ## 2. Lost")]


def _record_calls(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and "record" in (getattr(node.func, "attr", None), getattr(node.func, "id", None)):
            yield node


def recorded_claims(source):
    """Every string constant inside a ``record(...)`` call of ``source`` (the claim texts it records)."""
    return {n.value for call in _record_calls(source) for n in ast.walk(call)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def declarations(lesson):
    return (ROOT / "benchmarks" / "claims" / f"{lesson}.py").read_text(encoding="utf-8")


def test_every_seed_claim_belongs_to_a_lesson_that_exists():
    assert set(kit.SEED_CLAIMS.values()) <= {p.stem for p in SOURCES}


@pytest.mark.parametrize("lesson", sorted(set(kit.SEED_CLAIMS.values())))
def test_each_lesson_records_its_seed_claims(lesson):
    recorded = recorded_claims(declarations(lesson))
    missing = [claim for claim, owner in kit.SEED_CLAIMS.items() if owner == lesson and claim not in recorded]
    assert not missing, f"benchmarks/claims/{lesson}.py does not record (with SEED_CLAIMS' exact text): {missing}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_a_lesson_records_nothing_itself_and_defines_what_its_declarations_read(path):
    source = path.read_text(encoding="utf-8")
    assert not list(_record_calls(source)), f"{path.name}: claims are declared in benchmarks/claims/, not recorded here"
    assert "ledger" not in source, f"{path.name}: no lesson imports the authors' kit"
    if not (ROOT / "benchmarks" / "claims" / path.name).exists():
        return
    defined = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
    read = kit.declared_names(path.stem)
    assert not read - defined, f"benchmarks/claims/{path.name} reads {sorted(read - defined)}, which {path.name} never defines"
    # The declarations run after the last cell: a name bound again later (a loop variable reused) would hand them
    # the later value instead of the measured one.
    bound = [n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    again = sorted({name for name in read if bound.count(name) > 1})
    assert not again, f"{path.name} binds {again} more than once: give what benchmarks/claims/{path.name} reads its own name"


def test_declared_names_are_what_a_declaration_file_reads(tmp_path, monkeypatch):
    (tmp_path / "09_x.py").write_text('here = f"{SIZE} px"\nrecord("c", figure=here, comparison=far[0], note=str(n))\n')
    monkeypatch.setattr(kit, "DECLARATIONS", tmp_path)
    assert kit.declared_names("09_x") == {"SIZE", "far", "n"}


def test_recorded_claims_reads_record_calls_only():
    source = ('ledger.record("a claim", section="1", figure="f", value=1.0, verdict="shown")\n'
              'ledger.record(\n    "two lines "\n    "joined", section="2", figure="g", value=None, verdict="shown (cited)")\n'
              'record("a declared claim", section="3", figure="h", comparison=far)\n'
              'print("not a record call")\n')
    assert {"a claim", "two lines joined", "a declared claim"} <= recorded_claims(source)
    assert "not a record call" not in recorded_claims(source)


def hand_typed_verdicts(source):
    """``(line, verdict)`` of each ``.record(...)`` call whose verdict is not computed by ``claims.compare``.

    A measured claim passes ``comparison=`` (the verdict follows from the numbers by one rule); only a claim
    cited from a published source may pass ``verdict="shown (cited)"``.
    """
    found = []
    for node in _record_calls(source):
        given = {k.arg: k.value for k in node.keywords}
        if "comparison" in given:
            continue
        verdict = given.get("verdict")
        said = verdict.value if isinstance(verdict, ast.Constant) else ast.unparse(verdict) if verdict else None
        if said != "shown (cited)":
            found.append((node.lineno, said))
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks" / "claims").glob("*.py")), ids=lambda p: p.stem)
def test_a_declaration_never_types_a_measured_verdict_by_hand(path):
    typed = hand_typed_verdicts(path.read_text(encoding="utf-8"))
    assert not typed, f"{path.name}: record(...) without comparison= at lines {typed}: use claims.compare"


def test_the_hand_typed_verdict_check_can_fail():
    source = ('ledger.record("a", section="1", figure="f", comparison=c)\n'
              'ledger.record("b", section="1", figure="f", value=None, verdict="shown (cited)")\n'
              'ledger.record("c", section="1", figure="f", value=0.1, verdict="shown" if x > 0 else "mixed")\n'
              'record("d", section="1", figure="f", value=0.1, verdict="not shown")\n')
    assert hand_typed_verdicts(source) == [(3, "'shown' if x > 0 else 'mixed'"), (4, "not shown")]
