"""Unsupervised domain adaptation in Keras 3: DANN, Deep CORAL and AdaBN.

Introduced in 04_domain_adaptation. A model is trained where labels are
plentiful (the *source*) and used where they are not (the *target*); the two
distributions differ. Three ways to close the gap without target labels:

- **AdaBN** (Li et al. 2016): re-estimate every BatchNormalization layer's
  statistics on target images; no training, no labels (:func:`adabn`).
- **Deep CORAL** (Sun & Saenko 2016): add to the classification loss the
  distance between the covariances of source and target features
  (:func:`coral_loss`, :class:`DeepCORAL`).
- **DANN** (Ganin et al. 2016): a domain classifier learns to tell source
  from target features, and a gradient reversal layer makes the feature
  extractor learn to fool it (:class:`GradientReversal`, :class:`DANN`).

The domain-adaptation libraries that exist are written for PyTorch or pinned
to old TensorFlow; these are written for Keras 3 on the TensorFlow backend.
Source and target go through the network as *separate* batches, so that each
BatchNormalization layer normalises each domain with its own statistics (one
concatenated batch did clearly worse on MNIST -> USPS: see REFERENCE.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "DANN",
    "DeepCORAL",
    "GradientReversal",
    "accuracy",
    "adabn",
    "bn_statistics",
    "coral_loss",
    "dann_schedule",
    "digits_cnn",
    "domain_dataset",
]


def dann_schedule(progress: Any, gamma: float = 10.0) -> Any:
    """The adaptation weight of Ganin et al. (2016): ``2 / (1 + exp(-gamma p)) - 1``.

    It rises from 0 at the start of training (``p = 0``) to almost 1 at the end
    (``p = 1``), so that the domain classifier's noisy early gradients do not
    disturb the feature extractor before it has learnt anything.

    Works on Python floats, NumPy arrays and tensors.

    Examples
    --------
    >>> round(dann_schedule(0.0), 3), round(dann_schedule(1.0), 3)
    (0.0, 1.0)
    """
    if isinstance(progress, (int, float)):
        return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0
    import keras

    return 2.0 / (1.0 + keras.ops.exp(-gamma * progress)) - 1.0


def _reversal_layer_class() -> type:
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="tlcourse")
    class GradientReversal(keras.layers.Layer):
        """Identity on the way forward; multiplies the gradient by ``-coefficient`` on the way back.

        ``coefficient`` is a non-trainable variable, so a training loop can ramp
        it (``layer.coefficient.assign(...)``) without retracing.

        Examples
        --------
        >>> import tensorflow as tf
        >>> layer = GradientReversal(0.5)
        >>> x = tf.constant([1.0, 2.0])
        >>> with tf.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = tf.reduce_sum(layer(x))
        >>> tape.gradient(y, x).numpy().tolist()
        [-0.5, -0.5]
        """

        def __init__(self, coefficient: float = 1.0, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._initial = float(coefficient)
            self.coefficient = self.add_weight(
                shape=(), initializer=keras.initializers.Constant(self._initial),
                trainable=False, name="coefficient",
            )

        def call(self, x: Any) -> Any:
            coefficient = tf.cast(tf.convert_to_tensor(self.coefficient), x.dtype)

            @tf.custom_gradient
            def reverse(t: Any) -> Any:
                def grad(dy: Any) -> Any:
                    return -coefficient * dy

                return tf.identity(t), grad

            return reverse(x)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "coefficient": self._initial}

    return GradientReversal


_CLASSES: dict[str, type] = {}


def __getattr__(name: str) -> Any:
    # Keras classes are built on first use, so that importing tlcourse.adapt
    # does not import TensorFlow (the package imports nothing heavy at import time).
    if name in {"GradientReversal", "DANN", "DeepCORAL"}:
        if name not in _CLASSES:
            _CLASSES["GradientReversal"] = _reversal_layer_class()
            _CLASSES["DANN"], _CLASSES["DeepCORAL"] = _model_classes(_CLASSES["GradientReversal"])
        return _CLASSES[name]
    raise AttributeError(f"module 'tlcourse.adapt' has no attribute {name!r}")


def coral_loss(source: Any, target: Any) -> Any:
    """Deep CORAL's loss: ``||C_s - C_t||_F^2 / (4 d^2)`` between feature covariances.

    Parameters
    ----------
    source, target
        Features of shape ``(n_s, d)`` and ``(n_t, d)``.

    Returns
    -------
    A scalar tensor: zero when the two covariances are equal, growing with
    their difference (a shift of the means alone does not change it).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(100, 4)).astype("float32")
    >>> float(coral_loss(x, x))
    0.0
    >>> float(coral_loss(x, 3 * x)) > 0.1
    True
    """
    import keras

    ops = keras.ops
    source = ops.convert_to_tensor(source, "float32")
    target = ops.convert_to_tensor(target, "float32")
    d = ops.cast(ops.shape(source)[1], "float32")

    def covariance(x: Any) -> Any:
        n = ops.cast(ops.shape(x)[0], "float32")
        centred = x - ops.mean(x, axis=0, keepdims=True)
        return ops.matmul(ops.transpose(centred), centred) / (n - 1.0)

    diff = covariance(source) - covariance(target)
    return ops.sum(diff * diff) / (4.0 * d * d)


def _model_classes(reversal_cls: type) -> tuple[type, type]:
    import keras
    import tensorflow as tf

    class _TwoDomainModel(keras.Model):
        """Feature extractor + label classifier, trained on ``((x_source, x_target), y_source)``."""

        def __init__(self, feature_extractor: Any, classifier: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.feature_extractor = feature_extractor
            self.classifier = classifier
            self.ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.class_tracker = keras.metrics.Mean(name="class_loss")
            self.source_acc = keras.metrics.SparseCategoricalAccuracy(name="source_acc")

        def call(self, x: Any, training: bool = False) -> Any:
            return self.classifier(self.feature_extractor(x, training=training), training=training)

        def _adaptation(self, fs: Any, ft: Any) -> tuple[Any, dict[str, Any]]:
            raise NotImplementedError

        def train_step(self, data: Any) -> dict[str, Any]:
            (xs, xt), ys = data
            with tf.GradientTape() as tape:
                # Separate calls: each BatchNormalization layer normalises each domain with its own
                # batch statistics.
                fs = self.feature_extractor(xs, training=True)
                ft = self.feature_extractor(xt, training=True)
                logits = self.classifier(fs, training=True)
                class_loss = self.ce(ys, logits)
                extra, _ = self._adaptation(fs, ft)
                loss = class_loss + extra
            variables = self.trainable_variables
            self.optimizer.apply(tape.gradient(loss, variables), variables)
            self.loss_tracker.update_state(loss)
            self.class_tracker.update_state(class_loss)
            self.source_acc.update_state(ys, logits)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data: Any) -> dict[str, Any]:
            x, y = data[0], data[1]
            logits = self(x, training=False)
            self.class_tracker.update_state(self.ce(y, logits))
            self.source_acc.update_state(y, logits)
            return {"class_loss": self.class_tracker.result(), "source_acc": self.source_acc.result()}

    class DeepCORAL(_TwoDomainModel):
        """Deep CORAL (Sun & Saenko 2016): cross-entropy on source + ``weight`` x CORAL(source, target).

        Parameters
        ----------
        feature_extractor
            A Keras model from images to features (CORAL is applied to its output).
        classifier
            A Keras model from features to class logits.
        coral_weight
            Weight of the CORAL loss. It scales with the features' size and range:
            100 worked on the 128-d ReLU features of :func:`digits_cnn`.

        Examples
        --------
        >>> fe, clf = digits_cnn()  # doctest: +SKIP
        >>> model = DeepCORAL(fe, clf, coral_weight=100.0)  # doctest: +SKIP
        >>> model.compile(optimizer="adam")  # doctest: +SKIP
        >>> model.fit(domain_dataset(xs, ys, xt), steps_per_epoch=125, epochs=5)  # doctest: +SKIP
        """

        def __init__(self, feature_extractor: Any, classifier: Any, coral_weight: float = 1.0, **kwargs: Any):
            super().__init__(feature_extractor, classifier, **kwargs)
            self.coral_weight = float(coral_weight)
            self.coral_tracker = keras.metrics.Mean(name="coral_loss")

        def _adaptation(self, fs: Any, ft: Any) -> tuple[Any, dict[str, Any]]:
            coral = coral_loss(fs, ft)
            self.coral_tracker.update_state(coral)
            return self.coral_weight * coral, {}

    class DANN(_TwoDomainModel):
        """Domain-adversarial training (Ganin et al. 2016).

        The domain classifier learns to tell source features (label 1) from
        target features (label 0). Between it and the feature extractor sits a
        :class:`GradientReversal` layer, so the same loss that trains the domain
        classifier pushes the feature extractor the other way: towards features
        that do not reveal their domain. The reversal's coefficient is
        ``coefficient * dann_schedule(step / total_steps)``, ramped from 0 as in
        the paper; ``coefficient=1`` is the paper's, 0.1 worked better on
        MNIST -> USPS here (the full ramp was unstable across seeds).

        The metric ``domain_acc`` is the domain classifier's accuracy on the
        training batches: near 1 when the domains are easy to tell apart, near
        0.5 (chance) when the features are aligned.

        Parameters
        ----------
        feature_extractor, classifier
            As for :class:`DeepCORAL`.
        domain_classifier
            A Keras model from features to one logit (source against target).
        total_steps
            Number of training steps, for the ramp.
        coefficient
            Largest reversal coefficient.

        Examples
        --------
        >>> fe, clf = digits_cnn()  # doctest: +SKIP
        >>> dc = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])  # doctest: +SKIP
        >>> model = DANN(fe, clf, dc, total_steps=625, coefficient=0.1)  # doctest: +SKIP
        """

        def __init__(
            self,
            feature_extractor: Any,
            classifier: Any,
            domain_classifier: Any,
            *,
            total_steps: int,
            coefficient: float = 1.0,
            gamma: float = 10.0,
            **kwargs: Any,
        ) -> None:
            super().__init__(feature_extractor, classifier, **kwargs)
            self.domain_classifier = domain_classifier
            self.reversal = reversal_cls(0.0, name="gradient_reversal")
            self.total_steps = int(total_steps)
            self.coefficient = float(coefficient)
            self.gamma = float(gamma)
            self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
            self.domain_tracker = keras.metrics.Mean(name="domain_loss")
            self.domain_acc = keras.metrics.BinaryAccuracy(name="domain_acc", threshold=0.0)
            self.lambda_tracker = keras.metrics.Mean(name="lambda")

        def _adaptation(self, fs: Any, ft: Any) -> tuple[Any, dict[str, Any]]:
            progress = tf.minimum(tf.cast(self.optimizer.iterations, "float32") / float(self.total_steps), 1.0)
            lam = self.coefficient * dann_schedule(progress, self.gamma)
            self.reversal.coefficient.assign(lam)
            ds = self.domain_classifier(self.reversal(fs), training=True)
            dt = self.domain_classifier(self.reversal(ft), training=True)
            d_logits = tf.concat([ds, dt], axis=0)
            d_labels = tf.concat([tf.ones_like(ds), tf.zeros_like(dt)], axis=0)
            domain_loss = self.bce(d_labels, d_logits)
            self.domain_tracker.update_state(domain_loss)
            self.domain_acc.update_state(d_labels, d_logits)
            self.lambda_tracker.update_state(lam)
            return domain_loss, {}

    return DANN, DeepCORAL


def digits_cnn(
    feature_dim: int = 128,
    num_classes: int = 10,
    input_shape: tuple[int, ...] = (28, 28, 1),
    *,
    bn_momentum: float = 0.9,
) -> tuple[Any, Any]:
    """The small digits CNN of 04_domain_adaptation: ``(feature_extractor, classifier)``.

    Two 5x5 convolutions (32 and 64 filters) with BatchNormalization and
    pooling, then a dense layer of ``feature_dim`` units with BatchNormalization
    (about 185k parameters in all). The classifier is one dense layer to
    ``num_classes`` logits. Inputs are images in [0, 1].

    BatchNormalization's momentum is 0.9, not Keras's 0.99: in a few hundred
    steps the 0.99 moving statistics lag behind the weights, and a model that
    is right in training mode predicts almost one class in inference mode
    (measured on MNIST -> USPS after 250 steps: 0.13, and 0.87 once the
    statistics were re-estimated).

    Examples
    --------
    >>> fe, clf = digits_cnn()
    >>> fe.output_shape, clf.output_shape
    ((None, 128), (None, 10))
    """
    import keras
    from keras import layers

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
    classifier = keras.Sequential([keras.Input((feature_dim,)), layers.Dense(num_classes)], name="classifier")
    return feature_extractor, classifier


def _shift(images: Any, pixels: int, seed: Any) -> Any:
    import tensorflow as tf

    shape = tf.shape(images)
    padded = tf.pad(images, [[0, 0], [pixels, pixels], [pixels, pixels], [0, 0]])
    # One random offset per image: crop each padded image back to its size.
    n = shape[0]
    offsets = tf.random.stateless_uniform([n, 2], seed=seed, minval=0, maxval=2 * pixels + 1, dtype=tf.int32)
    rows = offsets[:, :1, None] + tf.range(shape[1])[None, :, None]
    cols = offsets[:, None, 1:] + tf.range(shape[2])[None, None, :]
    rows = tf.broadcast_to(rows, [n, shape[1], shape[2]])
    cols = tf.broadcast_to(cols, [n, shape[1], shape[2]])
    batch = tf.broadcast_to(tf.range(n)[:, None, None], [n, shape[1], shape[2]])
    return tf.gather_nd(padded, tf.stack([batch, rows, cols], axis=-1))


def domain_dataset(
    x_source: np.ndarray,
    y_source: np.ndarray,
    x_target: np.ndarray | None = None,
    *,
    batch_size: int = 64,
    shift: int = 2,
    seed: int = 0,
) -> Any:
    """An endless ``tf.data`` stream of shuffled, randomly shifted batches.

    With ``x_target`` it yields ``((x_source, x_target), y_source)``: a source
    and a target batch of ``batch_size`` each, drawn independently (the target
    labels are never used), for :class:`DANN` and :class:`DeepCORAL`. Without it,
    ``(x_source, y_source)`` for a plain ``model.fit``. Use ``steps_per_epoch``.

    Parameters
    ----------
    shift
        Largest random translation in pixels (0 turns augmentation off).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((10, 28, 28, 1), "float32"); y = np.arange(10)
    >>> (xs, xt), ys = next(iter(domain_dataset(x, y, x, batch_size=4)))
    >>> tuple(xs.shape), tuple(xt.shape), tuple(ys.shape)
    ((4, 28, 28, 1), (4, 28, 28, 1), (4,))
    """
    import tensorflow as tf

    def stream(x: np.ndarray, y: np.ndarray | None, s: int) -> Any:
        ds = tf.data.Dataset.from_tensor_slices((x,) if y is None else (x, y))
        ds = ds.shuffle(len(x), seed=s, reshuffle_each_iteration=True).repeat().batch(batch_size, drop_remainder=True)
        if shift:
            counter = tf.data.Dataset.counter()
            ds = tf.data.Dataset.zip((ds, counter)).map(
                lambda b, i: (_shift(b[0], shift, tf.stack([tf.cast(i, tf.int32), s])),) + tuple(b[1:]),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        return ds

    source = stream(np.asarray(x_source, np.float32), np.asarray(y_source), seed)
    if x_target is None:
        return source.prefetch(tf.data.AUTOTUNE)
    target = stream(np.asarray(x_target, np.float32), None, seed + 1)
    both = tf.data.Dataset.zip((source, target)).map(lambda s, t: ((s[0], t[0]), s[1]))
    return both.prefetch(tf.data.AUTOTUNE)


def _bn_layers(model: Any) -> list[Any]:
    import keras

    found = []
    stack = [model]
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        stack.extend(getattr(layer, "layers", []) or [])
        for attr in ("feature_extractor", "classifier"):
            sub = getattr(layer, attr, None)
            if sub is not None and sub is not layer and isinstance(sub, keras.layers.Layer):
                stack.append(sub)
    seen, unique = set(), []
    for layer in found:
        if id(layer) not in seen:
            seen.add(id(layer))
            unique.append(layer)
    return unique


def bn_statistics(model: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{layer path: (moving_mean, moving_variance)}`` of every BatchNormalization layer.

    Examples
    --------
    >>> fe, _ = digits_cnn()
    >>> len(bn_statistics(fe))
    3
    """
    return {
        layer.moving_mean.path: (np.array(layer.moving_mean.numpy()), np.array(layer.moving_variance.numpy()))
        for layer in _bn_layers(model)
    }


