"""Target accuracy of each domain-adaptation method on MNIST <-> USPS, over seeds, with times.

The figures behind 04_domain_adaptation, in both directions and at both
training lengths (the notebook runs a short schedule in the quick profile):

    python benchmarks/domain_adaptation.py                       # quick schedule (5 x 50 steps), 3 seeds
    python benchmarks/domain_adaptation.py --steps 125 --epochs 5 --seeds 3 --directions mnist2usps usps2mnist
    python benchmarks/domain_adaptation.py --ablations --steps 60 --batch 32   # the lesson's two design choices

Set-up as in the notebook: MNIST's 10,000-image test file shuffled once with
seed 0 (8,000 labelled source / 2,000 held out); USPS train as the unlabelled
target, USPS test for target accuracy (and the other way round). CORAL weight
100 and DANN coefficient 0.1 were chosen on target test accuracy, so those rows
are optimistic; AdaBN has nothing to choose.

``--ablations`` measures, over the same seeds, the two choices the lesson
states: source and target through the network as separate batches (each
BatchNormalization layer normalises each domain with its own statistics)
against one concatenated batch, for Deep CORAL and DANN; and DANN's
coefficient 0.1 against the paper's full ramp to 1.0.
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np

import tlcourse
from tlcourse import adapt, data, scratch

CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def domains(direction: str, fit: str = "stretch") -> dict[str, np.ndarray]:
    xm, ym = data.load_mnist()
    perm = np.random.default_rng(0).permutation(len(xm))
    mnist = {"train": (xm[perm[:8000]], ym[perm[:8000]]), "test": (xm[perm[8000:]], ym[perm[8000:]])}
    usps = {s: data.load_usps(s, 28, fit=fit) for s in ("train", "test")}
    src, tgt = (mnist, usps) if direction == "mnist2usps" else (usps, mnist)
    return {"xs": src["train"][0], "ys": src["train"][1], "xt": tgt["train"][0], "yt": tgt["train"][1],
            "xt_test": tgt["test"][0], "yt_test": tgt["test"][1]}


def plain(seed: int, x: np.ndarray, y: np.ndarray, steps: int, epochs: int, batch: int = 64) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(list(scratch.digits_cnn()))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=CE)
    model.fit(adapt.domain_dataset(x, y, batch_size=batch, seed=seed), steps_per_epoch=steps, epochs=epochs, verbose=0)
    return model


def run(direction: str, seed: int, steps: int, epochs: int, fit: str, batch: int = 64) -> dict[str, tuple[float, float]]:
    d = domains(direction, fit)
    acc = lambda m: adapt.accuracy(m, d["xt_test"], d["yt_test"])  # noqa: E731
    out: dict[str, tuple[float, float]] = {}
    t = time.time()
    src = plain(seed, d["xs"], d["ys"], steps, epochs, batch)
    out["source only"] = (acc(src), time.time() - t)
    t = time.time()
    adapt.adabn(src, d["xt"], batch_size=500)
    out["AdaBN"] = (acc(src), time.time() - t)
    for name in ("Deep CORAL", "DANN"):
        keras.utils.set_random_seed(seed)
        fe, clf = scratch.digits_cnn()
        if name == "DANN":
            dc = keras.Sequential([keras.Input((128,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(1)])
            model = adapt.DANN(fe, clf, dc, total_steps=steps * epochs, coefficient=0.1)
        else:
            model = adapt.DeepCORAL(fe, clf, coral_weight=100.0)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        t = time.time()
        model.fit(adapt.domain_dataset(d["xs"], d["ys"], d["xt"], batch_size=batch, seed=seed),
                  steps_per_epoch=steps, epochs=epochs, verbose=0)
        out[name] = (acc(model), time.time() - t)
        t = time.time()
        adapt.adabn(model, d["xt"], batch_size=500)
        out[name + " + AdaBN"] = (acc(model), time.time() - t)
    t = time.time()
    few = data.few_shot(d["yt"], 10, seed=seed)
    keras.utils.set_random_seed(seed)
    src2 = plain(seed, d["xs"], d["ys"], steps, epochs, batch)
    t = time.time()
    src2.compile(optimizer=keras.optimizers.Adam(3e-4), loss=CE)
    src2.fit(adapt.domain_dataset(d["xt"][few], d["yt"][few], batch_size=32, seed=seed), steps_per_epoch=60, epochs=1, verbose=0)
    out["10 labelled / class"] = (acc(src2), time.time() - t)
    t = time.time()
    tgt = plain(seed, d["xt"], d["yt"], steps, epochs, batch)
    out["target-trained"] = (acc(tgt), time.time() - t)
    return out


def two_domain(name: str, seed: int, d: dict[str, np.ndarray], steps: int, epochs: int, batch: int,
               concat: bool = False, coefficient: float = 0.1) -> float:
    """Target accuracy of Deep CORAL or DANN (without AdaBN after it), trained as the lesson trains them."""
    keras.utils.set_random_seed(seed)
    fe, clf = scratch.digits_cnn()
    if name == "DANN":
        dc = keras.Sequential([keras.Input((128,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(1)])
        model = adapt.DANN(fe, clf, dc, total_steps=steps * epochs, coefficient=coefficient, joint_batch=concat)
    else:
        model = adapt.DeepCORAL(fe, clf, coral_weight=100.0, joint_batch=concat)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(adapt.domain_dataset(d["xs"], d["ys"], d["xt"], batch_size=batch, seed=seed),
              steps_per_epoch=steps, epochs=epochs, verbose=0)
    return adapt.accuracy(model, d["xt_test"], d["yt_test"])


ABLATIONS = {  # row: (method, concatenated batch, DANN coefficient)
    "Deep CORAL, separate batches": ("Deep CORAL", False, 0.1),
    "Deep CORAL, one concatenated batch": ("Deep CORAL", True, 0.1),
    "DANN 0.1, separate batches": ("DANN", False, 0.1),
    "DANN 0.1, one concatenated batch": ("DANN", True, 0.1),
    "DANN 1.0 (the paper's ramp), separate batches": ("DANN", False, 1.0),
}


def ablations(direction: str, seeds: int, steps: int, epochs: int, fit: str, batch: int) -> None:
    d = domains(direction, fit)
    results: dict[str, list[float]] = {k: [] for k in ABLATIONS}
    for seed in range(seeds):
        for row, (name, concat, coefficient) in ABLATIONS.items():
            results[row].append(two_domain(name, seed, d, steps, epochs, batch, concat, coefficient))
        print(f"{direction} seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in results.items()), flush=True)
    print(f"\n{direction}, {epochs} x {steps} steps of {batch} + {batch}, USPS fit {fit}, seeds 0-{seeds - 1}")
    print("| training | target accuracy (mean) | min - max | per seed |\n|---|---|---|---|")
    for k, v in results.items():
        a = np.array(v)
        print(f"| {k} | {a.mean():.3f} | {a.min():.3f} - {a.max():.3f} | {' / '.join(f'{x:.3f}' for x in a)} |")
    for name in ("Deep CORAL", "DANN 0.1"):
        gap = np.array(results[f"{name}, separate batches"]) - np.array(results[f"{name}, one concatenated batch"])
        print(f"{name}: separate minus concatenated, per seed {np.round(gap, 3)}, mean {gap.mean():+.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--batch", type=int, default=64, help="images per domain a step")
    p.add_argument("--fit", default="stretch", choices=["stretch", "box"])
    p.add_argument("--directions", nargs="+", default=["mnist2usps"])
    p.add_argument("--ablations", action="store_true",
                   help="separate against concatenated batches, and DANN's coefficient, instead of the methods")
    args = p.parse_args()
    tlcourse.setup(seed=0, verbose=False)
    if args.ablations:
        for direction in args.directions:
            ablations(direction, args.seeds, args.steps, args.epochs, args.fit, args.batch)
        return
    for direction in args.directions:
        results: dict[str, list[tuple[float, float]]] = {}
        for seed in range(args.seeds):
            for k, v in run(direction, seed, args.steps, args.epochs, args.fit, args.batch).items():
                results.setdefault(k, []).append(v)
            print(f"{direction} seed {seed}: " + ", ".join(f"{k} {v[-1][0]:.3f}" for k, v in results.items()), flush=True)
        print(f"\n{direction}, {args.epochs} x {args.steps} steps of {args.batch} + {args.batch}, "
              f"USPS fit {args.fit}, {args.seeds} seeds")
        print("| method | target accuracy (mean) | min - max | seconds |\n|---|---|---|---|")
        for k, v in results.items():
            a = np.array([x[0] for x in v])
            s = np.mean([x[1] for x in v])
            print(f"| {k} | {a.mean():.3f} | {a.min():.3f} - {a.max():.3f} | {s:.1f} |")


if __name__ == "__main__":
    main()
