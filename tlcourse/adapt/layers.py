"""The gradient reversal layer of DANN (Ganin et al. 2016)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

__all__ = ["GradientReversal"]


@keras.saving.register_keras_serializable(package="tlcourse")
class GradientReversal(keras.layers.Layer):
    """Identity on the way forward; multiplies the gradient by ``-coefficient`` on the way back.

    ``coefficient`` is a non-trainable variable, so a training loop can ramp it
    (``layer.coefficient.assign(...)``) without retracing.

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
