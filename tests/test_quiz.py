"""The lessons' quizzes: every file sound, grading right for every kind, widgets and text as each place needs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tlcourse_exercises import quiz

ROOT = Path(__file__).resolve().parents[1]
QUIZZES = ROOT / "notebooks" / "quizzes"
LESSONS = sorted(p.stem for p in (ROOT / "notebooks" / "src").glob("0[1-7]_*.py"))
FILES = sorted(QUIZZES.glob("*.json"))

SINGLE = {"kind": "single", "text": "Which layer keeps BatchNormalization in inference mode?",
          "options": ["base(x, training=False)", "base.trainable = False"], "answer": 0,
          "explanations": ["`training` sets how layers compute.", "`trainable` sets which weights may change."]}
MULTIPLE = {"kind": "multiple", "text": "Which are primes?", "options": ["2", "4", "5", "9"], "answer": [0, 2],
            "explanations": ["2 is prime.", "4 = 2 x 2.", "5 is prime.", "9 = 3 x 3."]}
NUMERIC = {"kind": "numeric", "text": "ImageNet top-1 of MobileNetV2 0.35, in %?",
           "answer": {"value": 60.3, "tolerance": 1.0}, "explanation": "Keras's table: 60.3%.", "hint": "See 01."}


def test_every_lesson_01_to_07_has_one_quiz_file():
    assert LESSONS == [f"0{i}_" + p.split("_", 1)[1] for i, p in enumerate(LESSONS, 1)]
    assert [p.stem for p in FILES] == LESSONS


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_quiz_file_is_sound(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"title", "questions"}
    assert data["title"].startswith(path.stem[:2] + " ")
    questions = quiz.load(path).questions
    assert 4 <= len(questions) <= 6, f"{len(questions)} questions: a quiz has four to six"
    assert {q["kind"] for q in questions} == set(quiz.KINDS), "single, multiple and numeric questions, each"
    for i, q in enumerate(questions, 1):
        assert set(q) == quiz.KINDS[q["kind"]], f"question {i}: fields {sorted(q)}"
        assert q["text"].strip() and q["text"].rstrip()[-1] in "?.", f"question {i} should end as a question"
        if q["kind"] == "numeric":
            assert q["answer"]["tolerance"] >= 0 and q["explanation"] and q["hint"]
            assert quiz.grade(q, q["answer"]["value"])[0], f"question {i}: its own value is not right"
            continue
        right = [q["answer"]] if q["kind"] == "single" else q["answer"]
        assert all(0 <= r < len(q["options"]) for r in right), f"question {i}: the answer is not an option"
        assert len(q["explanations"]) == len(q["options"]), f"question {i}: one explanation per option"
        assert all(e.strip() for e in q["explanations"])
        assert quiz.grade(q, q["answer"])[0], f"question {i}: its own answer is not right"
        assert len(right) < len(q["options"]), f"question {i}: every option right is no question"


def test_right_answers_are_not_always_in_the_same_place():
    firsts = [q["answer"] == 0 for p in FILES for q in quiz.load(p).questions if q["kind"] == "single"]
    assert 0 < sum(firsts) < len(firsts) / 2


@pytest.mark.parametrize("answer,right,says", [
    (0, True, "Right: `training` sets how layers compute."),
    (1, False, "Not quite: `trainable` sets which weights may change."),
    (None, False, "No answer yet: choose an option."),
    (5, False, "5 is not an option"),
    ([0, 1], False, "Choose one option only."),
])
def test_grade_single_choice(answer, right, says):
    ok, feedback = quiz.grade(SINGLE, answer)
    assert ok is right and feedback.startswith(says)


def test_grade_multiple_choice():
    ok, feedback = quiz.grade(MULTIPLE, [2, 0])
    assert ok and feedback.splitlines() == ["Right: exactly these.", "[ok] a) 2: 2 is prime.", "[ok] c) 5: 5 is prime."]
    ok, feedback = quiz.grade(MULTIPLE, [0, 1])
    assert not ok
    assert feedback.splitlines() == ["Not quite.", "[ok] a) 2: 2 is prime.", "[x] b) 4: 4 = 2 x 2.",
                                     "... and 1 more option should be ticked."]
    assert "5 is prime" not in feedback, "a missed option is counted, not given away"
    assert quiz.grade(MULTIPLE, [0]) == (False, "Not quite.\n[ok] a) 2: 2 is prime.\n... and 1 more option should be ticked.")
    assert quiz.grade(MULTIPLE, []) == (False, "No answer yet: tick at least one option.")
    assert not quiz.grade(MULTIPLE, [0, 2, 3])[0]
    assert quiz.grade(MULTIPLE, ["a"])[1].startswith("['a'] is not an option")


@pytest.mark.parametrize("answer,right,says", [
    (60.3, True, "Right: Keras's table"), (59.5, True, "Right"), ("61.3", True, "Right"),
    (61.31, False, "Not quite: 61.31 is too high. Hint: See 01."), (12, False, "Not quite: 12 is too low."),
    ("", False, "No answer yet"), (None, False, "No answer yet"), ("sixty", False, "'sixty' is not a number"),
])
def test_grade_numeric(answer, right, says):
    ok, feedback = quiz.grade(NUMERIC, answer)
    assert ok is right and feedback.startswith(says)


@pytest.mark.parametrize("change,problem", [
    ({"answer": 2}, "not the index"), ({"answer": True}, "not True"), ({"explanations": ["only one"]}, "one non-empty"),
    ({"options": ["same", "same"]}, "two options are the same"), ({"extra": 1}, "extra ['extra']"),
    ({"kind": "essay"}, "needs a 'kind'"),
])
def test_validate_names_what_is_wrong(change, problem):
    with pytest.raises(quiz.QuizError, match=re.escape(problem)):
        quiz.validate({**SINGLE, **change})
    with pytest.raises(quiz.QuizError, match="tolerance"):
        quiz.validate({**NUMERIC, "answer": {"value": 1, "tolerance": -1}})
    with pytest.raises(quiz.QuizError, match="distinct"):
        quiz.validate({**MULTIPLE, "answer": [0, 0]})


def test_load_by_path_and_errors(tmp_path):
    path = tmp_path / "99_demo.json"
    path.write_text(json.dumps({"title": "99 Demo", "questions": [SINGLE, NUMERIC]}), encoding="utf-8")
    assert quiz.load(path).name == "99_demo" and quiz.load(str(path)).questions[1] == NUMERIC
    with pytest.raises(quiz.QuizError, match="no quiz file .*01_what_is_transfer_learning"):
        quiz.load("99_no_such_lesson")
    path.write_text(json.dumps({"title": "99 Demo", "questions": [{**SINGLE, "answer": 9}]}), encoding="utf-8")
    with pytest.raises(quiz.QuizError, match="99_demo.json, question 1"):
        quiz.load(path)


def test_text_hides_the_answers_until_asked():
    q = quiz.load(LESSONS[0])
    hidden, shown = quiz.as_text(q), quiz.as_text(q, answers=True)
    for question in q.questions:
        for why in question.get("explanations", [question.get("explanation")]):
            assert why[:40] not in hidden.replace("\n   ", " ")
            assert why[:30] in shown.replace("\n      ", " ")
    assert f'quiz.show("{LESSONS[0]}", answers=True)' in hidden and "Answer:" not in hidden


def test_show_prints_text_where_there_is_no_ipython(capsys):
    quiz.show(LESSONS[1])
    out = capsys.readouterr().out
    assert out.startswith("Quiz: 02 ") and "answers=True" in out


def test_show_gives_a_front_end_the_widget_and_everything_else_the_text(monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    quiz.show(LESSONS[2])
    (bundle, raw), = shown
    assert raw and set(bundle) == {"text/plain", "application/vnd.jupyter.widget-view+json"}
    assert bundle["text/plain"] == quiz.as_text(quiz.load(LESSONS[2]))
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]


def test_the_widgets_check_buttons_give_the_feedback_of_grade(tmp_path):
    path = tmp_path / "99_demo.json"
    path.write_text(json.dumps({"title": "99 Demo", "questions": [SINGLE, MULTIPLE, NUMERIC]}), encoding="utf-8")
    box = quiz.widget(quiz.load(path))
    title, single, multiple, numeric = box.children
    assert "99 Demo" in title.value
    kinds = [type(row.children[-3]).__name__ for row in (single, multiple, numeric)]
    assert kinds == ["RadioButtons", "HBox", "FloatText"] and single.children[-3].value is None
    assert [b.description for b in multiple.children[2].children[1:]] == ["a", "b", "c", "d"]
    assert "<b>c)</b> 5" in multiple.children[1].value, "the options, lettered, as text that wraps"
    for row, set_answer, right in [
        (single, lambda c: setattr(c, "value", 1), False),
        (multiple, lambda c: [setattr(b, "value", i in (0, 2)) for i, b in enumerate(c.children[1:])], True),
        (numeric, lambda c: setattr(c, "value", 60.0), True),
    ]:
        *text, choice, button, feedback = row.children
        assert feedback.value == "" and button.description == "Check"
        set_answer(choice)
        button.click()
        assert ("Right" in feedback.value) is right and feedback.value.startswith('<div style="color:')
    assert "<code>trainable</code>" in single.children[-1].value, "`code` in feedback is shown as code"


def test_answer_key_covers_every_quiz(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "tools" / "student.py"), "--answer-key", str(tmp_path / "key.txt")],
                   check=True)
    key = (tmp_path / "key.txt").read_text(encoding="utf-8")
    assert [m for m in re.findall(r"^Quiz: (\d\d) ", key, re.M)] == [n[:2] for n in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_quiz_cell_sits_just_before_key_points(lesson):
    nb = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    cells = nb["cells"]
    shows = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "quiz.show(" in "".join(c["source"])]
    assert shows == [len(cells) - 2], f"one quiz cell, just before Key points: {shows}"
    assert f'quiz.show("{lesson}")' in "".join(cells[-2]["source"]) and cells[-2]["cell_type"] == "code"
    n = len(quiz.load(lesson).questions)
    assert ["Four", "Five", "Six"][n - 4] + " questions" in "".join(cells[-3]["source"])
