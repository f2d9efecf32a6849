"""Models trained from scratch: the baselines that transfer learning is measured against.

:func:`small_cnn` for photos, :func:`digits_cnn` for digits (features and classifier apart, to reuse
or adapt the features), :func:`tiny_digits_cnn` for many short runs. The first two use BatchNormalization
momentum 0.9, not Keras's 0.99, because they train for only tens to hundreds of steps.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

__all__ = ["digits_cnn", "small_cnn", "tiny_digits_cnn"]


def small_cnn(
    num_classes: int,
    input_shape: tuple[int, int, int] = (64, 64, 3),
    *,
    filters: tuple[int, ...] = (16, 32, 64, 128),
    dropout: float = 0.3,
    bn_momentum: float = 0.9,
    rescale: float | None = 1 / 255,
) -> Any:
    """A small CNN to train from scratch: conv blocks with BatchNormalization, pooling, dense logits.

    Introduced in 01_what_is_transfer_learning.

    BatchNormalization's momentum is 0.9, not Keras's 0.99: after a few dozen steps on a handful of
    photos, 0.99's moving statistics lag behind the weights and the model predicts one class in
    inference mode. Inputs are pixels in [0, 255] (``rescale`` brings them to [0, 1]; ``None`` leaves
    them alone); outputs are logits, float32 also under a ``mixed_float16`` policy.

    Examples
    --------
    >>> m = small_cnn(5, (32, 32, 3))
    >>> m.output_shape
    (None, 5)
    """
    model_layers: list[Any] = [keras.Input(input_shape)]
    if rescale is not None:
        model_layers.append(layers.Rescaling(rescale))
    for f in filters:
        model_layers += [
            layers.Conv2D(f, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=bn_momentum),
            layers.ReLU(),
            layers.MaxPooling2D(),
        ]
    model_layers += [layers.GlobalAveragePooling2D(), layers.Dropout(dropout),
                     layers.Dense(num_classes, dtype="float32")]  # float32 logits under mixed precision
    return keras.Sequential(model_layers, name="small_cnn")


def digits_cnn(
    feature_dim: int = 128,
    num_classes: int = 10,
    input_shape: tuple[int, ...] = (28, 28, 1),
    *,
    bn_momentum: float = 0.9,
) -> tuple[Any, Any]:
    """A small digits CNN as ``(feature_extractor, classifier)``.

    Introduced in 01_what_is_transfer_learning.

    Two 5x5 convolutions (32 and 64 filters) with pooling and a dense layer of ``feature_dim`` units,
    each with BatchNormalization (about 185k parameters), then one dense layer to float32 logits.
    Inputs are images in [0, 1]; the parts are separate models because domain adaptation needs the
    features between them. Momentum 0.9, not 0.99: with 0.99 the moving statistics lag (MNIST -> USPS
    after 250 steps: 0.13 in inference mode, 0.87 once the statistics were re-estimated).

    Examples
    --------
    >>> fe, clf = digits_cnn()
    >>> fe.output_shape, clf.output_shape
    ((None, 128), (None, 10))
    """
    feature_extractor = keras.Sequential(
        [
            keras.Input(input_shape),
            layers.Conv2D(32, 5, use_bias=False),
            layers.BatchNormalization(momentum=bn_momentum),
            layers.ReLU(),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 5, use_bias=False),
            layers.BatchNormalization(momentum=bn_momentum),
            layers.ReLU(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(feature_dim, use_bias=False),
            layers.BatchNormalization(momentum=bn_momentum),
            layers.ReLU(),
        ],
        name="features",
    )
    # float32 logits under mixed precision (the features may be float16)
    classifier = keras.Sequential([keras.Input((feature_dim,)), layers.Dense(num_classes, dtype="float32")],
                                  name="classifier")
    return feature_extractor, classifier


def tiny_digits_cnn(
    num_classes: int = 10,
    *,
    augmentation: Any = None,
    dropout: float = 0.0,
    filters: tuple[int, int] = (16, 32),
    hidden: int = 128,
    input_shape: tuple[int, ...] = (28, 28, 1),
) -> Any:
    """A tiny digits CNN for many short runs: two 3x3 convolutions with pooling, a hidden layer, logits.

    Introduced in 05_best_practices.

    About 110k parameters, most in the hidden layer, and no BatchNormalization, so that a practice
    tried on it (augmentation, dropout, weight decay, a schedule) is the only thing that changes.
    Inputs are images in [0, 1]; outputs are float32 logits. ``augmentation``, when given, is the
    first layer. The layers are named for reuse: ``"conv1"``, ``"conv2"``, ``"flatten"`` (the
    convolutions' output, the part to reuse on another task), ``"hidden"``, ``"dropout"``, ``"logits"``.

    Examples
    --------
    >>> m = tiny_digits_cnn(dropout=0.5)
    >>> m.output_shape, m.get_layer("flatten").output.shape
    ((None, 10), (None, 800))
    """
    model_layers: list[Any] = [keras.Input(input_shape)]
    if augmentation is not None:
        model_layers.append(augmentation)
    model_layers += [
        layers.Conv2D(filters[0], 3, activation="relu", name="conv1"),
        layers.MaxPooling2D(name="pool1"),
        layers.Conv2D(filters[1], 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(hidden, activation="relu", name="hidden"),
        layers.Dropout(dropout, name="dropout"),
        layers.Dense(num_classes, dtype="float32", name="logits"),  # float32 logits under mixed precision
    ]
    return keras.Sequential(model_layers, name="tiny_digits_cnn")
