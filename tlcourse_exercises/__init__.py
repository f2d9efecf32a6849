"""The course's exercise checks and quizzes: what the lessons call to check a learner's answer.

Kept apart from the library (``tlcourse``), as Kaggle Learn keeps its checks in ``learntools``: a learner
reads ``tlcourse`` to see how transfer learning is done, and needs from here only what each check prints.
One module of checks per lesson (for example ``tlcourse_exercises.setup_check``): each check computes a
reference (the course's own function, a refitted classifier, what unfreeze_top sets) and compares the
answer with it. :mod:`~tlcourse_exercises.probes` holds the steps several checks share,
:class:`~tlcourse_exercises.checks.Checker` collects a check's points, and :mod:`~tlcourse_exercises.quiz`
draws each lesson's closing quiz.
"""

__all__: list[str] = []
