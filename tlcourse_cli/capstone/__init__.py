"""The capstone: transfer learning on a folder of your own photos, from audit to ``predict``.

What ``tlcourse audit``, ``train`` and ``predict`` do, with lesson 06's recipe (``tlcourse.recipe``). It meets
data nobody has seen, so it checks before it trains and says what is wrong in words a learner can act on.
One module a step: ``audit``, ``splits``, ``budget``, ``cache``, ``stages`` (baseline, feature extraction,
LP-FT) and ``saving``; :func:`train` (in ``run``) does it all in one call.
"""

from tlcourse_cli.capstone.audit import MIN_PER_CLASS, SPLIT_NAMES, Audit, FolderError, audit_folder
from tlcourse_cli.capstone.budget import Plan, Speed, choose_size, largest_useful_size, measure_speed, plan_run, probe_sizes
from tlcourse_cli.capstone.cache import Cache, CachedSplit, ModelParts, cache_splits, split_model
from tlcourse_cli.capstone.run import DEFAULT_BUDGET, check_arguments, planned_model, train
from tlcourse_cli.capstone.saving import (
    CLASSES_FILE,
    MODEL_FILE,
    REPORT_FILE,
    SPLITS_FILE,
    ModelFolderError,
    Prediction,
    check_out_dir,
    load,
    predict,
    save,
)
from tlcourse_cli.capstone.splits import Splits, make_splits
from tlcourse_cli.capstone.stages import (
    StageResult,
    baseline,
    build_model,
    feature_extraction,
    fine_tune,
    predict_proba,
)

__all__ = [
    "CLASSES_FILE",
    "DEFAULT_BUDGET",
    "MIN_PER_CLASS",
    "MODEL_FILE",
    "REPORT_FILE",
    "SPLITS_FILE",
    "SPLIT_NAMES",
    "Audit",
    "Cache",
    "CachedSplit",
    "ModelParts",
    "Plan",
    "Speed",
    "FolderError",
    "ModelFolderError",
    "Prediction",
    "Splits",
    "StageResult",
    "audit_folder",
    "baseline",
    "choose_size",
    "build_model",
    "cache_splits",
    "check_arguments",
    "check_out_dir",
    "feature_extraction",
    "fine_tune",
    "largest_useful_size",
    "load",
    "make_splits",
    "measure_speed",
    "plan_run",
    "planned_model",
    "predict",
    "predict_proba",
    "probe_sizes",
    "save",
    "split_model",
    "train",
]
