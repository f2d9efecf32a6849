"""What the exercise checks observe of a learner's answer, and the points several checks share.

A check that only reads attributes (``trainable``, the optimizer's rate) passes answers that look right
and do not work: these helpers run the answer instead (what the base receives, what one training step
moves, whether a function is the course's own) and put back whatever they touch.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from tlcourse.features import one_blas_thread
from tlcourse.models import all_layers

__all__ = ["Call", "contains", "course_code_in", "expect_base_call", "expect_frozen_base_head", "expect_outputs",
           "model_around", "own_output", "probe_images", "refitted", "training_step_moves", "watch_calls"]


@dataclass
class Call:
    """One call of the watched layer: its first input (as NumPy) and the ``training`` flag it ran with."""

    inputs: np.ndarray
    training: Any


def _snapshot(variables: Iterable[Any]) -> list[tuple[Any, np.ndarray]]:
    return [(v, np.array(v.numpy(), copy=True)) for v in variables]


def _restore(saved: list[tuple[Any, np.ndarray]]) -> None:
    for v, value in saved:
        v.assign(value)


def watch_calls(model: Any, layer: Any, x: Any, *, training: bool | None = None) -> tuple[list[Call], Any]:
    """Run ``model`` on ``x`` and record every call of ``layer`` inside it; returns ``(calls, output)``.

    With ``training=None`` the model is called as ``model(x)``: then each nested call keeps the flag it
    was built with, so ``base(x, training=False)`` shows ``False`` and a bare ``base(x)`` shows ``None``.
    (Once the outer call passes ``training=True``, as ``fit`` does, Keras 3 hands that flag to every layer
    that takes one, whatever the graph says; the frozen BatchNormalization layers then stay in inference
    mode because they are frozen.) The model's variables, random-layer seeds included, are put back.

    Keras offers no hook on a layer's call, so the layer's ``call`` is wrapped for the one forward pass.

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> inp = keras.Input((2,))
    >>> model = keras.Model(inp, base(keras.layers.Rescaling(0.5)(inp), training=False))
    >>> calls, _ = watch_calls(model, base, np.ones((1, 2), "float32"))
    >>> calls[0].inputs.tolist(), calls[0].training
    ([[0.5, 0.5]], False)
    """
    seen: list[Call] = []
    had_own = "call" in vars(layer)
    original = layer.call

    def spy(*args: Any, **kwargs: Any) -> Any:
        first = args[0] if args else next(iter(kwargs.values()))
        seen.append(Call(np.asarray(keras.ops.convert_to_numpy(first)), kwargs.get("training")))
        return original(*args, **kwargs)

    saved = _snapshot(model.variables)
    layer.call = spy
    try:
        output = model(x) if training is None else model(x, training=training)
    finally:
        if had_own:
            layer.call = original
        else:
            del layer.call
        _restore(saved)
    return seen, np.asarray(keras.ops.convert_to_numpy(output))


def training_step_moves(model: Any, x: np.ndarray) -> set[int]:
    """Run one step of the compiled ``model``'s own training step on ``x``; the ids of the variables it moved.

    This is the evidence 03_fine_tuning measures for "forgetting to recompile": Keras builds the training
    step (and the optimizer's slots) from the trainable weights of the moment it first trains, so a model
    that trained before its base was unfrozen keeps updating the head only, or fails on weights its
    optimizer does not know (``ValueError: Unknown variable``; that error is left to the caller). Labels
    are made up (class ``i % n``, sparse first, then one-hot). Every weight, the optimizer's state and the
    metrics are put back afterwards, so the learner's next ``fit`` starts where it would have.

    Examples
    --------
    >>> import keras
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    >>> m.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    >>> before = m.get_weights()[0].copy()
    >>> len(training_step_moves(m, np.ones((2, 3), "float32")))
    2
    >>> bool(np.array_equal(before, m.get_weights()[0]))
    True
    """
    optimizer = model.optimizer
    if not optimizer.built:
        # What fit would do first (Trainer._symbolic_build); built here so its initial state can be put back.
        optimizer.build(model.trainable_variables)
    n = int(model.output_shape[-1])
    sparse = np.arange(len(x)) % n
    saved = _snapshot(model.variables) + _snapshot(optimizer.variables)
    try:
        try:
            model.train_on_batch(x, sparse)
        except ValueError as err:
            if "Unknown variable" in str(err):
                raise
            model.train_on_batch(x, np.eye(n, dtype="float32")[sparse])  # a loss that wants one-hot labels
        return {id(v) for v, old in saved[: len(model.variables)] if not np.array_equal(v.numpy(), old)}
    finally:
        _restore(saved)
        model.reset_metrics()


def _referenced(fn: Any, home: str | None = None, depth: int = 3) -> list[Any]:
    """What a learner's function names in its code: globals, closures, attributes of tlcourse modules it reads.

    The learner's own helpers (functions of the same module, the notebook) are followed a few levels
    deep; library code is not.
    """
    if isinstance(fn, functools.partial):
        return [fn.func, *_referenced(fn.func, home, depth)]
    if not isinstance(fn, types.FunctionType) or depth < 0:
        return []
    home = home or fn.__module__
    names: set[str] = set()
    stack = [fn.__code__]
    while stack:  # nested functions and lambdas are constants of the outer code
        code = stack.pop()
        names.update(code.co_names)
        stack.extend(k for k in code.co_consts if isinstance(k, types.CodeType))
    found = [fn.__globals__[n] for n in names if n in fn.__globals__]
    found += [cell.cell_contents for cell in fn.__closure__ or ()]
    # attribute reads such as adapt.coral_loss or tlcourse.adapt.coral_loss: follow the course's modules
    modules = [obj for obj in found if isinstance(obj, types.ModuleType)]
    done: set[str] = set()
    while modules:
        module = modules.pop()
        if not module.__name__.startswith("tlcourse") or module.__name__ in done:
            continue
        done.add(module.__name__)
        for n in names:
            obj = getattr(module, n, None)
            if obj is not None:
                found.append(obj)
                if isinstance(obj, types.ModuleType):
                    modules.append(obj)
    for obj in list(found):
        if isinstance(obj, types.FunctionType) and obj is not fn and obj.__module__ == home:
            found += _referenced(obj, home, depth - 1)
    return found


def course_code_in(answer: Any, targets: dict[str, Any]) -> str | None:
    """The name of the course function (or class) in ``targets`` that ``answer`` is, or calls; else ``None``.

    An exercise that asks the learner to write something the course already has (``adapt.coral_loss``)
    would otherwise pass when that very function is handed back, checked against itself. ``answer`` is
    caught when it is the target, an instance of a target class, a ``functools.partial`` of it, or a
    function whose code (or a helper of the learner's it calls) names it.

    Examples
    --------
    >>> from tlcourse.adapt import coral_loss
    >>> course_code_in(coral_loss, {"adapt.coral_loss": coral_loss})
    'adapt.coral_loss'
    >>> course_code_in(lambda s, t: float(coral_loss(s, t)), {"adapt.coral_loss": coral_loss})
    'adapt.coral_loss'
    >>> course_code_in(lambda s, t: 0.0, {"adapt.coral_loss": coral_loss}) is None
    True
    """
    reached = [answer, *_referenced(answer)]
    for name, target in targets.items():
        for obj in reached:
            if obj is target or (isinstance(target, type) and isinstance(obj, target)):
                return name
    return None


def own_output(c: Any, fn: Any, inputs: tuple, *, name: str, args: str, course: dict[str, Any], own: str,
               shape: tuple[int, ...], how: str, hint: str = "", write: str = "") -> np.ndarray | None:
    """What the learner's own function ``fn`` returns on ``inputs``, as an array of ``shape``; else ``None``, said why.

    Refused on the checker ``c``, each with what to do: no answer, something that cannot be called as
    ``name(args)`` (``Checker.function_given``), the course's own code in ``course`` (see :func:`course_code_in`),
    which the check would compare with itself (``own`` names it, ``write`` says how to write it instead), and an
    output ``Checker.output`` refuses (with ``how`` and ``hint``). NumPy inputs are passed as copies.

    Examples
    --------
    >>> from tlcourse.adapt import coral_loss
    >>> from tlcourse_exercises.checks import Checker
    >>> c = Checker("Exercise 1")
    >>> own_output(c, coral_loss, (np.ones((3, 2)), np.ones((3, 2))), name="my_coral", args="source, target",
    ...            course={"adapt.coral_loss": coral_loss}, own="CORAL loss", shape=(), how="return one number.")
    >>> print(c.result())
    Exercise 1: NOT YET
      [x] my_coral is (or calls) adapt.coral_loss, the course's own CORAL loss: the exercise is to write it yourself.
    """
    if not c.function_given(fn, name=name, args=args):
        return None
    if used := course_code_in(fn, course):
        c.expect(False, f"{name} is (or calls) {used}, the course's own {own}: the exercise is to write it yourself{write}.")
        return None
    copies = [x.copy() if isinstance(x, np.ndarray) else x for x in inputs]
    return c.output(lambda: fn(*copies), name, shape=shape, how=how, hint=hint)


def contains(model: Any, layer: Any) -> bool:
    """Whether ``layer`` itself (not a copy) is one of ``model``'s layers, at any depth.

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> contains(keras.Sequential([base, keras.layers.Dense(1)]), base), contains(keras.models.clone_model(base), base)
    (True, False)
    """
    return any(found is layer for found in all_layers(model))


def probe_images(model: Any, base: Any, n: int = 2, seed: int = 0) -> np.ndarray:
    """``n`` random images in [0, 255] of the shape ``model`` takes (unknown sizes from ``base``, else 32).

    Examples
    --------
    >>> import keras
    >>> m = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Rescaling(1.0)])
    >>> probe_images(m, keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(1.0)])).shape
    (2, 8, 8, 3)
    """
    base_shape = tuple(getattr(base, "input_shape", None) or ())[1:]
    shape = [d if d is not None else (base_shape[i] if i < len(base_shape) and base_shape[i] else 32)
             for i, d in enumerate(tuple(model.input_shape)[1:])]
    return np.random.default_rng(seed).uniform(0, 255, size=(n, *shape)).astype("float32")


def expect_base_call(c: Any, model: Any, base: Any, *, preprocess: Any = None) -> np.ndarray | None:
    """Add two points to the checker ``c``: ``base`` gets preprocessed pixels, and is called with ``training=False``.

    Runs ``model`` on two random images in [0, 255] (see :func:`watch_calls`) and compares what the base
    receives with ``preprocess`` of them (default: MobileNetV2's, ``x / 127.5 - 1``), naming the usual
    mistakes: no preprocessing, ``x / 255``, preprocessing twice. Returns the model's output on the images
    in inference mode, or ``None`` when the model did not run.

    Examples
    --------
    >>> import keras
    >>> from tlcourse_exercises.checks import Checker
    >>> base = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(2, 3)])
    >>> inp = keras.Input((4, 4, 3))
    >>> raw = keras.Model(inp, base(inp))
    >>> c = Checker("Exercise"); _ = expect_base_call(c, raw, base)
    >>> print(c.result())
    Exercise: NOT YET
      [x] the base receives the raw pixels, in [0, 255], ...
      [x] the base is called without training=False: ...
    """
    if preprocess is None:
        from tlcourse.models import preprocess_input

        preprocess = preprocess_input("mobilenet_v2")
    how = "keras.layers.Rescaling(1 / 127.5, offset=-1) between the input and the base"
    ran, x = c.attempt(lambda: probe_images(model, base), failed="your model has no input shape yet:",
                       hint="Start it with keras.Input(...), the size of the images, as the functional API does.")
    if not ran:
        return None
    ran, watched = c.attempt(lambda: watch_calls(model, base, x, training=False),
                             failed="running your model on two images raised")
    if not ran:
        return None
    calls, output = watched
    if not calls:
        c.expect(False, "the base is in the model but never runs on the images: connect it between the input and "
                        "the head.")
        return output
    got, expected = calls[0].inputs, np.asarray(preprocess(x.copy()))
    lo, hi = float(got.min()), float(got.max())
    if got.shape == expected.shape and np.allclose(got, expected, atol=1e-3):
        c.expect(True, "", ok=f"the base gets pixels preprocessed as it was trained, in [{lo:.2f}, {hi:.2f}]")
    elif got.shape == x.shape and np.allclose(got, x, atol=1e-3):
        c.expect(False, f"the base receives the raw pixels, in [0, 255], but MobileNetV2 was trained on pixels in "
                        f"[-1, 1]: put {how}.")
    elif lo >= 0 and hi <= 1 + 1e-3:
        c.expect(False, f"the base receives pixels in [0, 1] (x / 255?), but MobileNetV2 was trained on pixels in "
                        f"[-1, 1]: use {how} (scale 1/127.5, offset -1).")
    else:
        c.expect(False, f"the base receives values in [{lo:.3g}, {hi:.3g}], not x / 127.5 - 1, the [-1, 1] "
                        f"MobileNetV2 was trained on: preprocess once, with {how}.")
    ran, watched = c.attempt(lambda: watch_calls(model, base, x), failed="running your model on two images raised")
    if ran:
        flags = [call.training for call in watched[0]]
        c.expect(flags and all(flag is False for flag in flags),
                 "the base is called without training=False: call it as base(x, training=False) inside a "
                 "functional model (keras.Sequential cannot pass the flag), as the exercise asks.",
                 ok="the base is called with training=False")
    return output


def model_around(c: Any, model: Any, base: Any, *, name: str, how: str, missing: str) -> bool:
    """Whether ``model`` is a ``keras.Model`` with ``base`` itself inside; if not, record why on the checker ``c``.

    ``how`` says how to build ``name`` (see ``Checker.model_given``), ``missing`` what to do when ``base`` is not in it.
    """
    return c.model_given(model, name=name, how=how) and c.expect(contains(model, base), missing)


def expect_outputs(c: Any, model: Any, n: int, *, name: str, fix: str) -> bool:
    """Whether ``model`` has one output of ``n`` numbers per example; if not, record why on ``c``, then ``fix``.

    Examples
    --------
    >>> import keras
    >>> from tlcourse_exercises.checks import Checker
    >>> c = Checker("Exercise")
    >>> expect_outputs(c, keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]), 5, name="my_model",
    ...                fix="one output per class.")
    False
    >>> print(c.result())
    Exercise: NOT YET
      [x] the model has output shape (None, 3), expected (None, 5): one output per class.
    """
    ran, shapes = c.attempt(lambda: [tuple(output.shape) for output in model.outputs], failed=f"{name} has no output "
                            "shape yet:", hint="Start it with keras.Input(...), the shape of its inputs (or train it: fit "
                            "builds it).")
    if not ran:
        return False
    what = f"output shape {shapes[0]}" if len(shapes) == 1 else f"{len(shapes)} outputs, {shapes}"
    return c.expect(len(shapes) == 1 and shapes[0][1:] == (n,), f"the model has {what}, expected (None, {n}): {fix}",
                    ok=f"{n} outputs")


def expect_frozen_base_head(c: Any, model: Any, base: Any, *, name: str, why: str = "",
                            preprocess: Any = None) -> np.ndarray | None:
    """Add to ``c`` the points of a new head on the frozen ``base`` (``name`` in the lesson), as 02 and 03 build it.

    The base is frozen (``why`` says why), only a small head trains, global pooling follows the base, and the
    base gets preprocessed pixels with ``training=False`` (:func:`expect_base_call`, whose output it returns).
    """
    head = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    pooling = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
    c.expect(not base.trainable_weights, f"{name} still has trainable weights: set {name}.trainable = False before "
                                         f"compile{why}.", ok=f"{name} is frozen")
    c.expect(0 < head < 100_000, f"the model has {head:,} trainable parameters: only the new head (pooling + Dense) "
                                 "should train.", ok=f"only the head trains ({head:,} parameters)")
    c.expect(any(isinstance(layer, pooling) for layer in all_layers(model)), "the model has no pooling after the base "
             "(no global pooling layer): add keras.layers.GlobalAveragePooling2D() after it (a Flatten gives the head "
             "thousands of position-bound inputs).", ok="global pooling")
    return expect_base_call(c, model, base, preprocess=preprocess)


def refitted(clf: Any, features: np.ndarray, labels: np.ndarray, default: Any) -> Any:
    """The reference of a classifier exercise: a fresh ``clf`` (same kind, same settings) fitted on the data the
    exercise names, ``features`` and ``labels``; ``default`` fitted on them when ``clf`` cannot be so refitted.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> x, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> refitted(LogisticRegression(C=5.0).fit(x[::-1], y), x, y, LogisticRegression()).C
    5.0
    >>> type(refitted("a string", x, y, LogisticRegression())).__name__
    'LogisticRegression'
    """
    from sklearn.base import clone

    with one_blas_thread():
        try:
            return clone(clf).fit(features, labels)
        except Exception:  # noqa: BLE001 - not a scikit-learn estimator: the classifier the exercise names
            return clone(default).fit(features, labels)
