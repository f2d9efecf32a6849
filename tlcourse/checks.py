"""Exercise checks: a learner runs one and reads what is right, what is wrong, and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckResult", "Checker"]


@dataclass
class CheckResult:
    """The outcome of an exercise check; truthy when every point passed.

    Examples
    --------
    >>> c = Checker("Exercise 1")
    >>> c.expect(1 + 1 == 2, "1 + 1 should be 2", ok="arithmetic works")
    >>> bool(c.result())
    True
    """

    title: str
    passed: bool
    lines: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"{self.title}: {'PASSED' if self.passed else 'NOT YET'}"
        return "\n".join([head] + [f"  {line}" for line in self.lines])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


class Checker:
    """Collects the points of one exercise check.

    Examples
    --------
    >>> c = Checker("Exercise 2")
    >>> c.expect(False, "the base should be frozen: set base.trainable = False")
    >>> print(c.result())
    Exercise 2: NOT YET
      [x] the base should be frozen: set base.trainable = False
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []
        self.passed = True

    def expect(self, condition: Any, problem: str, *, ok: str | None = None) -> None:
        """Record one point: ``problem`` explains what to fix when ``condition`` is false."""
        if condition:
            if ok:
                self.lines.append(f"[ok] {ok}")
        else:
            self.passed = False
            self.lines.append(f"[x] {problem}")

    def given(self, answer: Any, problem: str) -> bool:
        """Whether the learner gave an answer at all (not ``None``); if not, ``problem`` says what to write.

        A skipped exercise is NOT YET, never an error: the notebook's check cell runs either way.

        Examples
        --------
        >>> c = Checker("Exercise 3")
        >>> c.given(None, "write my_function(x) and pass it in.")
        False
        >>> print(c.result())
        Exercise 3: NOT YET
          [x] you have not answered yet: write my_function(x) and pass it in.
        """
        self.expect(answer is not None, f"you have not answered yet: {problem}")
        return answer is not None

    def require(self, condition: Any, problem: str) -> bool:
        """:meth:`expect` that also returns whether it held: the guard before the points that need it.

        Examples
        --------
        >>> c = Checker("Exercise 4")
        >>> c.require(isinstance("3", int), "give a whole number, not text.")
        False
        """
        self.expect(condition, problem)
        return bool(condition)

    def model_given(self, answer: Any, *, name: str, how: str) -> bool:
        """Whether the learner gave a ``keras.Model``; if not, say so, and how to build ``name``.

        Examples
        --------
        >>> c = Checker("Exercise 5")
        >>> c.model_given([1, 2], name="my_model", how="with keras.Sequential([...])")
        False
        >>> print(c.result())
        Exercise 5: NOT YET
          [x] my_model is a list, not a keras.Model: build it as a keras.Model, with keras.Sequential([...])
        """
        import keras

        return self.given(answer, f"build {name}, {how}") and self.require(
            isinstance(answer, keras.Model),
            f"{name} is a {type(answer).__name__}, not a keras.Model: build it as a keras.Model, {how}")

    def attempt(
        self, call: Callable[[], Any], *, failed: str = "your function raised", hint: str = "",
        returned_none: str | None = None,
    ) -> tuple[bool, Any]:
        """Run the learner's code, ``call()``; an exception becomes a point to fix, not a crash.

        Returns ``(True, value)``, or ``(False, None)`` after recording ``"<failed> <error type>: <message>"``,
        followed by ``hint`` (what to try next) when one is given. With ``returned_none``, a function that
        returns ``None`` (a starter whose body is not written yet) counts as not answered, with that text.

        Examples
        --------
        >>> c = Checker("Exercise 1")
        >>> c.attempt(lambda: 1 / 0)
        (False, None)
        >>> c.attempt(lambda: int("x"), failed="int(answer) raised", hint="Give a whole number.")
        (False, None)
        >>> print(c.result())
        Exercise 1: NOT YET
          [x] your function raised ZeroDivisionError: division by zero
          [x] int(answer) raised ValueError: invalid literal for int() with base 10: 'x'. Give a whole number.
        """
        try:
            value = call()
        except Exception as err:  # noqa: BLE001 - report the learner's error, do not crash the check
            problem = f"{failed} {type(err).__name__}: {err}"
            if hint:
                # The hint is a sentence of its own; error messages may or may not end with a full stop.
                problem += (" " if problem.endswith((".", "!", "?")) else ". ") + hint
            self.expect(False, problem)
            return False, None
        if value is None and returned_none is not None:
            return self.given(None, returned_none), None
        return True, value

    def result(self, *, show: bool = False) -> CheckResult:
        """The result; with ``show`` it is printed too."""
        res = CheckResult(self.title, self.passed, list(self.lines))
        if show:
            print(res)
        return res
