"""Each lesson's closing quiz: questions kept as data in ``notebooks/quizzes/NN_name.json``, with feedback.

A file holds ``{"title": ..., "questions": [...]}``; a question is one of :data:`KINDS`::

    {"kind": "single", "text": "...", "options": ["...", "..."], "answer": 1,
     "explanations": ["why the first option is wrong", "why the second is right"]}
    {"kind": "multiple", ..., "answer": [0, 2], "explanations": [...]}
    {"kind": "numeric", "text": "...", "answer": {"value": 60.3, "tolerance": 1.0},
     "explanation": "why that is the number", "hint": "where the lesson says it"}

Every option's explanation is shown when it is chosen. :func:`show` draws widgets with a *Check*
button per question where the front end can, and prints the questions elsewhere (nbval, a terminal).
"""

from __future__ import annotations

import html
import json
import math
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ASKS", "KINDS", "Quiz", "QuizError", "as_text", "grade", "letter", "load", "quiz_dir", "show",
           "validate", "widget"]

#: The fields each kind of question has: exactly these, no more, no fewer.
KINDS: dict[str, frozenset[str]] = {
    "single": frozenset({"kind", "text", "options", "answer", "explanations"}),
    "multiple": frozenset({"kind", "text", "options", "answer", "explanations"}),
    "numeric": frozenset({"kind", "text", "answer", "explanation", "hint"}),
}
#: What each kind of question asks for, as the quiz says it beside the question.
ASKS = {"single": "one answer", "multiple": "one or more answers", "numeric": "a number"}
_WIDTH = 100


class QuizError(ValueError):
    """A quiz file that cannot be used: which file, which question, what to change."""


@dataclass(frozen=True)
class Quiz:
    """One lesson's questions: ``name`` is the file's stem (``01_what_is_transfer_learning``)."""

    name: str
    title: str
    questions: list[dict[str, Any]]


def quiz_dir() -> Path:
    """The folder of the quiz files: ``notebooks/quizzes`` of this checkout of the course.

    Looked for beside the package (an editable install), then from the working directory.

    Examples
    --------
    >>> quiz_dir().name
    'quizzes'
    """
    here = Path(__file__).resolve().parents[1]
    candidates = [here / "notebooks" / "quizzes", Path.cwd() / "quizzes", Path.cwd() / "notebooks" / "quizzes",
                  Path.cwd().parent / "notebooks" / "quizzes"]
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise QuizError(f"no quiz folder found (looked in {', '.join(str(c) for c in candidates)}): the quizzes live in "
                    "notebooks/quizzes/ of the course repository; install it with `pip install -e .` from a clone, "
                    "or pass the path of a quiz file")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def validate(question: dict[str, Any], where: str = "question") -> None:
    """Raise :class:`QuizError` unless ``question`` has exactly its kind's fields, sound answers and explanations.

    Examples
    --------
    >>> validate({"kind": "numeric", "text": "2 + 2?", "answer": {"value": 4, "tolerance": 0},
    ...           "explanation": "Arithmetic.", "hint": "Count."})
    >>> validate({"kind": "single", "text": "?", "options": ["a", "b"], "answer": 2, "explanations": ["x", "y"]})
    Traceback (most recent call last):
    ...
    tlcourse_exercises.quiz.QuizError: question: answer 2 is not the index of one of its 2 options
    """
    def fail(problem: str) -> None:
        raise QuizError(f"{where}: {problem}")

    if not isinstance(question, dict) or question.get("kind") not in KINDS:
        fail(f"needs a 'kind', one of {sorted(KINDS)}")
    kind = question["kind"]
    fields = set(question)
    if fields != KINDS[kind]:
        fail(f"a {kind} question has exactly the fields {sorted(KINDS[kind])}: "
             f"missing {sorted(KINDS[kind] - fields)}, extra {sorted(fields - KINDS[kind])}")
    if not isinstance(question["text"], str) or not question["text"].strip():
        fail("'text' must be the question, a non-empty string")
    if kind == "numeric":
        answer = question["answer"]
        if not isinstance(answer, dict) or set(answer) != {"value", "tolerance"}:
            fail("a numeric answer is {'value': number, 'tolerance': number}")
        if not _is_number(answer["value"]) or not _is_number(answer["tolerance"]) or answer["tolerance"] < 0:
            fail(f"value and tolerance must be finite numbers, the tolerance not negative: {answer}")
        for name in ("explanation", "hint"):
            if not isinstance(question[name], str) or not question[name].strip():
                fail(f"'{name}' must be a non-empty string")
        return
    options, explanations, answer = question["options"], question["explanations"], question["answer"]
    if not isinstance(options, list) or len(options) < 2 or not all(isinstance(o, str) and o.strip() for o in options):
        fail("'options' must be a list of at least two non-empty strings")
    if len(set(options)) != len(options):
        fail("two options are the same")
    if not isinstance(explanations, list) or len(explanations) != len(options) or not all(
            isinstance(e, str) and e.strip() for e in explanations):
        fail(f"'explanations' must hold one non-empty explanation per option ({len(options)})")
    chosen = [answer] if kind == "single" else answer
    if kind == "single" and not _is_int(answer):
        fail(f"a single-choice answer is one option's index, not {answer!r}")
    if kind == "multiple" and (not isinstance(answer, list) or not answer or len(set(answer)) != len(answer)):
        fail(f"a multiple-choice answer is a list of distinct option indices, at least one, not {answer!r}")
    for i in chosen:
        if not _is_int(i) or not 0 <= i < len(options):
            fail(f"answer {i!r} is not the index of one of its {len(options)} options")


