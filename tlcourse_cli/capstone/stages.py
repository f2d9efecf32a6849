"""Steps 3-5 of the capstone: a baseline without pretraining, feature extraction, fine-tuning (LP-FT).

Every stage trains on the cache of :mod:`~tlcourse_cli.capstone.cache`, chooses its settings on the validation
split only, and reports its accuracy on the whole test split. LP-FT: Kumar et al. 2022, "Fine-Tuning can
Distort Pretrained Features".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tlcourse import recipe
from tlcourse.models import base_spec, load_base
from tlcourse.training import softmax_weights
from tlcourse_cli.capstone.budget import LEARNING_RATES
from tlcourse_cli.capstone.cache import Cache, CachedSplit

__all__ = [
    "StageResult",
    "baseline",
    "build_model",
    "feature_extraction",
    "fine_tune",
    "predict_proba",
]

@dataclass
class StageResult:
    """One stage of the recipe: its test accuracy, test probabilities, time and validation accuracy."""

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


#: Most training rows the logistic regression's strength is chosen on (all of them in a folder of a few thousand).
SEARCH_ROWS = 4000
#: Most rows a logistic regression is fitted on: a fit on 28,000 rows of 1,280 features took minutes here, past
#: any budget, and a linear layer has few enough weights that 10,000 examples pin it down.
FIT_ROWS = 10_000


def _class_weight(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    return {i: float(len(labels) / (n_classes * max(c, 1))) for i, c in enumerate(counts)}


def _accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(probabilities.argmax(1) == labels))


def _train_set(cache: Cache) -> tuple[np.ndarray, np.ndarray]:
    """The training activations and those of the flipped copies, as one array (the augmentation the cache holds)."""
    parts: list[CachedSplit] = [cache["train"]] + ([cache["train_flipped"]] if "train_flipped" in cache.splits else [])
    return np.concatenate([p.activations for p in parts]), np.concatenate([p.labels for p in parts])


def baseline(cache: Cache) -> StageResult:
    """Logistic regression on the cache's 16x16 colour thumbnails: what no pretraining gets.

    Examples
    --------
    >>> print(baseline(cache))  # doctest: +SKIP
    baseline: test accuracy ..., validation ... (... s)
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    start = time.perf_counter()

    def flat(split: CachedSplit) -> np.ndarray:
        return split.thumbnails.reshape(len(split), -1).astype(np.float32)

    train, val, test = cache["train"], cache["val"], cache["test"]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced"))
    rows = np.random.default_rng(0).permutation(len(train))[:FIT_ROWS]
    clf.fit(flat(train)[rows], train.labels[rows])
    n_classes = int(max(train.labels.max(), test.labels.max()) + 1)
    probs = np.zeros((len(test), n_classes), np.float32)
    probs[:, clf.classes_] = clf.predict_proba(flat(test))
    val_acc = float(np.mean(clf.predict(flat(val)) == val.labels))
    return StageResult("baseline", _accuracy(probs, test.labels), probs, time.perf_counter() - start, val_acc)


def build_model(
    num_classes: int,
    *,
    image_size: int,
    base_name: str = "mobilenet_v2",
    alpha: float | None = 0.35,
    dropout: float = 0.2,
) -> tuple[Any, Any]:
    """A classifier of raw pixels in [0, 255] (Rescaling, frozen ImageNet base, pooling, softmax), and its base.

    Lesson 06's :func:`tlcourse.recipe.classifier` without augmentation layers (the cache holds mirror
    images instead). The preprocessing is a ``Rescaling`` layer inside the model, so the saved file
    classifies raw images and loads in Keras's safe mode (no ``Lambda`` layer). Raises ``ValueError`` for a
    base whose ``BaseSpec`` has no such rescaling or no cut layer.

    Examples
    --------
    >>> model, base = build_model(2, image_size=128)  # doctest: +SKIP
    >>> model.layers[1].name  # doctest: +SKIP
    'preprocess'
    """
    spec = base_spec(base_name)
    # The scaling goes in a Rescaling layer, so that the saved model loads without unsafe deserialisation.
    missing = [what for what, value in (("an input scaling a Rescaling layer can do", spec.rescale),
                                        ("a cut layer", spec.cut_layer)) if value is None]
    if missing:
        raise ValueError(f"The capstone needs {' and '.join(missing)} for {base_name}; its BaseSpec "
                         f"(tlcourse_assets/weights.py) has none.")
    base = load_base(base_name, input_size=image_size, alpha=alpha)  # refuses damaged weights: they train at chance
    model = recipe.classifier(num_classes, base, image_size=image_size, rescale=spec.rescale, dropout=dropout,
                              name=f"capstone_{base_name}")
    return model, base


