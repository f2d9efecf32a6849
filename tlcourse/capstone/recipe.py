"""The whole capstone recipe in one call, :func:`train`: what ``tlcourse train`` runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tlcourse import runtime
from tlcourse.capstone.audit import audit_folder
from tlcourse.capstone.saving import CLASSES_FILE, MODEL_FILE, REPORT_FILE, save
from tlcourse.capstone.splits import load_split_images, make_splits
from tlcourse.capstone.stages import baseline, build_model, feature_extraction, fine_tune

__all__ = ["train"]


def train(
    folder: str | Path,
    out_dir: str | Path,
    *,
    profile: Any = None,
    seed: int = 42,
    fine_tune_epochs: int | None = None,
    image_size: int | None = None,
    max_per_class: int | None | str = "profile",
    verbose: bool = True,
) -> dict[str, Any]:
    """Audit, baseline, feature extraction and fine-tuning on ``folder``; save to ``out_dir``.

    The steps of 06_capstone_your_own_data without Jupyter (``tlcourse train``).
    Writes ``model.keras`` (the better of the two transfer stages on validation
    accuracy), ``classes.json`` and ``report.json``; returns the report.

    Parameters
    ----------
    profile
        A :class:`tlcourse.runtime.Profile` or its name; default the active one.
    fine_tune_epochs, image_size
        Override the profile's values.
    max_per_class
        ``"profile"`` (the profile's cap), ``None`` (everything) or a number.

    Raises
    ------
    FolderError
        If the folder cannot be used (nothing is trained, nothing written).

    Examples
    --------
    >>> report = train(dataset_path("hymenoptera"), "outputs/capstone")  # doctest: +SKIP
    >>> sorted(report["test_accuracy"])  # doctest: +SKIP
    ['baseline', 'feature_extraction', 'fine_tuning']
    """
    def say(msg: str) -> None:
        if verbose:
            print(msg, flush=True)

    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    if profile is None or isinstance(profile, str):
        profile = runtime.active_profile(profile)
    size = image_size or profile.image_size
    cap = profile.max_per_class if max_per_class == "profile" else max_per_class

    say(f"[1/5] auditing {folder} ...")
    audit = audit_folder(folder)
    say(audit.summary())
    splits = make_splits(audit, seed=seed, max_per_class=cap)
    say(splits.summary())
    arrays = load_split_images(splits, image_size=size)
    seconds["audit"] = round(time.perf_counter() - t0, 1)

    say("[2/5] baseline: logistic regression on 16x16 thumbnails ...")
    base_res = baseline(arrays)
    seconds["baseline"] = round(base_res.seconds, 1)
    say(f"      {base_res}")

    say(f"[3/5] feature extraction: frozen {profile.base_model} (alpha {profile.base_alpha}), {size} px ...")
    model, base = build_model(len(audit.class_names), image_size=size, base_name=profile.base_model,
                              alpha=profile.base_alpha, verbose=verbose)
    fe = feature_extraction(model, arrays, seed=seed, verbose=int(verbose))
    seconds["feature_extraction"] = round(fe.seconds, 1)
    say(f"      {fe}")

    ft_epochs = fine_tune_epochs or profile.fine_tune_epochs
    say(f"[4/5] fine-tuning the top of the base, {ft_epochs} epoch(s) ...")
    ft = fine_tune(model, base, arrays, epochs=ft_epochs, batch_size=profile.batch_size, seed=seed,
                   previous=fe, verbose=2 if verbose else 0)
    seconds["fine_tuning"] = round(ft.seconds, 1)
    kept = bool(ft.history["kept"][0])
    say(f"      {ft}" + ("" if kept else "  (no better than feature extraction on validation: kept those weights)"))

    say(f"[5/5] saving to {out_dir} ...")
    seconds["total"] = round(time.perf_counter() - t0, 1)
    report = {
        "classes": list(audit.class_names),
        "test_accuracy": {r.name: round(r.test_accuracy, 4) for r in (base_res, fe, ft)},
        "val_accuracy": {r.name: round(float(r.val_accuracy), 4) for r in (base_res, fe, ft)},
        "seconds": seconds,
        "saved_stage": "fine_tuning" if kept else "feature_extraction",
        "folder": str(Path(folder).resolve()),
        "layout": audit.layout,
        "split_sizes": {name: len(f) for name, f in splits.items()},
        "split_notes": splits.notes,
        "skipped_files": len(audit.skipped),
        "duplicates_removed": sum(len(g) - 1 for g in audit.duplicates),
        "profile": profile.name,
        "base_model": profile.base_model,
        "base_alpha": profile.base_alpha,
        "image_size": size,
        "seed": seed,
    }
    save(model, audit.class_names, out_dir, report)
    say("test accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in report["test_accuracy"].items()))
    say(f"wrote {Path(out_dir) / MODEL_FILE}, {CLASSES_FILE}, {REPORT_FILE} in {seconds['total']:.0f} s")
    return report