def load(name_or_path: str | Path) -> Quiz:
    """A lesson's quiz, by name (``"01_what_is_transfer_learning"``) or by the path of its file, checked.

    Examples
    --------
    >>> quiz = load("01_what_is_transfer_learning")
    >>> quiz.name, 4 <= len(quiz.questions) <= 6
    ('01_what_is_transfer_learning', True)
    """
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = quiz_dir() / f"{path.name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.json")) if path.parent.is_dir() else []
        raise QuizError(f"no quiz file {path}; the quizzes there: {known or 'none'}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise QuizError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or set(data) != {"title", "questions"} or not isinstance(data["questions"], list):
        raise QuizError(f"{path}: a quiz file holds exactly {{'title': ..., 'questions': [...]}}")
    for i, question in enumerate(data["questions"], 1):
        validate(question, where=f"{path.name}, question {i}")
    return Quiz(path.stem, str(data["title"]), data["questions"])


def letter(i: int) -> str:
    """The letter an option is shown with: 0 is ``"a"``."""
    return "abcdefghijklmnopqrstuvwxyz"[i]


def _indices(answer: Any) -> list[int] | None:
    """The option indices a learner chose: one index, or an iterable of them; ``None`` when unreadable."""
    if answer is None:
        return []
    items = [answer] if _is_int(answer) else list(answer) if isinstance(answer, Iterable) else None
    if items is None or not all(_is_int(i) for i in items):
        return None
    return sorted(set(items))


def grade(question: dict[str, Any], answer: Any) -> tuple[bool, str]:
    """Whether ``answer`` is right, and the feedback that says why.

    ``answer`` is an option's index (single choice), the indices ticked (multiple choice), or a number
    (numeric: right within the tolerance); ``None`` (nothing chosen yet) is never right.

    Examples
    --------
    >>> q = {"kind": "single", "text": "Which is a prime?", "options": ["4", "7"], "answer": 1,
    ...      "explanations": ["4 = 2 x 2.", "7 has no divisor but 1 and itself."]}
    >>> grade(q, 1)
    (True, 'Right: 7 has no divisor but 1 and itself.')
    >>> grade(q, 0)
    (False, 'Not quite: 4 = 2 x 2.')
    >>> n = {"kind": "numeric", "text": "Classes in ImageNet-1k?", "answer": {"value": 1000, "tolerance": 0},
    ...      "explanation": "One thousand.", "hint": "Count the outputs of the top."}
    >>> grade(n, 999)
    (False, 'Not quite: 999 is too low. Hint: Count the outputs of the top.')
    """
    kind = question["kind"]
    if kind == "numeric":
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            return False, "No answer yet: type a number."
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return False, f"{answer!r} is not a number: type digits, with a point for decimals (0.5, not 0,5)."
        target, tolerance = question["answer"]["value"], question["answer"]["tolerance"]
        if abs(value - target) <= tolerance + 1e-9 * max(1.0, abs(target)):
            return True, f"Right: {question['explanation']}"
        side = "too high" if value > target else "too low"
        return False, f"Not quite: {value:g} is {side}. Hint: {question['hint']}"
    options, explanations = question["options"], question["explanations"]
    chosen = _indices(answer)
    if chosen is None or any(not 0 <= i < len(options) for i in chosen):
        return False, f"{answer!r} is not an option: choose by index, 0 to {len(options) - 1}."
    if not chosen:
        return False, "No answer yet: " + ("choose an option." if kind == "single" else "tick at least one option.")
    if kind == "single":
        if len(chosen) > 1:
            return False, "Choose one option only."
        right = chosen[0] == question["answer"]
        return right, f"{'Right' if right else 'Not quite'}: {explanations[chosen[0]]}"
    wanted = set(question["answer"])
    right = set(chosen) == wanted
    lines = [f"[{'ok' if i in wanted else 'x'}] {letter(i)}) {options[i]}: {explanations[i]}" for i in chosen]
    missing = len(wanted - set(chosen))
    if right:
        head = "Right: exactly these." if len(wanted) > 1 else "Right: only this one."
    else:
        head = "Not quite."
        if missing:
            lines.append(f"... and {missing} more option{'s' if missing > 1 else ''} should be ticked.")
    return right, "\n".join([head] + lines)


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=indent + "   ",
                         break_long_words=False, break_on_hyphens=False)


