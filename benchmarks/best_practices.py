"""Figures behind 05_best_practices' training practices, with more seeds, labels or steps than the lesson.

The lesson trains `tlcourse.scratch.tiny_digits_cnn` on 10 labelled MNIST digits per class for 300 steps
(5 seeds in the quick profile) and compares, on the same seeds: shifts and rotations, and flips, against no
augmentation; dropout and weight decay against neither; early stopping against the full run with 40% wrong
labels and with clean ones; warm-up + cosine decay against a constant rate, at a high and a low rate. This
script runs the same comparisons with the numbers given on the command line, and prints each effect with its
95% interval over the seeds (`tlcourse.claims.compare`), and the seconds each arm took. With more labels per
class, the practices that limit memorisation should matter less.

    python benchmarks/best_practices.py [--seeds 10] [--per-class 10] [--steps 300]
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np
import tensorflow as tf

import tlcourse
from tlcourse import claims, data, scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    tlcourse.setup(seed=0, profile="quick", verbose=False)
    x, y = data.load_mnist()
    order = np.random.default_rng(0).permutation(len(y))  # the lesson's split
    pool, held, test = order[:7000], order[7000:8000], order[8000:]

    def run(seed, augmentation=None, dropout=0.0, optimizer=None, noise=0.0, stop=False):
        keras.utils.set_random_seed(seed)
        rng = np.random.default_rng(seed)
        split = {}
        for name, k, rows in (("train", args.per_class, pool), ("val", 20, held)):
            chosen = data.few_shot(y, k, seed=seed, indices=rows)
            labels = y[chosen].copy()
            wrong = rng.random(len(chosen)) < noise
            labels[wrong] = rng.integers(0, 10, wrong.sum())
            split[name] = (x[chosen], labels)
        cnn = scratch.tiny_digits_cnn(augmentation=augmentation() if augmentation else None, dropout=dropout)
        cnn.compile(optimizer() if optimizer else keras.optimizers.Adam(1e-3),
                    keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        batches = tf.data.Dataset.from_tensor_slices(split["train"]).shuffle(1000, seed=seed).repeat().batch(32)
        callbacks = [keras.callbacks.EarlyStopping("val_loss", patience=5, restore_best_weights=True)] if stop else []
        cnn.fit(batches, epochs=args.steps // 20, steps_per_epoch=20, callbacks=callbacks,
                validation_data=split["val"] if stop else None, verbose=0)
        return float(np.mean(np.asarray(cnn.predict(x[test], batch_size=1000, verbose=0)).argmax(1) == y[test]))

    def shifts():
        return keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
                                 keras.layers.RandomRotation(15 / 360, fill_mode="constant")])

    def cosine(rate):
        steps = args.steps
        return lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
            0.0, steps - steps // 10, warmup_target=rate, warmup_steps=steps // 10))

    arms = {
        "none": {}, "shifts and rotations": {"augmentation": shifts},
        "flips": {"augmentation": lambda: keras.layers.RandomFlip("horizontal")},
        "dropout": {"dropout": 0.5}, "weight decay": {"optimizer": lambda: keras.optimizers.AdamW(1e-3, weight_decay=1.0)},
        "40% wrong, full": {"noise": 0.4}, "40% wrong, stopped": {"noise": 0.4, "stop": True},
        "clean, stopped": {"stop": True},
        "Adam 3e-2": {"optimizer": lambda: keras.optimizers.Adam(3e-2)}, "Adam 3e-2, cosine": {"optimizer": cosine(3e-2)},
        "Adam 1e-4": {"optimizer": lambda: keras.optimizers.Adam(1e-4)}, "Adam 1e-4, cosine": {"optimizer": cosine(1e-4)},
    }
    acc = {}
    for name, kwargs in arms.items():
        t0 = time.perf_counter()
        acc[name] = [run(seed, **kwargs) for seed in range(args.seeds)]
        print(f"{name:<22} {np.mean(acc[name]):.3f}  ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"\n{args.per_class} digits per class, {args.steps} steps, {args.seeds} seeds:")
    for a, b in (("shifts and rotations", "none"), ("flips", "none"), ("dropout", "none"), ("weight decay", "none"),
                 ("40% wrong, stopped", "40% wrong, full"), ("clean, stopped", "none"),
                 ("Adam 3e-2, cosine", "Adam 3e-2"), ("Adam 1e-4, cosine", "Adam 1e-4")):
        print(f"{a} minus {b}: {claims.compare(acc[a], acc[b])}")


if __name__ == "__main__":
    main()
