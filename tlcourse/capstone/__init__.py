"""The capstone: transfer learning on a folder of your own photos, from audit to ``predict``.

Introduced in 06_capstone_your_own_data, and the code behind the ``tlcourse train``
and ``tlcourse predict`` commands. It is the code that meets data nobody has seen,
so it checks before it trains and says what is wrong in words a learner can act on.

The recipe, each stage evaluated on the held-out test split:

1. :func:`audit_folder`: classes, counts, image sizes, unreadable, non-image and
   duplicate files, class imbalance; a :class:`FolderError` for a folder that is wrong.
2. :func:`make_splits`: train/validation/test, from the folder's own splits where
   it has them (``train``, ``val``/``validation``, ``test``), seeded and stratified otherwise.
3. :func:`plan_run`: the image size and epochs that fit a time budget, measured here;
   :func:`build_model`: lesson 06's :func:`tlcourse.recipe.classifier` on the chosen base;
   :func:`cache_splits`: the frozen bottom of the base run once over every photo.
4. :func:`baseline`: logistic regression on 16x16 colour thumbnails, no pretraining;
   :func:`feature_extraction`: the softmax head fitted on the pooled features.
5. :func:`fine_tune`: LP-FT, lesson 06's :func:`tlcourse.recipe.fine_tune` on the cached
   activations (the top of the base and the head at a low rate), rate and epoch chosen on validation.
6. :func:`save` / :func:`load` / :func:`predict`: a ``.keras`` file that holds its own
   preprocessing (a ``Rescaling`` layer, no ``Lambda``), so it loads in Keras's safe
   mode and classifies a raw image file.

Folder layouts: ``folder/<class>/*`` or ``folder/<split>/<class>/*``.

One module a step: :mod:`~tlcourse.capstone.audit`, :mod:`~tlcourse.capstone.splits`,
:mod:`~tlcourse.capstone.budget`, :mod:`~tlcourse.capstone.cache`, :mod:`~tlcourse.capstone.stages`,
:mod:`~tlcourse.capstone.review` (confusion
matrices, worst mistakes), :mod:`~tlcourse.capstone.saving`, and
:mod:`~tlcourse.capstone.run` (:func:`train`, all of it in one call). The
command line (``tlcourse train FOLDER --out DIR``, ``tlcourse predict DIR
IMAGE...``) is :mod:`tlcourse.cli`.
"""

from tlcourse.capstone.audit import MIN_PER_CLASS, SPLIT_NAMES, Audit, FolderError, audit_folder
from tlcourse.capstone.budget import Plan, Speed, choose_size, largest_useful_size, measure_speed, plan_run, probe_sizes
from tlcourse.capstone.cache import Cache, CachedSplit, ModelParts, cache_splits, split_model
from tlcourse.capstone.review import show_stage, worst_mistakes
from tlcourse.capstone.run import DEFAULT_BUDGET, check_arguments, planned_model, train
from tlcourse.capstone.saving import (
    CLASSES_FILE,
    MODEL_FILE,
    REPORT_FILE,
    ModelFolderError,
    Prediction,
    check_out_dir,
    load,
    predict,
    save,
)
from tlcourse.capstone.splits import Splits, make_splits
from tlcourse.capstone.stages import (
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
    "show_stage",
    "split_model",
    "train",
    "worst_mistakes",
]