def adabn(model: Any, x_target: Any, *, batch_size: int = 256) -> Any:
    """AdaBN (Li et al. 2016): re-estimate every BatchNormalization layer's statistics on target data.

    Runs the target images through ``model`` in training mode, with each BN
    layer's momentum set so that its moving mean and variance become the
    average of the batch statistics over all the target data (the cumulative
    average, not an exponential one). Nothing else changes: no weights, no
    labels; BN layers frozen with ``trainable = False`` (as in a frozen
    pretrained base) are switched on for the pass and frozen again after it.
    A model without BatchNormalization is returned unchanged.

    Parameters
    ----------
    model
        A Keras model (modified in place and returned). Copy it first with
        ``keras.models.clone_model`` + ``set_weights`` to keep the original.
    x_target
        Target images (NumPy array), or a ``tf.data.Dataset`` of batches.
    batch_size
        Images per pass for an array; larger batches give better estimates.

    Examples
    --------
    >>> import numpy as np
    >>> fe, _ = digits_cnn()
    >>> _ = adabn(fe, np.random.default_rng(0).random((64, 28, 28, 1), dtype="float32"), batch_size=32)
    >>> bool(np.all(fe.layers[1].moving_mean.numpy() != 0))
    True
    """
    import tensorflow as tf

    layers = _bn_layers(model)
    if not layers:
        return model
    saved = [(layer.momentum, layer.trainable) for layer in layers]
    # Weights of everything else must not move: we only call the model, never an optimizer.
    if isinstance(x_target, np.ndarray):
        batches = tf.data.Dataset.from_tensor_slices(x_target.astype(np.float32)).batch(batch_size)
    else:
        batches = x_target
    try:
        for layer in layers:
            layer.trainable = True
        for k, batch in enumerate(batches):
            images = batch[0] if isinstance(batch, (tuple, list)) else batch
            for layer in layers:
                # new = momentum * old + (1 - momentum) * batch: with momentum k/(k+1) this is the
                # running mean of the k+1 batch statistics seen so far.
                layer.momentum = k / (k + 1.0)
            model(images, training=True)
    finally:
        for layer, (momentum, trainable) in zip(layers, saved):
            layer.momentum = momentum
            layer.trainable = trainable
    return model


def accuracy(model: Any, x: np.ndarray, y: np.ndarray, *, batch_size: int = 512) -> float:
    """Classification accuracy of ``model`` (logits or probabilities) on ``(x, y)``, in inference mode.

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> 0.0 <= accuracy(m, np.zeros((4, 2), "float32"), np.zeros(4, int)) <= 1.0
    True
    """
    import tensorflow as tf

    preds = []
    for start in range(0, len(x), batch_size):
        preds.append(np.argmax(np.asarray(model(tf.constant(x[start : start + batch_size]), training=False)), -1))
    return float(np.mean(np.concatenate(preds) == np.asarray(y)))
