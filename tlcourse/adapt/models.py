"""The two-domain Keras models, :class:`DeepCORAL` and :class:`DANN`.

Both train a feature extractor and a label classifier on ``((x_source, x_target), y_source)`` batches
(:func:`tlcourse.adapt.domain_dataset`) and add their own adaptation loss to the source cross-entropy.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tlcourse.adapt.layers import GradientReversal
from tlcourse.adapt.losses import coral_loss, dann_schedule

__all__ = ["DANN", "DeepCORAL"]


class _TwoDomainModel(keras.Model):
    """Feature extractor + label classifier, trained on ``((x_source, x_target), y_source)``."""

    def __init__(self, feature_extractor: Any, classifier: Any, *, joint_batch: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feature_extractor = feature_extractor
        self.classifier = classifier
        self.joint_batch = bool(joint_batch)
        self.ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.class_tracker = keras.metrics.Mean(name="class_loss")
        self.source_acc = keras.metrics.SparseCategoricalAccuracy(name="source_acc")

    def call(self, x: Any, training: bool = False) -> Any:
        # float32 logits whatever the heads' dtype policy (mixed_float16 on a GPU): softmax and loss stay exact
        return tf.cast(self.classifier(self.feature_extractor(x, training=training), training=training), "float32")

    def _adaptation(self, fs: Any, ft: Any) -> Any:
        raise NotImplementedError

    def _features(self, xs: Any, xt: Any) -> tuple[Any, Any]:
        """Source and target features in training mode: in two calls unless ``joint_batch``."""
        if self.joint_batch:
            f = self.feature_extractor(tf.concat([xs, xt], axis=0), training=True)
            return f[: tf.shape(xs)[0]], f[tf.shape(xs)[0] :]
        return self.feature_extractor(xs, training=True), self.feature_extractor(xt, training=True)

    def train_step(self, data: Any) -> dict[str, Any]:
        (xs, xt), ys = data
        with tf.GradientTape() as tape:
            fs, ft = self._features(xs, xt)
            logits = tf.cast(self.classifier(fs, training=True), "float32")
            class_loss = self.ce(ys, logits)
            extra = self._adaptation(fs, ft)  # the weighted adaptation loss
            loss = class_loss + extra
            # Under mixed_float16, compile() wraps the optimizer in a LossScaleOptimizer, whose apply()
            # divides the gradients by the scale this multiplies by (a no-op for other optimizers).
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
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
    """Deep CORAL (Sun & Saenko 2016): cross-entropy on source + ``coral_weight`` x CORAL(source, target).

    Introduced in 04_domain_adaptation.

    ``classifier`` maps features to class logits; CORAL is applied to ``feature_extractor``'s output.
    ``coral_weight`` scales with the features' size and range: 100 worked on the 128-d ReLU features of
    :func:`tlcourse.scratch.digits_cnn`. By default source and target go through the feature extractor
    in two calls, so BatchNormalization normalises each domain by its own statistics, as at test time;
    ``joint_batch=True`` runs one concatenated batch, mixing them (``benchmarks/domain_adaptation.py
    --ablations`` measures the difference).

    Examples
    --------
    >>> from tlcourse.scratch import digits_cnn
    >>> fe, clf = digits_cnn()
    >>> model = DeepCORAL(fe, clf, coral_weight=100.0)
    >>> model.compile(optimizer="adam")
    >>> model.fit(domain_dataset(xs, ys, xt), steps_per_epoch=125, epochs=5)  # doctest: +SKIP
    """

    def __init__(self, feature_extractor: Any, classifier: Any, coral_weight: float = 1.0, *,
                 joint_batch: bool = False, **kwargs: Any):
        super().__init__(feature_extractor, classifier, joint_batch=joint_batch, **kwargs)
        self.coral_weight = float(coral_weight)
        self.coral_tracker = keras.metrics.Mean(name="coral_loss")

    def _adaptation(self, fs: Any, ft: Any) -> Any:
        coral = coral_loss(fs, ft)
        self.coral_tracker.update_state(coral)
        return self.coral_weight * coral


class DANN(_TwoDomainModel):
    """Domain-adversarial training (Ganin et al. 2016).

    Introduced in 04_domain_adaptation.

    ``domain_classifier`` (features to one logit) learns to tell source features (label 1) from target
    features (label 0). A :class:`GradientReversal` layer between it and the feature extractor makes the
    same loss push the feature extractor towards features that hide their domain. The reversal coefficient
    is ``coefficient * dann_schedule(step / total_steps, gamma)``, ramped from 0 as in the paper;
    ``coefficient=1`` is the paper's, 0.1 worked better on MNIST -> USPS here (the full ramp was unstable
    across seeds). The metric ``domain_acc`` is near 1 while the domains are easy to tell apart, near 0.5
    (chance) once the features are aligned. The other arguments are as for :class:`DeepCORAL`.

    Examples
    --------
    >>> import keras
    >>> from tlcourse.scratch import digits_cnn
    >>> fe, clf = digits_cnn()
    >>> dc = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    >>> model = DANN(fe, clf, dc, total_steps=625, coefficient=0.1)
    >>> model.reversal.name
    'gradient_reversal'
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
        joint_batch: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(feature_extractor, classifier, joint_batch=joint_batch, **kwargs)
        self.domain_classifier = domain_classifier
        self.reversal = GradientReversal(0.0, name="gradient_reversal")
        self.total_steps = int(total_steps)
        self.coefficient = float(coefficient)
        self.gamma = float(gamma)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self.domain_tracker = keras.metrics.Mean(name="domain_loss")
        self.domain_acc = keras.metrics.BinaryAccuracy(name="domain_acc", threshold=0.0)
        self.lambda_tracker = keras.metrics.Mean(name="lambda")

    def _adaptation(self, fs: Any, ft: Any) -> Any:
        progress = tf.minimum(tf.cast(self.optimizer.iterations, "float32") / float(self.total_steps), 1.0)
        lam = self.coefficient * dann_schedule(progress, self.gamma)
        self.reversal.coefficient.assign(lam)
        ds = tf.cast(self.domain_classifier(self.reversal(fs), training=True), "float32")
        dt = tf.cast(self.domain_classifier(self.reversal(ft), training=True), "float32")
        d_logits = tf.concat([ds, dt], axis=0)
        d_labels = tf.concat([tf.ones_like(ds), tf.zeros_like(dt)], axis=0)
        domain_loss = self.bce(d_labels, d_logits)
        self.domain_tracker.update_state(domain_loss)
        self.domain_acc.update_state(d_labels, d_logits)
        self.lambda_tracker.update_state(lam)
        return domain_loss
