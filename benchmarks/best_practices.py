"""Figures behind 05_best_practices' fine-tuning section, on every training photo of the pool.

The notebook fine-tunes on 60 of its 100 training photos per class to fit its budget; this script
fine-tunes the top three blocks of MobileNetV2 0.35 (at the quick profile's image size, on cached bottom
activations) on 100 flower photos per class drawn by the seed, tests on 60 per class, and on the same test
photos changed (grayscale, darker): linear probe, FT from a random head, LP-FT, LP-FT with warm-up +
cosine decay, LP-FT with layer-wise rates. Prints mean and spread over seeds (the seed picks the training
photos and the run), and the seconds each seed took.

    python benchmarks/best_practices.py [--seeds 3] [--epochs 4]
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression

import tlcourse
from tlcourse import data, models, practices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    report = tlcourse.setup(seed=0, profile="quick", verbose=False)
    size = report.profile.image_size
    flowers = data.scan_images(data.dataset_path("flowers"), check=False)
    test_idx = data.few_shot(flowers.labels, 60, seed=42)
    pool = np.setdiff1d(np.arange(len(flowers)), test_idx)
    x_test = data.load_images([flowers.files[i] for i in test_idx], image_size=size)
    y_test = flowers.labels[test_idx]
    base = models.load_base("mobilenet_v2", input_size=size, alpha=0.35, pooling="avg", verbose=False)
    pre = models.preprocess_input("mobilenet_v2")
    bottom, top = models.split_at(base, "block_14_expand")
    start_weights = top.get_weights()
    gray = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(x_test.astype("float32"))).numpy() * 0.6
    acts_test = bottom.predict(pre(x_test.astype("float32")), verbose=0)
    acts_ood = bottom.predict(pre(gray), verbose=0)

    results: dict[str, list[tuple[float, float]]] = {}
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        train_idx = data.few_shot(flowers.labels, 100, seed=seed, indices=pool)
        x_train = data.load_images([flowers.files[i] for i in train_idx], image_size=size)
        y_train = flowers.labels[train_idx]
        acts_train = bottom.predict(pre(x_train.astype("float32")), verbose=0)
        top.set_weights(start_weights)
        clf = LogisticRegression(C=1.0, max_iter=3000).fit(np.asarray(top(acts_train)), y_train)
        lp = [clf.coef_.T.astype("float32"), clf.intercept_.astype("float32")]
        results.setdefault("linear probe only", []).append(
            (clf.score(np.asarray(top(acts_test)), y_test), clf.score(np.asarray(top(acts_ood)), y_test)))
        steps = args.epochs * int(np.ceil(len(y_train) / 32))

        def run(head, optimizer):
            top.set_weights(start_weights)
            models.unfreeze_top(top, len(top.layers), keep_batchnorm_frozen=True)
            keras.utils.set_random_seed(seed)
            inputs = keras.Input(acts_train.shape[1:])
            dense = keras.layers.Dense(5, activation="softmax")
            model = keras.Model(inputs, dense(top(inputs, training=False)))
            if head is not None:
                dense.set_weights(head)
            model.compile(optimizer, "sparse_categorical_crossentropy")
            model.fit(acts_train, y_train, epochs=args.epochs, batch_size=32, verbose=0)
            return tuple(float(np.mean(np.asarray(model(a)).argmax(1) == y_test)) for a in (acts_test, acts_ood))

        cosine = keras.optimizers.schedules.CosineDecay(0.0, steps - steps // 10, warmup_target=3e-4,
                                                        warmup_steps=steps // 10)
        layerwise = {"block_14": 0.1, "block_15": 0.1, "block_16": 0.3, "Conv_1": 0.3}
        for name, head, opt in (("FT, random head", None, keras.optimizers.Adam(3e-4)),
                                ("LP-FT", lp, keras.optimizers.Adam(3e-4)),
                                ("LP-FT, warm-up + cosine", lp, keras.optimizers.Adam(cosine)),
                                ("LP-FT, layer-wise rates", lp, practices.DiscriminativeAdam(3e-4, layerwise))):
            results.setdefault(name, []).append(run(head, opt))
        print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)

    print(f"\n{'':<26}{'test':>16}{'changed photos':>18}   (mean +- std over {args.seeds} seeds)")
    for name, rows in results.items():
        arr = np.array(rows)
        print(f"{name:<26}{arr[:, 0].mean():>9.3f} +- {arr[:, 0].std():.3f}{arr[:, 1].mean():>11.3f} +- "
              f"{arr[:, 1].std():.3f}")


if __name__ == "__main__":
    main()
