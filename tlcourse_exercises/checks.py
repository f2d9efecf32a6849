"""Exercise checks: a learner runs one and reads what is right, what is wrong, and why."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

__all__ = ["CheckResult", "Checker"]


@dataclass
class CheckResult:
    """The outcome of an exercise check; truthy when every point passed.

    Examples
    --------
    >>> c = Checker("Exercise 1")
    >>> c.expect(1 + 1 == 2, "1 + 1 should be 2", ok="arithmetic works")
    True
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
    False
    >>> print(c.result())
    Exercise 2: NOT YET
      [x] the base should be frozen: set base.trainable = False
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []
        self.passed = True

    def expect(self, condition: Any, problem: str, *, ok: str | None = None) -> bool:
        """Record one point, and return whether it held: ``problem`` explains what to fix when it did not.

        The return value guards the points that need this one (``if not c.expect(...): return c.result()``).

        Examples
        --------
        >>> c = Checker("Exercise 4")
        >>> c.expect(isinstance("3", int), "give a whole number, not text.")
        False
        """
        if condition:
            if ok:
                self.lines.append(f"[ok] {ok}")
        else:
            self.passed = False
            self.lines.append(f"[x] {problem}")
        return bool(condition)

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
        return self.expect(answer is not None, f"you have not answered yet: {problem}")

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
        return self.given(answer, f"build {name}, {how}") and self.expect(
            isinstance(answer, keras.Model),
            f"{name} is a {type(answer).__name__}, not a keras.Model: build it as a keras.Model, {how}")

    def function_given(self, answer: Any, *, name: str, args: str) -> bool:
        """Whether the learner gave a function that takes ``args`` (for example ``"source, target"``); if not, say so.

        ``None`` is "not answered yet" (see :meth:`given`); anything that cannot be called, a class, or a
        function whose parameters cannot take ``args`` is refused with what to write instead. Callables whose
        parameters Python cannot read (some built-ins) are given the benefit of the doubt.

        Examples
        --------
        >>> c = Checker("Exercise 6")
        >>> c.function_given(lambda s, t: 0.0, name="my_coral", args="source, target")
        True
        >>> c.function_given(0.5, name="my_coral", args="source, target")
        False
        >>> c.function_given(lambda s: 0.0, name="my_coral", args="source, target")
        False
        >>> print(c.result())
        Exercise 6: NOT YET
          [x] my_coral is a float, not a function: write def my_coral(source, target): ... and pass my_coral itself.
          [x] my_coral cannot be called as my_coral(source, target) (too many positional arguments): write def ...
        """
        write = f"write def {name}({args}): ... and pass {name} itself."
        if not self.given(answer, write):
            return False
        if isinstance(answer, type):
            return self.expect(False, f"{name} is the class {answer.__name__}, not a function: {write}")
        if not callable(answer):
            return self.expect(False, f"{name} is a {type(answer).__name__}, not a function: {write}")
        try:
            signature = inspect.signature(answer)
        except (TypeError, ValueError):  # a built-in without a readable signature: let the call decide
            return True
        n = len([a for a in args.split(",") if a.strip()])
        try:
            signature.bind(*[None] * n)
        except TypeError as err:
            return self.expect(False, f"{name} cannot be called as {name}({args}) ({err}): {write}")
        return True

    def number(self, value: Any, name: str, *, how: str, whole: bool = False) -> float | None:
        """``value`` as a float when it is one finite real number (a NumPy scalar too); else record why not.

        Refused, each with its reason followed by ``how`` (what to give instead): a bool, text, a complex
        number, an array or a list, nan, an infinity, and, with ``whole``, a number with a fractional part.

        Examples
        --------
        >>> c = Checker("Exercise 7")
        >>> c.number(np.int64(153), "n_test", how="count the files.", whole=True)
        153.0
        >>> c.number(float("nan"), "n_test", how="count the files.") is None
        True
        >>> c.number(True, "n_test", how="count the files.") is None
        True
        >>> c.number(152.5, "n_test", how="count the files.", whole=True) is None
        True
        >>> print(c.result())
        Exercise 7: NOT YET
          [x] n_test is nan, not a number: count the files.
          [x] n_test is True, a bool, not a number: count the files.
          [x] n_test is 152.5, not a whole number: count the files.
        """
        if value is None:
            problem = "has no value (None)"
        elif isinstance(value, (bool, np.bool_)):
            problem = f"is {value!r}, a bool, not a number"
        elif isinstance(value, (str, bytes)):
            problem = f"is text ({value!r}), not a number"
        elif isinstance(value, (complex, np.complexfloating)):
            problem = f"is a complex number ({value!r}), not a real one"
        elif not isinstance(value, (int, float, np.integer, np.floating)):
            shape = f" of shape {np.shape(value)}" if isinstance(value, np.ndarray) else ""
            problem = f"is a {type(value).__name__}{shape}, not a number"
        elif math.isnan(value):
            problem = "is nan, not a number"
        elif math.isinf(value):
            problem = f"is {float(value):g}, not a finite number"
        elif whole and float(value) != math.floor(value):
            problem = f"is {float(value):g}, not a whole number"
        else:
            return float(value)
        self.expect(False, f"{name} {problem}: {how}")
        return None

    def array(self, value: Any, name: str, *, how: str) -> np.ndarray | None:
        """``value`` as a float64 NumPy array when it holds finite real numbers; else record why not.

        What a learner's function returns goes through here before any arithmetic: a generator, text,
        complex numbers, objects (nested lists of different lengths) or nan/inf values are refused, each
        with its reason followed by ``how``. Lists and tensors are converted.

        Examples
        --------
        >>> c = Checker("Exercise 8")
        >>> c.array([[1, 2], [3, 4]], "what my_fn returns", how="return an array.").tolist()
        [[1.0, 2.0], [3.0, 4.0]]
        >>> c.array((x for x in [1, 2]), "what my_fn returns", how="return np.array(...), not a generator.")
        >>> c.array(np.array([1.0, np.nan]), "what my_fn returns", how="check for a division by zero.")
        >>> print(c.result())
        Exercise 8: NOT YET
          [x] what my_fn returns is a generator, not an array of numbers: return np.array(...), not a generator.
          [x] what my_fn returns holds nan or inf (1 of 2 values): check for a division by zero.
        """
        if isinstance(value, Iterator):
            self.expect(False, f"{name} is a {type(value).__name__}, not an array of numbers: {how}")
            return None
        try:
            arr = np.asarray(value)
        except Exception as err:  # noqa: BLE001 - ragged lists and odd objects: say what NumPy could not read
            first = str(err).split(". ")[0]
            self.expect(False, f"{name} is a {type(value).__name__} NumPy cannot read as one array ({first}): {how}")
            return None
        if arr.dtype.kind in "USOcMmV":
            if arr.ndim == 0 and arr.dtype.kind in "USO":  # a single object: name it
                what = f"text ({value!r})" if arr.dtype.kind in "US" else f"a {type(value).__name__}"
                self.expect(False, f"{name} is {what}, not an array of numbers: {how}")
            else:
                what = {"U": "text", "S": "text", "c": "complex numbers", "O": "objects that are not numbers"}
                self.expect(False, f"{name} holds {what.get(arr.dtype.kind, arr.dtype.name)}, not real numbers: "
                                   f"{how}")
            return None
        arr = arr.astype("float64")
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        if bad and arr.size == 1:
            self.expect(False, f"{name} is {float(arr.reshape(-1)[0]):g}, not a finite number: {how}")
            return None
        if bad:
            self.expect(False, f"{name} holds nan or inf ({bad} of {arr.size} values): {how}")
            return None
        return arr

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

    def output(
        self, call: Callable[[], Any], name: str, *, shape: tuple[int, ...], how: str, hint: str = "",
        failed: str = "your function raised", unwritten: bool = True,
    ) -> np.ndarray | None:
        """What the learner's function ``name`` returns, ``call()``, as an array of ``shape``; else ``None``, said why.

        The steps of every check of a function: the call raises (see :meth:`attempt`, with ``hint``), returns
        ``None`` (with ``unwritten``: its body is not written yet), returns no finite real numbers (see
        :meth:`array`), or another shape; each refusal ends with ``how``, what to return. ``shape=()`` takes
        any single number.

        Examples
        --------
        >>> c = Checker("Exercise 9")
        >>> c.output(lambda: [[0.25]], "my_loss", shape=(), how="return the loss as one number.")
        array(0.25)
        >>> c.output(lambda: [1, 2], "my_pool", shape=(3,), how="return one number per sentence.")
        >>> print(c.result())
        Exercise 9: NOT YET
          [x] my_pool returns shape (2,), not (3,): return one number per sentence.
        """
        ran, raw = self.attempt(call, failed=failed, hint=hint,
                                returned_none=f"{name} returns None: write its body, and {how}" if unwritten else None)
        got = self.array(raw, f"what {name} returns", how=how) if ran else None
        if got is None or got.shape == shape:
            return got
        if shape == () and got.size == 1:
            return got.reshape(())
        self.expect(False, f"{name} returns shape {got.shape}, not {shape or 'one number'}: {how}")
        return None

    def expect_close(
        self, got: Any, reference: Any, slips: Mapping[str, Any], *, ok: str, otherwise: str, said: str = "",
        then: str = "", rtol: float = 1e-5, atol: float = 1e-8,
    ) -> bool:
        """Whether ``got`` is close to ``reference``, computed by the check; if not, name the slip that gives ``got``.

        ``slips`` maps what is wrong to the value that slip gives. The problem recorded is ``said``, then the
        first slip whose value ``got`` is close to (else ``otherwise``), then ``then`` (what to do).

        Examples
        --------
        >>> c = Checker("Exercise 10")
        >>> c.expect_close(75.0, 0.75, {"a percentage: give the fraction.": 75.0}, said="75.0 is ", otherwise="not it.",
        ...                ok="the accuracy")
        False
        >>> print(c.result())
        Exercise 10: NOT YET
          [x] 75.0 is a percentage: give the fraction.
        """
        def close(value: Any) -> bool:  # NumPy would compare (3,) with (2, 3) by broadcasting: another shape is not close
            return np.shape(value) in ((), np.shape(got)) and bool(np.allclose(got, value, rtol=rtol, atol=atol))

        return self.expect(close(reference), said + next((slip for slip, value in slips.items() if close(value)), otherwise)
                           + then, ok=ok)

    def expect_none_of(self, slips: Mapping[str, Any], *, then: str = "", ok: str | None = None) -> bool:
        """Whether none of ``slips`` (what is wrong -> whether the answer shows it) holds.

        The first that holds is recorded, followed by ``then`` (what to do, when the slips do not say it); when
        none does, ``ok`` is.

        Examples
        --------
        >>> c = Checker("Exercise 11")
        >>> c.expect_none_of({"0.7 is an accuracy": True, "'b' is not a layer": True}, then=": give the layer's name.")
        False
        >>> print(c.result())
        Exercise 11: NOT YET
          [x] 0.7 is an accuracy: give the layer's name.
        """
        problem = next((problem for problem, shown in slips.items() if shown), None)
        return self.expect(problem is None, f"{problem}{then}", ok=ok)

    def result(self, *, show: bool = False) -> CheckResult:
        """The result; with ``show`` it is printed too."""
        res = CheckResult(self.title, self.passed, list(self.lines))
        if show:
            print(res)
        return res
