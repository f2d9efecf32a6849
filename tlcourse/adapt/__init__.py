"""Unsupervised domain adaptation in Keras 3: from labelled *source* data to unlabelled *target* data.

- AdaBN (Li et al. 2016): re-estimate every BatchNormalization layer's statistics on target images (:func:`adabn`).
- Deep CORAL (Sun & Saenko 2016): add the distance between the source and target feature covariances to the
  loss (:func:`coral_loss`, :class:`DeepCORAL`); :func:`coral_align` is its closed form on fixed features.
- DANN (Ganin et al. 2016): a gradient reversal layer trains the features to fool a domain classifier
  (:class:`GradientReversal`, :class:`DANN`).

Source and target batches go through the network separately, so each BatchNormalization layer normalises
each domain with its own statistics (one concatenated batch did clearly worse on MNIST -> USPS).
"""

from __future__ import annotations

from tlcourse.adapt.batchnorm import adabn, with_own_statistics
from tlcourse.adapt.layers import GradientReversal
from tlcourse.adapt.losses import coral_align, coral_loss, dann_schedule
from tlcourse.adapt.models import DANN, DeepCORAL
from tlcourse.adapt.streams import accuracy, correct, domain_dataset

__all__ = [
    "DANN",
    "DeepCORAL",
    "GradientReversal",
    "accuracy",
    "adabn",
    "coral_align",
    "coral_loss",
    "correct",
    "dann_schedule",
    "domain_dataset",
    "with_own_statistics",
]