def predict_proba(model: Any, x: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
    """Class probabilities of ``model`` for ``x`` (uint8 images, or cached activations), one row per input.

    Examples
    --------
    >>> import keras
    >>> m = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    >>> predict_proba(m, np.zeros((4, 2, 2, 3), np.uint8)).shape
    (4, 3)
    """
    return np.asarray(model.predict(x.astype(np.float32), batch_size=batch_size, verbose=0))


def feature_extraction(
    head: Any,
    pooled: Any,
    cache: Cache,
    *,
    cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0),
    seed: int = 42,
    verbose: int = 0,
) -> StageResult:
    """Fit the softmax layer as a logistic regression on the pooled features (introduced in 02_feature_extraction).

    ``head`` and ``pooled`` come from :func:`~tlcourse_cli.capstone.cache.split_model`. The regression
    (multinomial, class-balanced, its strength ``C`` chosen on validation by accuracy, then log-loss) is
    fitted on the training photos and their mirror images, and its weights become the ``classifier`` layer:
    a softmax layer *is* a logistic regression, and fitting it so needs no learning rate and no epoch count,
    which a folder nobody has seen gives no chance to tune.

    Examples
    --------
    >>> print(feature_extraction(head, pooled, cache))  # doctest: +SKIP
    feature_extraction: test accuracy ..., validation ... (... s)
    """
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    x_train, y_train = _train_set(cache)
    f_train = np.asarray(pooled.predict(x_train, batch_size=64, verbose=0))
    f_val = np.asarray(pooled.predict(cache["val"].activations, batch_size=64, verbose=0))
    y_val, n_classes = cache["val"].labels, head.output_shape[-1]
    # The strength is chosen on at most SEARCH_ROWS training rows (a regression on 28,000 rows and 1,280
    # features takes minutes a fit); the chosen one is then fitted on all of them.
    rows = np.random.default_rng(seed).permutation(len(y_train))[:SEARCH_ROWS]
    scores = {}
    for c in cs:
        clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
        clf.fit(f_train[rows], y_train[rows])
        proba = np.clip(clf.predict_proba(f_val), 1e-7, 1)
        nll = -np.mean(np.log(proba[np.arange(len(y_val)), np.searchsorted(clf.classes_, y_val)]))
        scores[c] = (float(np.mean(clf.predict(f_val) == y_val)), -nll, clf)
    best_c = max(scores, key=lambda c: scores[c][:2])
    clf = scores[best_c][2]
    if len(rows) < len(y_train):
        fit = np.random.default_rng(seed + 1).permutation(len(y_train))[:FIT_ROWS]
        clf = LogisticRegression(C=best_c, max_iter=3000, class_weight="balanced", random_state=seed)
        clf.fit(f_train[fit], y_train[fit])
    head.get_layer("classifier").set_weights(softmax_weights(clf, n_classes))
    val_acc = _accuracy(predict_proba(head, cache["val"].activations), y_val)
    probs = predict_proba(head, cache["test"].activations)
    if verbose:
        print("      validation accuracy by C: " + ", ".join(f"{c}: {v[0]:.3f}" for c, v in scores.items()))
    history = {"C": [float(best_c)], "val_accuracy_by_C": [scores[c][0] for c in cs]}
    return StageResult("feature_extraction", _accuracy(probs, cache["test"].labels), probs,
                       time.perf_counter() - start, val_acc, history)


def _best_epoch_callback(store: dict[str, Any]) -> Any:

    class BestEpoch(keras.callbacks.Callback):
        """Keep the weights of the epoch with the best validation accuracy (then the lowest validation loss)."""

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            score = (float(logs["val_accuracy"]), -float(logs["val_loss"]))
            if "score" not in store or score > store["score"]:
                store.update(score=score, epoch=epoch + 1, weights=[w.copy() for w in self.model.get_weights()])

    return BestEpoch()


def fine_tune(
    head: Any,
    top: Any,
    cache: Cache,
    *,
    epochs: int = 6,
    learning_rates: tuple[float, ...] = LEARNING_RATES,
    batch_size: int = 32,
    seed: int = 42,
    previous: StageResult | None = None,
    verbose: int = 0,
) -> StageResult:
    """LP-FT: from the fitted head, train the top of the base and the head on the cache (introduced in 03_fine_tuning).

    Each learning rate starts from the same weights (the pretrained top, the head of :func:`feature_extraction`);
    the best epoch (validation accuracy) of the best rate is kept, unless it does not beat ``previous`` on
    validation: then the head goes back to its starting weights and ``history["kept"]`` says so.
    BatchNormalization layers stay frozen and in inference mode.

    Examples
    --------
    >>> print(fine_tune(head, top, cache, previous=fe))  # doctest: +SKIP
    fine_tuning: test accuracy ..., validation ... (... s)
    """
    start = time.perf_counter()
    initial = head.get_weights()
    x, y = _train_set(cache)
    x_val, y_val = cache["val"].activations, cache["val"].labels
    n_classes = head.output_shape[-1]
    history: dict[str, list[float]] = {}
    best: dict[str, Any] = {}
    try:
        for lr in learning_rates:
            head.set_weights(initial)
            keras.utils.set_random_seed(seed)
            ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).batch(batch_size)
            store: dict[str, Any] = {}
            # Lesson 06's phase 2 on the cache: all of `top` unfrozen but BatchNormalization, recompiled at `lr`;
            # no early stopping: every rate runs its epochs, and the best epoch of the best rate is kept.
            hist = recipe.fine_tune(head, top, ds, (x_val, y_val), epochs=epochs, learning_rate=lr, patience=None,
                                    class_weight=_class_weight(y, n_classes), callbacks=[_best_epoch_callback(store)],
                                    verbose=verbose)
            for key, values in hist.history.items():
                history[f"{key}@{lr:g}"] = [float(v) for v in values]
            if "score" not in best or store["score"] > best["score"]:
                best = {**store, "learning_rate": lr}
    finally:
        top.trainable = False
    head.set_weights(best["weights"])
    # Measured as feature extraction's is, from the predictions: Keras's float32 val_accuracy makes 32/36 larger
    # than numpy's 32/36, which turned a tie with feature extraction into a win.
    val_acc = _accuracy(predict_proba(head, x_val), y_val)
    # Kept only when it *beats* feature extraction: on a tie the simpler, cheaper stage stands.
    kept = previous is None or previous.val_accuracy is None or val_acc > previous.val_accuracy
    if not kept:
        head.set_weights(initial)
        val_acc = float(previous.val_accuracy)
    history.update(kept=[float(kept)], learning_rate=[best["learning_rate"]], epoch=[float(best["epoch"])])
    probs = predict_proba(head, cache["test"].activations)
    return StageResult("fine_tuning", _accuracy(probs, cache["test"].labels), probs,
                       time.perf_counter() - start, val_acc, history)
