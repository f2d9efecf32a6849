"""Steps 3-5 of the capstone: a baseline without pretraining, feature extraction, fine-tuning.

Each stage is evaluated on the held-out test split and chooses its settings on
the validation split only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tlcourse.models import load_base, unfreeze_top

__all__ = [
    "RESCALE",
    "StageResult",
    "augmentation",
    "baseline",
    "build_model",
    "feature_extraction",
    "fine_tune",
    "predict_proba",
]

# Input scaling each base was trained with, as a Rescaling layer (scale, offset):
# a registered Keras layer, so the saved model loads without unsafe deserialisation.
RESCALE = {
    "mobilenet_v2": (1 / 127.5, -1.0),
    "mobilenet": (1 / 127.5, -1.0),
    "efficientnet_b0": (1.0, 0.0),  # EfficientNet rescales inside the model
}


@dataclass
class StageResult:
    """One stage of the recipe: its test accuracy, test probabilities and time."""

    name: str
    test_accuracy: float
    probabilities: np.ndarray
    seconds: float
    val_accuracy: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def __str__(self) -> str:
        val = f", validation {self.val_accuracy:.3f}" if self.val_accuracy is not None else ""
        return f"{self.name}: test accuracy {self.test_accuracy:.3f}{val} ({self.seconds:.1f} s)"


def _class_weight(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    return {i: float(len(labels) / (n_classes * max(c, 1))) for i, c in enumerate(counts)}


def baseline(arrays: dict[str, tuple[np.ndarray, np.ndarray]], *, thumb: int = 16) -> StageResult:
    """Logistic regression on ``thumb`` x ``thumb`` colour thumbnails: what no pretraining gets.

    Examples
    --------
    >>> print(baseline(load_split_images(splits, image_size=128)))  # doctest: +SKIP
    baseline: test accuracy 0.601 (0.4 s)
    """
    import tensorflow as tf
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    start = time.perf_counter()

    def flat(x: np.ndarray) -> np.ndarray:
        return tf.image.resize(x, (thumb, thumb), antialias=True).numpy().reshape(len(x), -1)

    (xtr, ytr), (xva, yva), (xte, yte) = arrays["train"], arrays["val"], arrays["test"]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced"))
    clf.fit(flat(xtr), ytr)
    n_classes = int(max(ytr.max(), yte.max()) + 1)
    probs = np.zeros((len(xte), n_classes), np.float32)
    probs[:, clf.classes_] = clf.predict_proba(flat(xte))
    val_acc = float(np.mean(clf.predict(flat(xva)) == yva))
    acc = float(np.mean(probs.argmax(1) == yte))
    return StageResult("baseline", acc, probs, time.perf_counter() - start, val_acc)


def build_model(
    num_classes: int,
    *,
    image_size: int,
    base_name: str = "mobilenet_v2",
    alpha: float | None = 0.35,
    dropout: float = 0.2,
    verbose: bool = False,
) -> tuple[Any, Any]:
    """A classifier that takes raw pixels in [0, 255]: Rescaling, frozen ImageNet base, pooling, softmax.

    The preprocessing is a ``Rescaling`` layer inside the model, so the saved file
    classifies raw images and loads in Keras's safe mode (no ``Lambda`` layer).

    Returns
    -------
    (model, base)
        The classifier and its base (frozen; the base is called with ``training=False``,
        so its BatchNormalization layers stay in inference mode even when unfrozen).

    Examples
    --------
    >>> model, base = build_model(2, image_size=128)  # doctest: +SKIP
    >>> model.layers[1].name  # doctest: +SKIP
    'preprocess'
    """
    import keras

    if base_name not in RESCALE:
        raise ValueError(f"The capstone knows the input scaling of {sorted(RESCALE)}, not {base_name!r}; add it "
                         f"to RESCALE in tlcourse/capstone/stages.py.")
    base = load_base(base_name, input_size=image_size, alpha=alpha, verbose=verbose)
    base.trainable = False
    scale, offset = RESCALE[base_name]
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = keras.layers.Rescaling(scale, offset, name="preprocess")(inputs)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"capstone_{base_name}"), base


def _feature_model(model: Any) -> Any:
    import keras

    return keras.Model(model.inputs, model.get_layer("pool").output)


def predict_proba(model: Any, x: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
    """Class probabilities of ``model`` for uint8 images ``x``, one row per image.

    Examples
    --------
    >>> import keras
    >>> m = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    >>> predict_proba(m, np.zeros((4, 2, 2, 3), np.uint8)).shape
    (4, 3)
    """
    return np.asarray(model.predict(x.astype(np.float32), batch_size=batch_size, verbose=0))


def feature_extraction(
    model: Any,
    arrays: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    cs: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
    seed: int = 42,
    verbose: int = 0,
) -> StageResult:
    """Fit the softmax layer on features of the frozen base, computed once (Introduced in 02_feature_extraction).

    The pooled features of the training images go through a multinomial logistic
    regression (class-balanced; its strength ``C`` chosen on the validation split),
    whose weights become the model's ``classifier`` Dense layer: a softmax layer
    *is* a logistic regression, and fitting it this way needs no learning rate and no
    epoch count, which a folder nobody has seen gives no chance to tune. The model is
    then evaluated end to end on the test images.

    Examples
    --------
    >>> print(feature_extraction(model, arrays))  # doctest: +SKIP
    feature_extraction: test accuracy 0.876, validation 0.889 (6.3 s)
    """
    import keras
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    extractor = _feature_model(model)
    feats = {k: predict_proba(extractor, x) for k, (x, _) in arrays.items() if k != "test"}
    (ytr, yva), n_classes = (arrays["train"][1], arrays["val"][1]), model.output_shape[-1]
    scores = {}
    for c in cs:
        clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
        clf.fit(feats["train"], ytr)
        proba = np.clip(clf.predict_proba(feats["val"]), 1e-7, 1)
        nll = -np.mean(np.log(proba[np.arange(len(yva)), np.searchsorted(clf.classes_, yva)]))
        scores[c] = (float(np.mean(clf.predict(feats["val"]) == yva)), -nll, clf)
    best_c = max(scores, key=lambda c: scores[c][:2])
    clf = scores[best_c][2]
    kernel = np.zeros((feats["train"].shape[1], n_classes), np.float32)
    bias = np.zeros(n_classes, np.float32)
    if clf.coef_.shape[0] == 1:  # two classes: sigmoid(w.x + b) = softmax([0, w.x + b])[1]
        kernel[:, clf.classes_[1]], bias[clf.classes_[1]] = clf.coef_[0], clf.intercept_[0]
    else:
        kernel[:, clf.classes_], bias[clf.classes_] = clf.coef_.T, clf.intercept_
    model.get_layer("classifier").set_weights([kernel, bias])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    val_acc = float(np.mean(predict_proba(model, arrays["val"][0]).argmax(1) == yva))
    probs = predict_proba(model, arrays["test"][0])
    acc = float(np.mean(probs.argmax(1) == arrays["test"][1]))
    if verbose:
        print("      validation accuracy by C: " + ", ".join(f"{c}: {v[0]:.3f}" for c, v in scores.items()))
    history = {"C": [float(best_c)], "val_accuracy_by_C": [scores[c][0] for c in cs]}
    return StageResult("feature_extraction", acc, probs, time.perf_counter() - start, val_acc, history)


def augmentation(seed: int = 42) -> Any:
    """Random flips, small rotations and zooms, for photos (applied to training batches only)."""
    import keras

    return keras.Sequential([keras.layers.RandomFlip("horizontal", seed=seed),
                             keras.layers.RandomRotation(0.05, seed=seed),
                             keras.layers.RandomZoom(0.1, seed=seed)], name="augment")


def _train_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> Any:
    import tensorflow as tf

    augment = augmentation(seed)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda a, b: (augment(tf.cast(a, tf.float32), training=True), b),
                                  num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def fine_tune(
    model: Any,
    base: Any,
    arrays: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    epochs: int = 3,
    batch_size: int = 32,
    learning_rate: float = 1e-4,
    unfreeze_fraction: float = 0.2,
    seed: int = 42,
    previous: StageResult | None = None,
    verbose: int = 0,
) -> StageResult:
    """Unfreeze the top of the base and train it with the head at a low rate (Introduced in 03_fine_tuning).

    BatchNormalization layers stay frozen; training batches are augmented. The
    weights of the epoch with the best validation loss are kept; where fine-tuning
    does not beat ``previous`` (the feature-extraction stage) on validation accuracy,
    the model goes back to the weights it started from, and ``history["kept"]`` says so.

    Examples
    --------
    >>> print(fine_tune(model, base, arrays, previous=fe))  # doctest: +SKIP
    fine_tuning: test accuracy 0.915, validation 0.918 (41.2 s)
    """
    import keras

    start = time.perf_counter()
    before = [w.copy() for w in model.get_weights()]
    n = max(1, int(round(unfreeze_fraction * len(base.layers))))
    unfreeze_top(base, n, keep_batchnorm_frozen=True)
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    keras.utils.set_random_seed(seed)
    (xtr, ytr), (xva, yva) = arrays["train"], arrays["val"]
    stop = keras.callbacks.EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    hist = model.fit(_train_dataset(xtr, ytr, batch_size, seed), validation_data=(xva.astype(np.float32), yva),
                     epochs=epochs, class_weight=_class_weight(ytr, model.output_shape[-1]), callbacks=[stop],
                     shuffle=False, verbose=verbose)
    val_acc = float(np.mean(predict_proba(model, xva).argmax(1) == yva))
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    kept = previous is None or previous.val_accuracy is None or val_acc >= previous.val_accuracy
    if not kept:
        model.set_weights(before)
        val_acc = float(previous.val_accuracy)
    history["kept"] = [float(kept)]
    base.trainable = False
    probs = predict_proba(model, arrays["test"][0])
    acc = float(np.mean(probs.argmax(1) == arrays["test"][1]))
    return StageResult("fine_tuning", acc, probs, time.perf_counter() - start, val_acc, history)
