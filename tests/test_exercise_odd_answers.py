"""Every answer a learner can type gets feedback from the exercise checks, never a traceback.

Each public ``check_*`` of ``tlcourse_exercises`` is called with small stand-ins for its context (tiny Keras
models and arrays) and, in each of its answer parameters, every odd answer of a table: missing, not a
number, infinite, negative, huge, a bool, text, empty containers, arrays of every wrong shape, a layer that
is not a model, models with the wrong input or outputs, and, where a function (or a classifier) is asked
for, functions that return nothing useful, raise, take the wrong arguments or return a generator. Each call
must return a ``CheckResult`` that is not passed and names what to fix (``[x] ...``). A new check that this
file does not cover makes :func:`test_every_public_check_is_covered` fail.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import keras
import numpy as np
import pytest

import tlcourse_exercises
from tlcourse_exercises.checks import CheckResult

NAN, INF = float("nan"), float("inf")

# Keras warns when a model is called on inputs of another shape than it was built for (UserWarning), and, as it
# converts such a call's tensors, NumPy 2 warns about Keras's own __array__: third-party code about itself.
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


def _public_checks() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(tlcourse_exercises.__path__):
        module = importlib.import_module(f"tlcourse_exercises.{info.name}")
        found |= {f"{info.name}.{name}" for name in getattr(module, "__all__", []) if name.startswith("check_")}
    return found


# ---- the context of each check, built once


def _frozen_base(name: str) -> Any:
    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name=f"{name}_c1"),
                             keras.layers.BatchNormalization(name=f"{name}_bn"),
                             keras.layers.Conv2D(4, 3, name=f"{name}_c2")], name=name)
    base.trainable = False
    return base


class _Probes:
    """What ``check_far_target_features`` asks of the probe model, ``predict`` of two pooled outputs, in NumPy:
    a Keras ``predict`` costs about 0.1 s a call, and the check is called some 100 times here."""

    def __init__(self, *weights: np.ndarray) -> None:
        self.weights = weights

    def predict(self, x: Any, **kwargs: Any) -> list[np.ndarray]:
        return [np.tanh(np.asarray(x) @ w).astype("float32") for w in self.weights]


def _unfrozen_top(name: str) -> Any:
    """A base as phase 2 wants it (its top unfrozen), so that the odd models around it reach the later points."""
    from tlcourse.models import unfreeze_top

    base = _frozen_base(name)
    unfreeze_top(base, from_layer=f"{name}_c2")
    return base


def _judge(images: Any) -> np.ndarray:
    images = np.asarray(images)
    return np.stack([images[:, :, :8].sum((1, 2, 3)), images[:, :, 8:].sum((1, 2, 3))], axis=1)


def _build_context() -> SimpleNamespace:
    d = _context()
    d.mid_clf, d.last_clf = _far_classifier(d, 0), _far_classifier(d, 1)
    return d


def _context() -> SimpleNamespace:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # 01, exercise 1: features of five classes
    y = np.repeat(np.arange(5), 20)
    x = rng.normal(size=(100, 6)) + 2 * np.eye(6)[y]
    pool, test = np.arange(100) % 2 == 0, np.arange(100) % 2 == 1
    # 01, exercise 2: digits as vectors, conv_part the first layer of source_fe
    y_dig = np.repeat(np.arange(5), 20)
    x_dig = (rng.normal(size=(100, 8)) + 3 * np.eye(8)[y_dig]).astype("float32")
    source_fe = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="conv"),
                                  keras.layers.Dense(4, name="dense_top")], name="source_fe")
    conv_part = keras.Sequential(source_fe.layers[:1], name="conv_part")
    conv_part.trainable = False
    # 05, exercise 1: digits of a toy world (ink on the left: class 0, on the right: class 1)
    blobs = np.zeros((20, 16, 16, 1), "float32")
    blobs[:10, 6:10, 1:5] = 1.0
    blobs[10:, 6:10, 11:15] = 1.0
    inp = keras.Input((4, 4, 3))
    lambda_model = keras.Model(inp, keras.layers.Lambda(lambda t: t / 127.5 - 1.0)(inp))
    # 02, exercise 3: a probe model with two pooled outputs ('mid', 'last'), and classifiers fitted on each
    probes = _Probes(rng.normal(size=(6, 4)), rng.normal(size=(6, 8)))
    y_far = np.arange(120) % 2
    x_far = (rng.normal(size=(120, 6)) + 2 * y_far[:, None]).astype("float32")
    far_train, far_test = (x_far[:60], y_far[:60]), (x_far[60:], y_far[60:])
    # 04, exercise 3: a source model with BatchNormalization, and a target domain shifted from its source
    bn_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization(),
                                 keras.layers.Dense(2)])
    x_source, x_target = rng.normal(size=(100, 4)), rng.normal(3.0, 2.0, size=(100, 4))
    return SimpleNamespace(
        probes=probes, far_train=far_train, far_test=far_test,
        bn_model=bn_model, x_source=x_source, x_target=x_target,
        y_target=np.asarray(bn_model.predict(x_target, verbose=0)).argmax(1),
        f_train=x[pool][:30], y_train=y[pool][:30], f_test=x[test], y_test=y[test],
        x_dig=x_dig, y_dig=y_dig, train_dig=np.arange(0, 100, 5), conv_part=conv_part, source_fe=source_fe,
        fe_base=_frozen_base("fe_base"), ft_base=_frozen_base("ft_base"), ft2_base=_unfrozen_top("ft2_base"),
        blobs=blobs, blob_labels=np.array([0] * 10 + [1] * 10), lambda_model=lambda_model,
        splits={"test": {"root": "/data/ab/val", "files": ["f"] * 15},
                "notes": ["no 'test' split: the folder's 'val' split serves as the test set"]},
        y_true=np.array([0, 0, 0, 0, 1, 1, 1]), y_pred=np.array([0, 0, 0, 1, 1, 1, 0]),
        report=SimpleNamespace(profile=SimpleNamespace(name="quick", image_size=128, epochs=3)),
    )


@pytest.fixture(scope="module")
def ctx() -> SimpleNamespace:
    return _build_context()


# ---- the odd answers


def _gen(*args: Any) -> Any:
    yield 1


def _raises(*args: Any) -> Any:
    raise RuntimeError("my bug")


def _odd_models() -> dict[str, Any]:
    """Models and layers that are not the model an exercise asks for (a new set for each call)."""
    inp = keras.Input((3,))
    two_out = keras.Model(inp, [keras.layers.Dense(2)(inp), keras.layers.Dense(5)(inp)])
    img = keras.Input((5, 5, 1))
    return {
        "a layer": keras.layers.Dense(2),
        "wrong input shape": keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]),
        "image model, wrong input shape": keras.Model(img, keras.layers.Dense(2)(keras.layers.Flatten()(img))),
        "two outputs": two_out,
        "not built": keras.Sequential([keras.layers.Dense(2)]),
    }


def _around(base: Any, *, units: int = 2, outputs: int = 1, built: bool = True, lr: Any = None) -> Any:
    """A model around ``base`` that is still not the one asked for: two outputs, not built, not compiled.

    (A model cannot take images of another size than its base: Keras refuses to build it.)
    """
    if not built:
        model = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(units)])
    else:
        inp = keras.Input((8, 8, 3))
        z = keras.layers.GlobalAveragePooling2D()(base(keras.layers.Rescaling(1 / 127.5, offset=-1)(inp),
                                                       training=False))
        heads = [keras.layers.Dense(units, activation="softmax")(z) for _ in range(outputs)]
        model = keras.Model(inp, heads if outputs > 1 else heads[0])
    if lr is not None:
        model.compile(keras.optimizers.Adam(lr) if not isinstance(lr, str) else lr,
                      ["sparse_categorical_crossentropy"] * outputs if outputs > 1 else "sparse_categorical_crossentropy")
    return model


def _around_models(base_of: Callable[[SimpleNamespace], Any], units: int) -> dict[str, Callable]:
    return {
        "base inside, two outputs": lambda d: _around(base_of(d), units=units, outputs=2),
        "base inside, wrong number of classes": lambda d: _around(base_of(d), units=units + 5),
        "base inside, not built": lambda d: _around(base_of(d), units=units, built=False),
    }


def _far_classifier(d: SimpleNamespace, output: int) -> Any:
    """A classifier fitted on the pooled features of output ``output`` of the probe model (0: 'mid', 1: 'last')."""
    from sklearn.linear_model import LogisticRegression

    features = np.asarray(d.probes.predict(d.far_train[0], verbose=0)[output])
    return LogisticRegression().fit(features, d.far_train[1])


def _copy_of(model: Any) -> Any:
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _adabn_models() -> dict[str, Callable]:
    def head_changed(d):
        copy = _copy_of(d.bn_model)
        copy.layers[-1].kernel.assign(np.zeros_like(copy.layers[-1].kernel.numpy()))
        return copy

    return {"the source model itself": lambda d: d.bn_model,
            "an unchanged copy": lambda d: _copy_of(d.bn_model),
            "the head changed": head_changed,
            "another architecture": lambda d: keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])}


def _conv_part_models() -> dict[str, Callable]:
    def two_outputs(d):
        inp = keras.Input((8,))
        z = d.conv_part(inp)
        model = keras.Model(inp, [keras.layers.Dense(5)(z), keras.layers.Dense(5)(z)])
        model.compile("adam", ["mse", "mse"])
        return model

    return {"conv_part inside, two outputs": two_outputs,
            "conv_part inside, not built": lambda d: keras.Sequential([d.conv_part, keras.layers.Dense(5)])}


# name -> a factory (keras objects are made fresh for each call, so that no check sees another's state)
COMMON: dict[str, Callable[[], Any]] = {
    "None": lambda: None, "nan": lambda: NAN, "inf": lambda: INF, "-inf": lambda: -INF, "-1": lambda: -1,
    "0": lambda: 0, "10**30": lambda: 10**30, "True": lambda: True, "np.nan": lambda: np.float64("nan"),
    "complex": lambda: 1 + 2j, "text": lambda: "text", "empty text": lambda: "", "[]": lambda: [],
    "{}": lambda: {}, "(1, 2)": lambda: (1, 2), "([1],)": lambda: ([1],), "object()": lambda: object(),
    "np.array([])": lambda: np.array([]), "np.array([[nan]])": lambda: np.array([[NAN]]),
    "3-D array": lambda: np.zeros((2, 3, 4)), "a type": lambda: int, "a function": lambda: (lambda: 0),
    **{name: (lambda name=name: _odd_models()[name]) for name in _odd_models()},
}

# Functions a learner may write that are not the function asked for: arguments are (source, target),
# (sequence_output, padding_mask) or (x,), so each takes *args.
FUNCTIONS: dict[str, Callable[[], Any]] = {
    "returns nan": lambda: (lambda *a: NAN),
    "returns inf": lambda: (lambda *a: INF),
    "returns text": lambda: (lambda *a: "text"),
    "returns a list": lambda: (lambda *a: [1.0, 2.0]),
    "returns []": lambda: (lambda *a: []),
    "returns {}": lambda: (lambda *a: {}),
    "returns object()": lambda: (lambda *a: object()),
    "returns True": lambda: (lambda *a: True),
    "returns a wrong-shape array": lambda: (lambda *a: np.zeros((2, 7))),
    "returns a 3-D array": lambda: (lambda *a: np.zeros((2, 3, 4))),
    "returns np.array([[nan]])": lambda: (lambda *a: np.array([[NAN]])),
    "returns nan of the input's shape": lambda: (lambda *a: np.full(np.shape(a[0]), NAN)),
    "returns a complex number": lambda: (lambda *a: 1 + 2j),
    "returns a complex array": lambda: (lambda *a: np.asarray(a[0]) + 1j),
    "returns its first input": lambda: (lambda *a: a[0]),
    "returns a function": lambda: (lambda *a: (lambda: 0)),
    "returns a generator": lambda: (lambda *a: (v for v in a)),
    "a generator function": lambda: _gen,
    "raises": lambda: _raises,
    "no arguments": lambda: (lambda: 0.0),
    "three arguments": lambda: (lambda a, b, c: 0.0),
    "a keyword-only argument": lambda: (lambda *, x: 0.0),
}


class _Classifier:
    """Something with a ``predict`` (and a ``score``) that is not a fitted classifier's."""

    def __init__(self, predict: Any) -> None:
        self.predict = self.score = predict