def _number(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:,.0f}"


def as_text(quiz: Quiz, answers: bool = False) -> str:
    """The quiz as plain text: the questions, and with ``answers=True`` the answers and every explanation.

    Examples
    --------
    >>> q = Quiz("99_demo", "99 Demo", [{"kind": "numeric", "text": "2 + 2?", "answer": {"value": 4, "tolerance": 0},
    ...                                  "explanation": "Arithmetic.", "hint": "Count."}])
    >>> print(as_text(q))
    Quiz: 99 Demo (1 question)
    <BLANKLINE>
    1. 2 + 2? (a number)
    <BLANKLINE>
    Answers and explanations are hidden; to see them, run quiz.show("99_demo", answers=True).
    In JupyterLab each question has a Check button instead.
    >>> print(as_text(q, answers=True).splitlines()[-1])
       Answer: 4 (within 0). Arithmetic.
    """
    n = len(quiz.questions)
    lines = [f"Quiz: {quiz.title} ({n} question{'s' if n != 1 else ''})"]
    for number, q in enumerate(quiz.questions, 1):
        lines += ["", _wrap(f"{number}. {q['text']} ({ASKS[q['kind']]})", "")]
        if q["kind"] == "numeric":
            if answers:
                a = q["answer"]
                lines.append(_wrap(f"Answer: {_number(a['value'])} (within {_number(a['tolerance'])}). "
                                   f"{q['explanation']}", "   "))
            continue
        lines += [_wrap(f"{letter(i)}) {option}", "   ") for i, option in enumerate(q["options"])]
        if answers:
            right = [q["answer"]] if q["kind"] == "single" else q["answer"]
            lines.append(f"   Answer: {', '.join(letter(i) for i in sorted(right))}")
            lines += [_wrap(f"{letter(i)}) {'right' if i in right else 'wrong'}: {why}", "   ")
                      for i, why in enumerate(q["explanations"])]
    if not answers:
        lines += ["", f'Answers and explanations are hidden; to see them, run quiz.show("{quiz.name}", answers=True).',
                  "In JupyterLab each question has a Check button instead."]
    return "\n".join(lines)


