"""Run-time set-up: seeds, devices, precision, distribution strategy, and the profiles that size the lessons.

:func:`setup` is called once at the top of every notebook.
"""

from __future__ import annotations

import logging
import os
import platform
import random
import subprocess
import sys
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import tlcourse
from tlcourse import settings

__all__ = [
    "Profile",
    "PROFILES",
    "SetupReport",
    "active_profile",
    "choose_strategy",
    "gpu_devices",
    "run_command",
    "setup",
    "version_notes",
]

@dataclass(frozen=True)
class Profile:
    """Sizes for a notebook's UPPER_CASE constants: ``quick`` on a laptop CPU and in the tests, ``full`` on a GPU.

    Examples
    --------
    >>> PROFILES["quick"].image_size
    160
    """

    name: str
    image_size: int
    batch_size: int
    epochs: int
    fine_tune_epochs: int
    max_per_class: int | None
    seeds: int
    base_model: str
    base_alpha: float | None
    digits_epochs: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    # A 2-core laptop, CI and the tests: each notebook in about two minutes. 160 px although the
    # mirror's flowers are 128 px: the base works better at 160 px and up (lesson 03 measures by how much).
    "quick": Profile("quick", image_size=160, batch_size=32, epochs=5, fine_tune_epochs=3, max_per_class=150,
                     seeds=3, base_model="mobilenet_v2", base_alpha=0.35, digits_epochs=5),
    # A GPU: whole data sets, 224 px, more epochs. Needs internet (or a mirror)
    # for the larger ImageNet weights: `tlcourse fetch --profile full`.
    "full": Profile("full", image_size=224, batch_size=64, epochs=15, fine_tune_epochs=10, max_per_class=None,
                    seeds=5, base_model="mobilenet_v2", base_alpha=1.0, digits_epochs=30),
}


def gpu_devices() -> list[Any]:
    """Return the physical GPUs TensorFlow can see (an empty list on a CPU).

    Examples
    --------
    >>> import tensorflow as tf
    >>> len(gpu_devices()) == len(tf.config.list_physical_devices("GPU"))  # 0 on this course's CI
    True
    """
    import tensorflow as tf

    return list(tf.config.list_physical_devices("GPU"))


def active_profile(name: str | None = None) -> Profile:
    """Return the profile to use: ``name``, else ``$TLCOURSE_PROFILE``, else ``full`` with a GPU, ``quick`` without.

    An unknown name raises ``ValueError``, saying where it came from.

    Examples
    --------
    >>> active_profile("quick").name
    'quick'
    """
    chosen = name or settings.current().profile
    if chosen is None:
        chosen = "full" if gpu_devices() else "quick"
    if chosen not in PROFILES:
        raise ValueError(
            f"Unknown profile {chosen!r} (from {'the argument' if name else settings.PROFILE_ENV}); "
            f"choose one of {sorted(PROFILES)}."
        )
    return PROFILES[chosen]


def choose_strategy(devices: list[Any] | None = None) -> Any:
    """A ``MirroredStrategy`` for several devices (one model copy each, gradients averaged), else the default.

    ``devices`` are logical devices or their names; ``None`` means all logical GPUs.

    Examples
    --------
    >>> choose_strategy([]).num_replicas_in_sync
    1
    """
    import tensorflow as tf

    if devices is None:
        devices = tf.config.list_logical_devices("GPU")
    names = [d if isinstance(d, str) else d.name for d in devices]
    if len(names) > 1:
        return tf.distribute.MirroredStrategy(devices=names)
    return tf.distribute.get_strategy()


@dataclass
class SetupReport:
    """What :func:`setup` found and switched on; printed at the top of a notebook."""

    seed: int
    profile: Profile
    python: str
    tensorflow: str
    keras: str
    cpus: list[str]
    gpus: list[str]
    precision_policy: str
    strategy: Any
    deterministic: bool
    data_dir: str
    keras_home: str
    notes: list[str] = field(default_factory=list)

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    def __str__(self) -> str:
        p = self.profile
        lines = [
            f"tlcourse {tlcourse.__version__} set-up (seed {self.seed})",
            f"  Python {self.python} | TensorFlow {self.tensorflow} | Keras {self.keras}",
            f"  CPUs: {len(self.cpus)} logical ({os.cpu_count()} cores)"
            f" | GPUs: {', '.join(self.gpus) if self.gpus else 'none'}",
            f"  precision policy: {self.precision_policy}"
            f" | strategy: {type(self.strategy).__name__} ({self.replicas} replica(s))"
            f" | deterministic ops: {'on' if self.deterministic else 'off'}",
            f"  profile: {p.name} ({p.image_size} px, batch {p.batch_size}, {p.epochs} epochs,"
            f" {p.max_per_class or 'all'} images per class, base {p.base_model}"
            f"{'' if p.base_alpha is None else f' alpha {p.base_alpha}'})",
            f"  data directory: {self.data_dir}",
            f"  Keras cache: {self.keras_home}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython display
        printer.text(str(self))


def _quiet_tensorflow(level: str) -> None:
    # The C++ switch works only before TensorFlow's runtime starts; the Python loggers cover the rest.
    settings.native_log_level()
    import tensorflow as tf

    tf.get_logger().setLevel(level)
    logging.getLogger("absl").setLevel(level)
    # Keras 3 warns on every fit of a tf.data.Dataset that its default shuffle=True is ignored; the course's
    # pipelines shuffle themselves (data.make_dataset), so the warning says nothing a learner should act on.
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed, but will be ignored", category=UserWarning)


def _plot_style() -> None:
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (6.0, 4.0),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )


def _gpu_gains_from_float16(gpu: Any) -> bool:
    import tensorflow as tf

    try:
        details = tf.config.experimental.get_device_details(gpu)
    except Exception:  # noqa: BLE001 - details are optional on some drivers
        return False
    capability = details.get("compute_capability")
    # Tensor cores (Volta, compute capability 7.0, and newer) make float16 fast.
    return bool(capability) and tuple(capability) >= (7, 0)


TROUBLESHOOTING = "notebooks/TROUBLESHOOTING.md"


def version_notes(installed: dict[str, str] | None = None) -> list[str]:
    """What to do where TensorFlow or Keras is outside the versions the course declares it supports.

    The range is the installed course's own requirement (pyproject.toml's ``dependencies``); a checkout
    run without installing the course declares none, and gets no note. ``installed`` defaults to what is installed.

    Examples
    --------
    >>> version_notes({"tensorflow": "1.15.0", "keras": "2.3.1"})[0][:52]
    'TensorFlow 1.15.0 and Keras 2.3.1 are outside the ve'
    >>> from importlib import metadata
    >>> version_notes({"tensorflow": metadata.version("tensorflow"), "keras": metadata.version("keras")})
    []
    """
    from importlib import metadata

    from packaging.requirements import Requirement

    try:
        declared = [Requirement(r) for r in metadata.requires("tlcourse") or []]
    except metadata.PackageNotFoundError:
        return []
    ranges = {r.name: r for r in declared if r.name in ("tensorflow", "keras") and r.marker is None}
    installed = installed or {name: metadata.version(name) for name in ranges}
    outside = [name for name, r in ranges.items() if not r.specifier.contains(installed[name], prereleases=True)]
    if not outside:
        return []
    names = {"tensorflow": "TensorFlow", "keras": "Keras"}
    which = " and ".join(f"{names[n]} {installed[n]}" for n in outside)
    wanted = " ".join(f'"{r}"' for r in ranges.values())
    return [f"{which} {'are' if len(outside) > 1 else 'is'} outside the versions the course supports "
            f"({', '.join(str(r) for r in ranges.values())}): run `pip install {wanted}`, then restart the kernel "
            f"(Colab: Runtime > Restart session) and run the notebook again from the top; see {TROUBLESHOOTING}"]


def setup(
    seed: int = 42,
    *,
    profile: str | None = None,
    deterministic: bool | None = None,
    mixed_precision: bool | None = None,
    log_level: str = "ERROR",
    blas_threads: int | None = 1,
    verbose: bool = True,
) -> SetupReport:
    """Prepare TensorFlow for a lesson and report what is there.

    Introduced in 00_setup_check.

    Sets every seed, TensorFlow's log levels (``TF_CPP_MIN_LOG_LEVEL`` to 3 where unset, its Python loggers to
    ``log_level``), the plot style, memory growth for each GPU, mixed precision (``mixed_float16``) on GPUs
    with tensor cores, and a ``MirroredStrategy`` over several GPUs (build models in ``report.strategy.scope()``).

    ``profile`` defaults to ``$TLCOURSE_PROFILE``, else by hardware. ``deterministic`` ops (the same numbers
    on every run) default to on for CPUs, off for GPUs, where they cost speed. ``blas_threads`` limits NumPy's
    and so scikit-learn's linear algebra (``None``: leave it): beside TensorFlow's threads on a busy 2-core
    CPU, two BLAS threads made 03's logistic regression on 2,000 pooled features take 70 s against 4 s on one.

    Examples
    --------
    >>> report = setup(seed=0, verbose=False)
    >>> report.profile.name in PROFILES
    True
    """
    _quiet_tensorflow(log_level)
    import keras
    import tensorflow as tf

    notes = version_notes()
    gpus = gpu_devices()
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            notes.append("GPU memory growth must be set before TensorFlow starts; restart the kernel")

    if blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=blas_threads, user_api="blas")  # holds until changed: not a context here
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic is None:
        deterministic = not gpus
    if deterministic:
        tf.config.experimental.enable_op_determinism()

    if mixed_precision is None:
        mixed_precision = bool(gpus) and all(_gpu_gains_from_float16(g) for g in gpus)
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")

    strategy = choose_strategy(tf.config.list_logical_devices("GPU") if gpus else [])
    _plot_style()

    report = SetupReport(
        seed=seed,
        profile=active_profile(profile),
        python=platform.python_version(),
        tensorflow=tf.__version__,
        keras=keras.__version__,
        cpus=[d.name for d in tf.config.list_logical_devices("CPU")],
        gpus=[g.name for g in gpus],
        precision_policy=keras.mixed_precision.global_policy().name,
        strategy=strategy,
        deterministic=bool(deterministic),
        data_dir=str(settings.current().data_dirs[0]),
        keras_home=str(settings.current().weights_dir),
        notes=notes,
    )
    if verbose:
        print(report)
    return report


def run_command(*args: Any) -> int:
    """Run ``tlcourse ARGS`` (what a terminal would type) with this Python, print its output as it comes,
    and return its exit code: 0 for success.

    Introduced in 00_setup_check.

    The command is the course's application (``tlcourse_cli``), which the lessons run and never import.

    Examples
    --------
    >>> run_command("train", "--budget", "-1")  # doctest: +ELLIPSIS
    usage: tlcourse train ...
    tlcourse train: error: argument --budget: -1 is out of range: give 1 or more seconds
    2
    """
    command = [sys.executable, "-m", "tlcourse_cli", *map(str, args)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                          env=settings.command_environment()) as run:
        try:
            for line in run.stdout:
                print(line, end="", flush=True)
        except BaseException:  # an interrupted cell (Jupyter's stop button) stops the command too
            run.terminate()
            raise
    return run.returncode
