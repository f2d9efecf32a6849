"""The capstone: transfer learning on a folder of your own photos, from audit to ``predict``.

Introduced in 06_capstone_your_own_data, and the code behind the ``tlcourse train``
and ``tlcourse predict`` commands. It is the code that meets data nobody has seen,
so it checks before it trains and says what is wrong in words a learner can act on.

The recipe, each stage evaluated on the held-out test split:

1. :func:`audit_folder`: classes, counts, image sizes, unreadable, non-image and
   duplicate files, class imbalance; a :class:`FolderError` for a folder that is wrong.
2. :func:`make_splits`: train/validation/test, from the folder's own splits where
   it has them (``train``, ``val``/``validation``, ``test``), seeded and stratified otherwise.
3. :func:`baseline`: logistic regression on 16x16 colour thumbnails, no pretraining.
4. :func:`feature_extraction`: a frozen ImageNet base, a softmax head trained on its
   cached features.
5. :func:`fine_tune`: the top of the base unfrozen, a low learning rate, augmentation.
6. :func:`save` / :func:`load` / :func:`predict`: a ``.keras`` file that holds its own
   preprocessing (a ``Rescaling`` layer, no ``Lambda``), so it loads in Keras's safe
   mode and classifies a raw image file.

Folder layouts: ``folder/<class>/*`` or ``folder/<split>/<class>/*``.

One module a step: :mod:`~tlcourse.capstone.audit`, :mod:`~tlcourse.capstone.splits`,
:mod:`~tlcourse.capstone.stages`, :mod:`~tlcourse.capstone.review` (confusion
matrices, worst mistakes), :mod:`~tlcourse.capstone.saving`, and
:mod:`~tlcourse.capstone.recipe` (:func:`train`, all of it in one call). The
command line (``tlcourse train FOLDER --out DIR``, ``tlcourse predict DIR
IMAGE...``) is :mod:`tlcourse.cli`.
"""

from tlcourse.capstone.audit import MIN_PER_CLASS, SPLIT_NAMES, Audit, FolderError, audit_folder
from tlcourse.capstone.recipe import train
from tlcourse.capstone.review import show_stage, worst_mistakes
from tlcourse.capstone.saving import CLASSES_FILE, MODEL_FILE, REPORT_FILE, Prediction, load, predict, save
from tlcourse.capstone.splits import Splits, load_split_images, make_splits
from tlcourse.capstone.stages import (
    RESCALE,
    StageResult,
    augmentation,
    baseline,
    build_model,
    feature_extraction,
    fine_tune,
    predict_proba,
)

__all__ = [
    "CLASSES_FILE",
    "MIN_PER_CLASS",
    "MODEL_FILE",
    "REPORT_FILE",
    "RESCALE",
    "SPLIT_NAMES",
    "Audit",
    "FolderError",
    "Prediction",
    "Splits",
    "StageResult",
    "audit_folder",
    "augmentation",
    "baseline",
    "build_model",
    "feature_extraction",
    "fine_tune",
    "load",
    "load_split_images",
    "make_splits",
    "predict",
    "predict_proba",
    "save",
    "show_stage",
    "train",
    "worst_mistakes",
]
