"""Forward and fine-tuning speed of MobileNetV2 (alpha 0.35) on this machine, and the feature-cache speed-up.

Prints images per second at several input sizes, the first (tracing) step, and
how much faster training a head on cached features is than running the frozen
base every epoch.
"""

from __future__ import annotations

import time

import keras
import numpy as np

import tlcourse
from tlcourse import models
from tlcourse_cli import doctor


def forward_speed(size: int, batch: int = 32, repeats: int = 5) -> float:
    base = models.load_base("mobilenet_v2", alpha=0.35, input_size=size, pooling="avg")
    x = np.random.default_rng(0).uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    base.predict(x, verbose=0)
    t0 = time.perf_counter()
    for _ in range(repeats):
        base.predict(x, verbose=0)
    return batch * repeats / (time.perf_counter() - t0)


def cache_speedup(n: int = 640, size: int = 128, epochs: int = 5) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (n, size, size, 3)).astype("float32")
    y = rng.integers(0, 5, n)
    base = models.load_base("mobilenet_v2", alpha=0.35, input_size=size, pooling="avg")
    base.trainable = False
    pre = models.preprocess_input("mobilenet_v2")
    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Dense(5)(base(pre(inputs), training=False))
    full = keras.Model(inputs, outputs)
    full.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    t0 = time.perf_counter()
    full.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    through_base = time.perf_counter() - t0
    t0 = time.perf_counter()
    feats = base.predict(pre(x), verbose=0)
    head = keras.Sequential([keras.Input(feats.shape[1:]), keras.layers.Dense(5)])
    head.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    head.fit(feats, y, epochs=epochs, batch_size=32, verbose=0)
    cached = time.perf_counter() - t0
    return through_base, cached


def main() -> None:
    tlcourse.setup(seed=0)
    for size in (96, 128, 224):
        print(f"forward, batch 32, {size} px: {forward_speed(size):6.0f} images/s")
    t = doctor.time_training_step(image_size=96, batch_size=32, steps=10)
    print(f"fine-tuning step, 96 px: first step {t['first_step_s']:.1f} s, then {t['images_per_s']:.0f} images/s")
    slow, fast = cache_speedup()
    print(f"5 epochs on 640 images at 128 px: through the frozen base {slow:.1f} s, "
          f"features once + head {fast:.1f} s: {slow / fast:.1f}x faster")


if __name__ == "__main__":
    main()