CLASSIFIERS: dict[str, Callable[[], Any]] = {
    "predict returns None": lambda: _Classifier(lambda x, *y: None),
    "predict returns nan": lambda: _Classifier(lambda x, *y: np.full(len(x), NAN)),
    "predict returns text": lambda: _Classifier(lambda x, *y: np.array(["ants"] * len(x))),
    "predict returns a list of text": lambda: _Classifier(lambda x, *y: ["a"] * len(x)),
    "predict returns a 3-D array": lambda: _Classifier(lambda x, *y: np.zeros((len(x), 2, 2))),
    "predict returns complex": lambda: _Classifier(lambda x, *y: np.arange(len(x)) % 5 + 1j),
    "predict returns objects": lambda: _Classifier(lambda x, *y: np.array([object()] * len(x))),
    "predict returns a generator": lambda: _Classifier(lambda x, *y: (i for i in range(len(x)))),
    "predict raises": lambda: _Classifier(_raises),
    "predict takes no argument": lambda: _Classifier(lambda: 0),
    "predict is a number": lambda: _Classifier(3),
}

MAPPINGS: dict[str, Callable[[], Any]] = {
    "nan values": lambda: {"ants": NAN, "bees": NAN},
    "np.nan values": lambda: {"ants": np.float64("nan"), "bees": np.float32("nan")},
    "inf values": lambda: {"ants": INF, "bees": -INF},
    "bool values": lambda: {"ants": True, "bees": False},
    "text values": lambda: {"ants": "text", "bees": ""},
    "list values": lambda: {"ants": [0.75], "bees": []},
    "array values": lambda: {"ants": np.array([0.75]), "bees": np.array(0.5)},
    "complex values": lambda: {"ants": 0.75 + 0j, "bees": 1j},
    "dict values": lambda: {"ants": {}, "bees": {"x": 1}},
    "huge values": lambda: {"ants": 10**30, "bees": -1},
    "a None key": lambda: {None: 0.75},
    "a tuple key": lambda: {(1, 2): 0.75},
    "mixed keys": lambda: {0: 0.75, "bees": 0.5},
    "object values": lambda: {"ants": object(), "bees": object()},
}