def _html(text: str) -> str:
    """Plain text with `code` spans, as HTML."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text)).replace("\n", "<br>")


def widget(quiz: Quiz) -> Any:
    """The quiz as an ipywidgets ``VBox``: per question its text, its options, an input, *Check* and the feedback.

    The options are HTML (widget labels are cut at one line); the inputs beside them are their letters.

    Examples
    --------
    >>> box = widget(load("01_what_is_transfer_learning"))
    >>> type(box).__name__, len(box.children) == 1 + len(load("01_what_is_transfer_learning").questions)
    ('VBox', True)
    """
    import ipywidgets as w

    def block(markup: str) -> Any:
        return w.HTML(f'<div style="line-height:1.45">{markup}</div>', layout=w.Layout(width="100%"))

    rows = [w.HTML(f"<h3>Quiz: {html.escape(quiz.title)}</h3>")]
    for number, q in enumerate(quiz.questions, 1):
        parts = [block(f"<b>{number}.</b> {_html(q['text'])} <i>({ASKS[q['kind']]})</i>")]
        letters = [(letter(i), i) for i in range(len(q.get("options", [])))]
        if q["kind"] != "numeric":
            parts.append(block("<br>".join(f"<b>{letter(i)})</b> {_html(o)}" for i, o in enumerate(q["options"]))))
        if q["kind"] == "single":
            choice = w.RadioButtons(options=letters, value=None, orientation="horizontal", description="answer:")
            read = (lambda c: lambda: c.value)(choice)
        elif q["kind"] == "multiple":
            boxes = [w.Checkbox(value=False, description=letter, indent=False, layout=w.Layout(width="4em"))
                     for letter, _ in letters]
            choice = w.HBox([w.Label("answers:")] + boxes)
            read = (lambda bs: lambda: [i for i, b in enumerate(bs) if b.value])(boxes)
        else:
            choice = w.FloatText(description="answer:", layout=w.Layout(width="16em"))
            read = (lambda c: lambda: c.value)(choice)
        button = w.Button(description="Check", button_style="primary", tooltip="check this answer")
        feedback = w.HTML()

        def check(_button: Any, q: dict = q, read: Any = read, feedback: Any = feedback) -> None:
            right, message = grade(q, read())
            colour = "#1a7f37" if right else "#b35900"
            feedback.value = f'<div style="color:{colour}; line-height:1.45">{_html(message)}</div>'

        button.on_click(check)
        rows.append(w.VBox(parts + [choice, button, feedback], layout=w.Layout(margin="0 0 1em 0")))
    return w.VBox(rows)


def show(name_or_path: str | Path, answers: bool = False) -> None:
    """Display a lesson's quiz: widgets where the front end draws them, the text everywhere else.

    Introduced in 01_what_is_transfer_learning.

    With ``answers=True``, print the answers and their explanations instead.

    Examples
    --------
    >>> show("01_what_is_transfer_learning")  # doctest: +ELLIPSIS
    Quiz: 01 What is transfer learning? (... questions)
    ...
    Answers and explanations are hidden; to see them, run quiz.show("01_what_is_transfer_learning", answers=True).
    In JupyterLab each question has a Check button instead.
    """
    quiz = load(name_or_path)
    text = as_text(quiz, answers=answers)
    import IPython.display  # ipywidgets' dependency, installed with the course

    if answers or IPython.get_ipython() is None:
        print(text)  # a terminal, a script, a doctest: nothing would draw a widget
        return
    # One output, two forms: a front end with widgets draws the view; nbval, nbconvert and a
    # terminal IPython, which cannot, show the text/plain beside it (not the widget's repr).
    bundle = widget(quiz)._repr_mimebundle_()
    bundle["text/plain"] = text
    IPython.display.display(bundle, raw=True)
