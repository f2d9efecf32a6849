"""Check the course's GPU path on a machine with a GPU: devices, mixed precision, the full profile's speed.

1. the devices and ``tlcourse.setup()``'s report (memory growth, precision policy, strategy, profile);
2. a head on a frozen MobileNetV2 trained under ``mixed_float16``: its output is float32, its loss finite;
3. one fine-tuning epoch timed in the full profile against the quick one (MobileNetV2 from
   ``tlcourse.models.load_base``; the same number of images, each profile's size, batch and alpha);
4. one notebook run end to end in the full profile (``TLCOURSE_PROFILE=full``), written to
   ``outputs/gpu_check/``.

On a machine without a GPU it says so and exits 0 (``--anyway`` runs the checks on the CPU,
slowly, with ``--steps`` to keep the epochs short). Run it with the same environment as the
course (internet, or the mirror's variables)::

    .venv/bin/python benchmarks/gpu_check.py
    .venv/bin/python benchmarks/gpu_check.py --anyway --steps 3 --no-notebook   # the script itself, on a CPU
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import tlcourse  # first: it keeps TensorFlow's C++ log lines out of the output
from tlcourse import models, runtime

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "outputs" / "gpu_check"


def devices() -> None:
    import tensorflow as tf

    print("devices:")
    for d in tf.config.list_physical_devices():
        print(f"  {d.device_type:4s} {d.name}")
    print(f"TensorFlow {tf.__version__}, built with CUDA: {tf.test.is_built_with_cuda()}")
    info = tf.sysconfig.get_build_info()
    if info.get("cuda_version"):
        print(f"  built for CUDA {info.get('cuda_version')}, cuDNN {info.get('cudnn_version')}")


def mixed_precision_head(steps: int = 5) -> bool:
    """A frozen quick-profile base and a 5-class head, trained under mixed_float16; True if all is well."""
    import keras
    import numpy as np

    quick = runtime.PROFILES["quick"]
    before = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        base = models.load_base(quick.base_model, alpha=quick.base_alpha, input_size=quick.image_size)
        base.trainable = False
        inputs = keras.Input((quick.image_size, quick.image_size, 3))
        x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
        x = keras.layers.GlobalAveragePooling2D()(base(x, training=False))
        outputs = keras.layers.Dense(5, dtype="float32")(x)  # the head's last layer stays float32
        model = keras.Model(inputs, outputs)
        model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        rng = np.random.default_rng(0)
        images = rng.uniform(0, 255, (steps * quick.batch_size, quick.image_size, quick.image_size, 3)).astype("float32")
        labels = rng.integers(0, 5, len(images))
        history = model.fit(images, labels, batch_size=quick.batch_size, epochs=1, verbose=0, shuffle=False)
        loss = float(history.history["loss"][-1])
        out = model.predict(images[:4], verbose=0)
        layer_dtype = base.layers[-1].compute_dtype
    finally:
        keras.mixed_precision.set_global_policy(before)
    ok = out.dtype == np.float32 and np.isfinite(loss) and np.all(np.isfinite(out))
    print(f"mixed precision head: base computes in {layer_dtype}, output {out.dtype}, loss {loss:.3f}, "
          f"optimizer {type(model.optimizer).__name__}, XLA by Keras's 'auto': {model.jit_compile}: "
          f"{'ok' if ok else 'FAILED'}")
    return bool(ok)


def fine_tuning_epoch(profile: runtime.Profile, images: int) -> tuple[float, str]:
    """Seconds for one epoch of ``images`` images with the whole base trainable, and the weights used."""
    import keras
    import numpy as np
    import tensorflow as tf

    size, batch = profile.image_size, profile.batch_size
    try:
        base = models.load_base(profile.base_model, alpha=profile.base_alpha, input_size=size)
        weights = "ImageNet weights"
    except models.WeightsNotAvailableError as exc:
        print(f"  {profile.name}: {str(exc).splitlines()[0]}")
        print(f"  {profile.name}: timing it with random weights instead (the same speed); "
              f"`tlcourse fetch --profile {profile.name}` gets the weights")
        base = models.load_base(profile.base_model, alpha=profile.base_alpha, input_size=size, weights=None)
        weights = "random weights (ImageNet file missing)"
    base.trainable = True
    inputs = keras.Input((size, size, 3))
    x = keras.layers.GlobalAveragePooling2D()(base(keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)))
    model = keras.Model(inputs, keras.layers.Dense(5, dtype="float32")(x))
    model.compile(keras.optimizers.Adam(1e-5), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x_batch = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
    y_batch = rng.integers(0, 5, batch)
    steps = max(1, images // batch)
    data = tf.data.Dataset.from_tensors((x_batch, y_batch)).repeat()
    model.fit(data, steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)  # tracing, not timed
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - start, weights


def compare_profiles(images: int) -> None:
    print(f"one fine-tuning epoch of {images} images (one batch repeated: the speed, not the accuracy):")
    seconds = {}
    for name in ("quick", "full"):
        p = runtime.PROFILES[name]
        s, weights = fine_tuning_epoch(p, images)
        seconds[name] = s
        print(f"  {name:5s} ({p.image_size} px, batch {p.batch_size}, {p.base_model} alpha {p.base_alpha}, "
              f"{weights}): {s:.1f} s, {images / s:.0f} images/s")
    print(f"  the full profile's epoch takes {seconds['full'] / seconds['quick']:.1f}x the quick one's")


def run_notebook(name: str, profile: str = "full") -> bool | None:
    """Run a notebook in ``profile`` with nbconvert: True if it ran to the end, None if it could not start."""
    from tlcourse_cli import doctor

    missing = [a for a in doctor.course_assets(profile) if not a.available]
    if missing:
        print(f"notebook {name}: not run, the {profile} profile lacks "
              + ", ".join(f"{a.kind} {a.name}" for a in missing) + f" (`tlcourse fetch --profile {profile}`, or a mirror)")
        return None
    OUT.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
           str(ROOT / "notebooks" / name), "--output-dir", str(OUT), "--ExecutePreprocessor.timeout=-1"]
    start = time.perf_counter()
    out = subprocess.run(cmd, env={**os.environ, "TLCOURSE_PROFILE": profile}, capture_output=True, text=True,
                         cwd=ROOT / "notebooks")
    minutes = (time.perf_counter() - start) / 60
    if out.returncode != 0:
        print(f"notebook {name} ({profile} profile): FAILED after {minutes:.1f} min\n{out.stderr[-3000:]}")
        return False
    print(f"notebook {name} ({profile} profile): ran in {minutes:.1f} min, written to {OUT / name}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anyway", action="store_true", help="run the checks without a GPU (slow)")
    parser.add_argument("--images", type=int, default=640, help="images in the timed epoch (default 640)")
    parser.add_argument("--steps", type=int, default=None, help="batches in the timed epoch, instead of --images")
    parser.add_argument("--notebook", default="02_feature_extraction.ipynb")
    parser.add_argument("--notebook-profile", default="full", choices=["quick", "full"])
    parser.add_argument("--no-notebook", action="store_true")
    args = parser.parse_args(argv)

    gpus = runtime.gpu_devices()
    if not gpus and not args.anyway:
        import tensorflow as tf

        cpus = ", ".join(d.name for d in tf.config.list_physical_devices("CPU"))
        print(f"gpu_check: no GPU visible to TensorFlow {tf.__version__} here (devices: {cpus}).")
        print("Nothing to check on this machine: run it on one with a GPU "
              "(or with --anyway to run the same checks on the CPU, slowly).")
        return 0

    devices()
    report = tlcourse.setup(seed=0)
    ok = mixed_precision_head()
    images = args.images if args.steps is None else args.steps * runtime.PROFILES["full"].batch_size
    compare_profiles(images)
    ran = None if args.no_notebook else run_notebook(args.notebook, args.notebook_profile)
    ok = ok and ran is not False
    skipped = "" if ran else "; the notebook was not run"
    print(f"gpu_check: {'all checks passed' if ok else 'some checks FAILED'}{skipped} "
          f"({len(report.gpus)} GPU(s), policy {report.precision_policy}, {report.replicas} replica(s))")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