# ---- the checks, each with its context and a right answer for every parameter


@dataclass
class Spec:
    call: Callable[[SimpleNamespace, dict[str, Any]], Any]
    answers: dict[str, tuple[dict[str, Callable[[], Any]], ...]]  # parameter -> its odd answers beyond COMMON
    right: dict[str, Callable[[SimpleNamespace], Any]]  # a right value of each parameter, for the others
    around: dict[str, Callable[[SimpleNamespace], Any]] | None = None  # odd answers built from the context


def _ex(name: str) -> Any:
    module, check = name.split(".")
    return getattr(importlib.import_module(f"tlcourse_exercises.{module}"), check)


SPECS: dict[str, Spec] = {
    "setup_check.check_profile": Spec(lambda d, a: _ex("setup_check.check_profile")(a["answer"], d.report),
                                      {"answer": ()}, {}),
    "setup_check.check_skipped_file": Spec(lambda d, a: _ex("setup_check.check_skipped_file")(a["path"]),
                                           {"path": ()}, {}),
    "what_is_tl.check_feature_classifier": Spec(
        lambda d, a: _ex("what_is_tl.check_feature_classifier")(a["clf"], d.f_test, d.y_test, features_train=d.f_train,
                                                                 y_train=d.y_train),
        {"clf": (CLASSIFIERS,)}, {}),
    "what_is_tl.check_reused_extractor": Spec(
        lambda d, a: _ex("what_is_tl.check_reused_extractor")(a["model"], d.conv_part, d.x_dig, d.y_dig,
                                                               train=d.train_dig, source=d.source_fe),
        {"model": ()}, {}, _conv_part_models()),
    "feature_extraction.check_feature_extractor_model": Spec(
        lambda d, a: _ex("feature_extraction.check_feature_extractor_model")(a["model"], d.fe_base, 3),
        {"model": ()}, {}, _around_models(lambda d: d.fe_base, 3)),
    "feature_extraction.check_far_target_features": Spec(
        lambda d, a: _ex("feature_extraction.check_far_target_features")(
            a["digits_clf"], a["last_clf"], a["layer"], d.probes, ["mid", "last"], d.far_train, d.far_test),
        {"digits_clf": (CLASSIFIERS,), "last_clf": (CLASSIFIERS,), "layer": ()},
        {"digits_clf": lambda d: d.mid_clf, "last_clf": lambda d: d.last_clf, "layer": lambda d: "mid"}),
    "domain_adaptation.check_adabn": Spec(
        lambda d, a: _ex("domain_adaptation.check_adabn")(a["adapted"], d.bn_model, d.x_target, d.x_source, d.x_target,
                                                          d.y_target, images=100),
        {"adapted": ()}, {}, _adabn_models()),
    "feature_extraction.check_best_layer": Spec(
        lambda d, a: _ex("feature_extraction.check_best_layer")(a["answer"], {"early": 0.35, "late": 0.64}),
        {"answer": ()}, {}),
    "fine_tuning.check_phase_one": Spec(lambda d, a: _ex("fine_tuning.check_phase_one")(a["model"], d.ft_base),
                                        {"model": ()}, {}, _around_models(lambda d: d.ft_base, 2)),
    "fine_tuning.check_phase_two": Spec(
        lambda d, a: _ex("fine_tuning.check_phase_two")(a["model"], d.ft2_base, head_lr=1e-3, from_layer="ft2_base_c2"),
        # (the number of outputs is phase 1's point: phase 2 checks what trains, and at which rate)
        {"model": ()}, {}, {"base inside, two outputs": lambda d: _around(d.ft2_base, outputs=2, lr=1e-4),
                            "base inside, not built": lambda d: _around(d.ft2_base, built=False),
                            "base inside, learning rate nan": lambda d: _around(d.ft2_base, lr=NAN),
                            "base inside, optimizer by name": lambda d: _around(d.ft2_base, lr="sgd"),
                            "base inside, not compiled": lambda d: _around(d.ft2_base)}),
    "domain_adaptation.check_coral": Spec(lambda d, a: _ex("domain_adaptation.check_coral")(a["fn"]),
                                          {"fn": (FUNCTIONS,)}, {}),
    "domain_adaptation.check_reversal": Spec(lambda d, a: _ex("domain_adaptation.check_reversal")(a["layer"]),
                                             {"layer": (FUNCTIONS,)}, {}),
    "best_practices.check_safe_model": Spec(
        lambda d, a: _ex("best_practices.check_safe_model")(a["model"], d.lambda_model), {"model": ()}, {}),
    "best_practices.check_augmentation": Spec(
        lambda d, a: _ex("best_practices.check_augmentation")(a["augmentation"], _judge, d.blobs, d.blob_labels),
        {"augmentation": (FUNCTIONS,)}, {}),
    "capstone.check_test_split": Spec(
        lambda d, a: _ex("capstone.check_test_split")(a["split_name"], a["n_test"], d.splits),
        {"split_name": (), "n_test": ()}, {"split_name": lambda d: "val", "n_test": lambda d: 15}),
    "capstone.check_per_class_accuracy": Spec(
        lambda d, a: _ex("capstone.check_per_class_accuracy")(a["answer"], d.y_true, d.y_pred, ["ants", "bees"]),
        {"answer": (MAPPINGS,)}, {}),
    "text_transfer.check_mean_pool": Spec(lambda d, a: _ex("text_transfer.check_mean_pool")(a["fn"]),
                                          {"fn": (FUNCTIONS,)}, {}),
    "text_transfer.check_coral_align": Spec(lambda d, a: _ex("text_transfer.check_coral_align")(a["fn"]),
                                            {"fn": (FUNCTIONS,)}, {}),
}


