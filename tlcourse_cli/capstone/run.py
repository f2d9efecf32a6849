"""The whole capstone recipe in one call, :func:`train`: what ``tlcourse train`` runs."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tlcourse import runtime
from tlcourse_cli.capstone.audit import audit_folder
from tlcourse_cli.capstone.budget import (
    LEARNING_RATES,
    Plan,
    Speed,
    choose_size,
    largest_useful_size,
    measure_speed,
    plan_run,
    probe_sizes,
)
from tlcourse_cli.capstone.cache import ModelParts, cache_splits, split_model
from tlcourse_cli.capstone.saving import CLASSES_FILE, MODEL_FILE, REPORT_FILE, SPLITS_FILE, check_out_dir, save
from tlcourse_cli.capstone.splits import make_splits
from tlcourse_cli.capstone.stages import baseline, build_model, feature_extraction, fine_tune

__all__ = ["DEFAULT_BUDGET", "MAX_IMAGE_SIZE", "MIN_IMAGE_SIZE", "check_arguments", "planned_model", "train"]

#: Seconds ``tlcourse train`` plans for by default: a few minutes on a 2-core laptop.
DEFAULT_BUDGET = 240.0
#: Image sizes ``train`` accepts: Keras's MobileNets refuse inputs under 32 px; over 1024 no photo gains.
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 1024


def check_arguments(*, budget: float = DEFAULT_BUDGET, image_size: int | None = None,
                    fine_tune_epochs: int | None = None, max_per_class: int | None = None, seed: int = 42) -> None:
    """Refuse, in one message, every setting of :func:`train` that is out of range, before any work.

    Examples
    --------
    >>> check_arguments(budget=float("nan"), image_size=7)
    Traceback (most recent call last):
    ...
    ValueError: budget must be a positive number of seconds, not nan; image_size must be ...
    """
    problems = []
    if not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget <= 0:
        problems.append(f"budget must be a positive number of seconds, not {budget}")
    if image_size is not None and not MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE:
        problems.append(f"image_size must be from {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE} pixels (the ImageNet "
                        f"bases need at least {MIN_IMAGE_SIZE}), not {image_size}")
    if fine_tune_epochs is not None and fine_tune_epochs < 0:
        problems.append(f"fine_tune_epochs must be 0 (no fine-tuning) or more, not {fine_tune_epochs}")
    if max_per_class is not None and max_per_class < 1:
        problems.append(f"max_per_class must be 1 or more, not {max_per_class}")
    if not 0 <= seed < 2**32:
        problems.append(f"seed must be from 0 to 2**32 - 1, not {seed}")
    if problems:
        raise ValueError("; ".join(problems))


def planned_model(audit: Any, splits: Any, *, budget: float, base_name: str = "mobilenet_v2",
                  alpha: float | None = 0.35, image_size: int | None = None, fine_tune_epochs: int | None = None,
                  seed: int = 42, verbose: bool = False) -> tuple[Any, Any, ModelParts, Plan, Speed]:
    """Ask validation which image size pays, time this machine at that size, and plan the rest of the budget.

    Returns ``(model, base, parts, plan, speed)``. A linear probe (:mod:`~tlcourse_cli.capstone.budget`) may
    overrule the size the photos' pixels suggest; that size caps the plan, and the probe's seconds come off
    the budget. ``image_size`` (which skips the probe) and ``fine_tune_epochs`` fix what the plan would
    choose. The generators are seeded with ``seed`` after the probe, so the model trains the same whether
    the probe chose its size or ``image_size`` fixed it.

    Examples
    --------
    >>> model, base, parts, plan, speed = planned_model(audit, splits, budget=120)  # doctest: +SKIP
    """
    start = time.perf_counter()
    guess = largest_useful_size(audit.sizes)
    correct = {} if image_size else probe_sizes(splits, base_name=base_name, alpha=alpha,
                                                sizes=tuple(sorted({224, 160, guess}, reverse=True)))
    size = image_size or choose_size(correct, guess)
    spent = time.perf_counter() - start  # the probe's seconds come off the budget
    keras.utils.set_random_seed(seed)  # what the probe drew from the generators does not change the training
    n_classes = len(audit.class_names)
    model, base = build_model(n_classes, image_size=size, base_name=base_name, alpha=alpha)
    parts = split_model(model, base, base_name)
    speed = measure_speed(parts.bottom, parts.head, splits.train.files, image_size=size)
    plan = plan_run({name: len(f) for name, f in splits.items()}, speed, budget - spent, largest=size)
    plan.budget_s, plan.guess = budget, guess
    plan.probe = {k: float(np.mean(v)) for k, v in correct.items()}
    plan.estimate_s += spent
    if fine_tune_epochs is not None:
        plan.epochs = fine_tune_epochs
        plan.learning_rates = plan.learning_rates or LEARNING_RATES[:1]
    if image_size is not None:
        plan.image_size = image_size
    elif plan.image_size != size:  # a smaller size fits the budget: the model again at that size
        model, base = build_model(n_classes, image_size=plan.image_size, base_name=base_name, alpha=alpha)
        parts = split_model(model, base, base_name)
    return model, base, parts, plan, speed


def train(
    folder: str | Path,
    out_dir: str | Path,
    *,
    profile: Any = None,
    seed: int = 42,
    budget: float = DEFAULT_BUDGET,
    image_size: int | None = None,
    fine_tune_epochs: int | None = None,
    max_per_class: int | None = None,
    verbose: int = 1,
) -> dict[str, Any]:
    """Audit, baseline, feature extraction and LP-FT on ``folder`` within ``budget`` seconds; save to ``out_dir``.

    Writes ``model.keras`` (the better transfer stage on validation), ``classes.json``, ``report.json`` and
    ``splits.json`` (which photos trained, chose and tested the model);
    returns the report. ``profile`` (a :class:`~tlcourse.runtime.Profile` or its name, default the active
    one) sets the base and batch size; ``max_per_class`` caps the photos of each class in training and
    validation, never in test. Raises :class:`FolderError`, :class:`ModelFolderError` (for ``out_dir``,
    checked first) or ``ValueError`` (:func:`check_arguments`) with nothing written. ``verbose``: 0 prints
    nothing, 1 each stage and a line of validation accuracies for each fine-tuning rate, 2 also Keras's line
    for each epoch.

    Examples
    --------
    >>> report = train(dataset_path("hymenoptera"), "outputs/capstone")  # doctest: +SKIP
    >>> sorted(report["test_accuracy"])  # doctest: +SKIP
    ['baseline', 'feature_extraction', 'fine_tuning']
    """

    def say(msg: str) -> None:
        if verbose:
            print(msg, flush=True)

    check_arguments(budget=budget, image_size=image_size, fine_tune_epochs=fine_tune_epochs,
                    max_per_class=max_per_class, seed=seed)
    out_dir = check_out_dir(out_dir)  # before the training it would waste: a file, a full folder, no permission
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    if profile is None or isinstance(profile, str):
        profile = runtime.active_profile(profile)

    say(f"[1/6] auditing {folder} ...")
    audit = audit_folder(folder)
    say(audit.summary())
    splits = make_splits(audit, seed=seed, max_per_class=max_per_class)
    say(splits.summary())
    counts = {name: len(f) for name, f in splits.items()}
    seconds["audit"] = round(time.perf_counter() - t0, 1)

    t = time.perf_counter()
    model, base, parts, plan, speed = planned_model(audit, splits, budget=budget, base_name=profile.base_model,
                                                    alpha=profile.base_alpha, image_size=image_size,
                                                    fine_tune_epochs=fine_tune_epochs, seed=seed, verbose=verbose)
    seconds["plan"] = round(time.perf_counter() - t, 1)
    say(f"[2/6] {plan}\n      measured at {speed.image_size} px: {speed.bottom:.0f} photos/s through the frozen bottom, "
        f"{speed.head_train:.0f}/s training the top")

    say(f"[3/6] caching the frozen bottom of {profile.base_model} (alpha {profile.base_alpha}) "
        f"at {plan.image_size} px ...")
    cache = cache_splits(parts.bottom, splits, image_size=plan.image_size, batch_size=profile.batch_size)
    seconds["cache"] = round(cache.seconds, 1)
    for path, reason in cache.skipped:
        say(f"      skipped {path}: {reason}")
    say(f"      {sum(counts.values()) + counts['train']} photos in {cache.seconds:.1f} s ({cache.megabytes:.0f} MB)")

    say("[4/6] baseline (logistic regression on 16x16 thumbnails) and feature extraction ...")
    base_res = baseline(cache)
    fe = feature_extraction(parts.head, parts.pooled, cache, seed=seed, verbose=int(verbose))
    seconds["baseline"], seconds["feature_extraction"] = round(base_res.seconds, 1), round(fe.seconds, 1)
    say(f"      {base_res}\n      {fe}")
    stages = [base_res, fe]

    saved = "feature_extraction"
    if plan.epochs:
        say(f"[5/6] fine-tuning the top of the base (LP-FT), up to {plan.epochs} epoch(s) a rate ...")
        ft = fine_tune(parts.head, parts.top, cache, epochs=plan.epochs, learning_rates=plan.learning_rates,
                       batch_size=profile.batch_size, seed=seed, previous=fe, verbose=2 if verbose > 1 else 0)
        seconds["fine_tuning"] = round(ft.seconds, 1)
        for lr in plan.learning_rates:
            say(f"      rate {lr:g}, validation accuracy by epoch: "
                + " ".join(f"{a:.3f}" for a in ft.history[f"val_accuracy@{lr:g}"]))
        kept = bool(ft.history["kept"][0])
        saved = "fine_tuning" if kept else saved
        say(f"      {ft}" + (f" (rate {ft.history['learning_rate'][0]:g}, epoch {ft.history['epoch'][0]:.0f})"
                             if kept else "  (no better than feature extraction on validation: kept those weights)"))
        stages.append(ft)
    else:
        say("[5/6] no fine-tuning: " + "; ".join(plan.notes))

    say(f"[6/6] saving to {out_dir} ...")
    seconds["total"] = round(time.perf_counter() - t0, 1)
    report = _report(audit, splits, stages, plan, seconds, saved, profile, seed, folder)
    report["skipped_files"] += len(cache.skipped)
    save(model, audit.class_names, out_dir, report, splits.to_json())
    say("test accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in report["test_accuracy"].items())
        + f" on {counts['test']} test photos")
    say(f"wrote {Path(out_dir) / MODEL_FILE}, {CLASSES_FILE}, {REPORT_FILE}, {SPLITS_FILE} in {seconds['total']:.0f} s")
    return report


def _report(audit: Any, splits: Any, stages: list[Any], plan: Plan, seconds: dict[str, float], saved: str,
            profile: Any, seed: int, folder: str | Path) -> dict[str, Any]:
    return {
        "classes": list(audit.class_names),
        "test_accuracy": {r.name: round(r.test_accuracy, 4) for r in stages},
        "val_accuracy": {r.name: round(float(r.val_accuracy), 4) for r in stages},
        "seconds": seconds,
        "saved_stage": saved,
        "plan": {"image_size": plan.image_size, "epochs": plan.epochs, "learning_rates": list(plan.learning_rates),
                 "estimate_s": round(plan.estimate_s, 1), "budget_s": plan.budget_s, "notes": plan.notes,
                 "probe_validation_accuracy": {str(k): round(v, 4) for k, v in plan.probe.items()}},
        "folder": str(Path(folder).resolve()),
        "layout": audit.layout,
        "split_sizes": {name: len(f) for name, f in splits.items()},
        "split_notes": splits.notes,
        "skipped_files": len(audit.skipped),
        "duplicates_removed": sum(len(g) - 1 for g in audit.duplicates),
        "profile": profile.name,
        "base_model": profile.base_model,
        "base_alpha": profile.base_alpha,
        "image_size": plan.image_size,
        "seed": seed,
    }