# ---- right answers in the same context: an odd answer is refused for what it is, not for a context that fails


def _trained_digits_model(d: SimpleNamespace) -> Any:
    model = keras.Sequential([keras.Input((8,)), d.conv_part, keras.layers.Dense(5)])
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(d.x_dig[d.train_dig], d.y_dig[d.train_dig], epochs=40, batch_size=20, verbose=0)
    return model


def _adabn_on_target(d: SimpleNamespace) -> Any:
    from tlcourse.adapt import adabn

    return adabn(_copy_of(d.bn_model), d.x_target.astype("float32"), batch_size=500)


def _my_coral_loss(s: np.ndarray, t: np.ndarray) -> float:
    return float(np.sum((np.cov(s, rowvar=False) - np.cov(t, rowvar=False)) ** 2) / (4 * s.shape[1] ** 2))


def _my_reversal() -> Any:
    import tensorflow as tf

    @tf.custom_gradient
    def reverse(x):
        return tf.identity(x), lambda dy: -0.5 * dy

    return reverse


def _my_mean_pool(s: np.ndarray, m: np.ndarray) -> np.ndarray:
    m = m[..., None].astype(s.dtype)
    return (s * m).sum(1) / m.sum(1)


def _my_coral_align(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    def power(c: np.ndarray, p: float) -> np.ndarray:
        values, vectors = np.linalg.eigh(c)
        return (vectors * values**p) @ vectors.T

    eye = 1e-6 * np.eye(s.shape[1])
    return (s - s.mean(0)) @ power(np.cov(s.T) + eye, -0.5) @ power(np.cov(t.T) + eye, 0.5) + t.mean(0)


def _safe_model(d: SimpleNamespace) -> Any:
    inp = keras.Input((4, 4, 3))
    return keras.Model(inp, keras.layers.Rescaling(1 / 127.5, offset=-1)(inp))


def _fe_model(d: SimpleNamespace) -> Any:
    inp = keras.Input((8, 8, 3))
    h = d.fe_base(keras.layers.Rescaling(1 / 127.5, offset=-1)(inp), training=False)
    h = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(h))
    return keras.Model(inp, keras.layers.Dense(3)(h))


def _fitted_classifier(d: SimpleNamespace) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000).fit(d.f_train, d.y_train)


PASSING: dict[str, Callable[[SimpleNamespace], dict[str, Any]]] = {
    "setup_check.check_profile": lambda d: {"answer": "quick"},
    "setup_check.check_skipped_file": lambda d: {"path": "train/ants/imageNotFound.gif"},
    "what_is_tl.check_feature_classifier": lambda d: {"clf": _fitted_classifier(d)},
    "what_is_tl.check_reused_extractor": lambda d: {"model": _trained_digits_model(d)},
    "feature_extraction.check_feature_extractor_model": lambda d: {"model": _fe_model(d)},
    "feature_extraction.check_far_target_features": lambda d: {},
    "feature_extraction.check_best_layer": lambda d: {"answer": "late"},
    "fine_tuning.check_phase_one": lambda d: {"model": _around(d.ft_base)},
    "fine_tuning.check_phase_two": lambda d: {"model": _around(d.ft2_base, lr=1e-4)},
    "domain_adaptation.check_coral": lambda d: {"fn": _my_coral_loss},
    "domain_adaptation.check_reversal": lambda d: {"layer": _my_reversal()},
    "domain_adaptation.check_adabn": lambda d: {"adapted": _adabn_on_target(d)},
    "best_practices.check_safe_model": lambda d: {"model": _safe_model(d)},
    "best_practices.check_augmentation": lambda d: {
        "augmentation": keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant")},
    "capstone.check_test_split": lambda d: {},
    "capstone.check_per_class_accuracy": lambda d: {"answer": {"ants": 0.75, "bees": 2 / 3}},
    "text_transfer.check_mean_pool": lambda d: {"fn": _my_mean_pool},
    "text_transfer.check_coral_align": lambda d: {"fn": _my_coral_align},
}


def test_every_check_has_a_right_answer_here():
    assert set(PASSING) == set(SPECS)


@pytest.mark.parametrize("check", list(PASSING))
def test_the_right_answer_passes_in_this_context(ctx, check):
    keras.utils.set_random_seed(0)
    spec = SPECS[check]
    answers = {p: make(ctx) for p, make in spec.right.items()} | PASSING[check](ctx)
    res = spec.call(ctx, answers)
    assert res.passed, str(res)


# ---- every odd answer


def _cases() -> list[Any]:
    return [pytest.param(check, param, odd, id=f"{check}-{param}-{odd}")
            for check, spec in SPECS.items() for param in spec.answers for odd in _table(check, param)]


def _table(check: str, param: str) -> dict[str, Callable[[SimpleNamespace], Any]]:
    """The odd answers tried in ``param`` of ``check``, each a factory of the context."""
    table = {name: (lambda d, make=make: make()) for name, make in COMMON.items()}
    for more in SPECS[check].answers[param]:
        table.update({name: (lambda d, make=make: make()) for name, make in more.items()})
    table.update(SPECS[check].around or {})
    return table


def _run(ctx: SimpleNamespace, check: str, param: str, odd: str) -> CheckResult:
    spec = SPECS[check]
    answers = {p: make(ctx) for p, make in spec.right.items()}
    answers[param] = _table(check, param)[odd](ctx)
    return spec.call(ctx, answers)


def test_every_public_check_is_covered():
    assert _public_checks() == set(SPECS), (
        "a check of tlcourse_exercises is not in SPECS (or SPECS names one that is gone): add it, with its context "
        "and its answer parameters, so that its odd answers are tried too")


@pytest.mark.parametrize("check, param, odd", _cases())
def test_an_odd_answer_gets_feedback_not_a_traceback(ctx, check, param, odd):
    res = _run(ctx, check, param, odd)
    assert isinstance(res, CheckResult), f"{check} returned {type(res).__name__}"
    assert not res.passed, str(res)
    assert any(line.startswith("[x] ") and len(line) > 20 for line in res.lines), str(res)


# ---- what the learner reads, for representative answers


@pytest.mark.parametrize("check, param, odd, words", [
    ("capstone.check_test_split", "n_test", "nan", "n_test is nan, not a number: give a whole number of images"),
    ("capstone.check_test_split", "n_test", "inf", "n_test is inf, not a finite number"),
    ("capstone.check_test_split", "n_test", "-inf", "n_test is -inf, not a finite number"),
    ("capstone.check_test_split", "n_test", "np.nan", "n_test is nan, not a number"),
    ("capstone.check_test_split", "n_test", "True", "n_test is True, a bool"),
    ("capstone.check_test_split", "n_test", "text", "n_test is text ('text')"),
    ("capstone.check_test_split", "n_test", "10**30", "not a whole number"),
    ("capstone.check_test_split", "split_name", "[]", "test_from is a list: give the name of the folder"),
    ("capstone.check_per_class_accuracy", "answer", "nan values", "ants is nan, not a number"),
    ("capstone.check_per_class_accuracy", "answer", "inf values", "ants is inf, not a finite number"),
    ("capstone.check_per_class_accuracy", "answer", "huge values", "ants: 1e+30 is not it"),
    ("capstone.check_per_class_accuracy", "answer", "a None key", "the keys should be the class names"),
    ("setup_check.check_profile", "answer", "nan", "MY_PROFILE is a float"),
    ("setup_check.check_skipped_file", "path", "nan", "SKIPPED is a float: give the path"),
    ("setup_check.check_skipped_file", "path", "a function", "SKIPPED is a function"),
    ("feature_extraction.check_best_layer", "answer", "([1],)", "best_layer is a tuple: give one layer's name"),
    ("feature_extraction.check_best_layer", "answer", "nan", "give the layer's name"),
    ("feature_extraction.check_feature_extractor_model", "model", "a layer", "not a keras.Model"),
    ("feature_extraction.check_feature_extractor_model", "model", "base inside, wrong number of classes",
     "expected (None, 3)"),
    ("fine_tuning.check_phase_one", "model", "base inside, two outputs", "two classes need Dense(2"),
    ("fine_tuning.check_phase_two", "model", "two outputs", "new_base is not inside"),
    ("fine_tuning.check_phase_two", "model", "base inside, two outputs", "the model has 2 outputs"),
    ("fine_tuning.check_phase_two", "model", "base inside, learning rate nan", "the learning rate is nan"),
    ("what_is_tl.check_reused_extractor", "model", "nan", "not a keras.Model"),
    ("what_is_tl.check_reused_extractor", "model", "conv_part inside, two outputs", "expected (None, 5)"),
    ("what_is_tl.check_feature_classifier", "clf", "predict is a number", "clf.predict is a int, not a method"),
    ("what_is_tl.check_feature_classifier", "clf", "predict returns None", "what clf.predict returns is a NoneType"),
    ("what_is_tl.check_feature_classifier", "clf", "predict returns text", "what clf.predict returns holds text"),
    ("what_is_tl.check_feature_classifier", "clf", "predict returns objects", "holds objects that are not numbers"),
    ("what_is_tl.check_feature_classifier", "clf", "predict returns nan", "holds nan or inf"),
    ("best_practices.check_safe_model", "model", "a layer", "not a keras.Model: build it as a keras.Model"),
    ("best_practices.check_augmentation", "augmentation", "a layer", "my_augmentation returns shape (20, 16, 16, 2)"),
    ("best_practices.check_augmentation", "augmentation", "raises", "give a Keras layer"),
    ("domain_adaptation.check_coral", "fn", "text", "my_coral is a str, not a function"),
    ("domain_adaptation.check_coral", "fn", "a type", "my_coral is the class int, not a function"),
    ("domain_adaptation.check_coral", "fn", "three arguments", "cannot be called as my_coral(source, target)"),
    ("domain_adaptation.check_coral", "fn", "returns text", "what my_coral returns is text ('text'), not an array"),
    ("domain_adaptation.check_coral", "fn", "returns a generator", "is a generator, not an array of numbers"),
    ("domain_adaptation.check_coral", "fn", "returns a complex number", "holds complex numbers"),
    ("domain_adaptation.check_coral", "fn", "returns {}", "what my_coral returns is a dict"),
    ("domain_adaptation.check_coral", "fn", "returns nan", "what my_coral returns is nan, not a finite number"),
    ("domain_adaptation.check_coral", "fn", "raises", "your function raised RuntimeError: my bug"),
    ("domain_adaptation.check_reversal", "layer", "0", "my_reversal is a int, not a function"),
    ("domain_adaptation.check_reversal", "layer", "returns text", "what my_reversal returns is text"),
    ("domain_adaptation.check_reversal", "layer", "returns a wrong-shape array", "my_reversal returns shape (2, 7)"),
    ("text_transfer.check_mean_pool", "fn", "returns text", "not an array of numbers"),
    ("text_transfer.check_mean_pool", "fn", "returns a complex array", "holds complex numbers"),
    ("text_transfer.check_mean_pool", "fn", "returns nan of the input's shape", "holds nan or inf (60 of 60 values)"),
    ("text_transfer.check_mean_pool", "fn", "a generator function", "is a generator"),
    ("text_transfer.check_coral_align", "fn", "returns a generator", "not an array of numbers"),
    ("text_transfer.check_coral_align", "fn", "returns object()", "what my_coral returns is a object"),
    ("text_transfer.check_coral_align", "fn", "no arguments", "cannot be called as my_coral(source, target)"),
])
def test_an_odd_answer_is_named(ctx, check, param, odd, words):
    res = _run(ctx, check, param, odd)
    assert not res.passed and words in str(res), str(res)
