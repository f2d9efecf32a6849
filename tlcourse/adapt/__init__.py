"""Unsupervised domain adaptation in Keras 3: DANN, Deep CORAL and AdaBN.

Introduced in 04_domain_adaptation. A model is trained where labels are
plentiful (the *source*) and used where they are not (the *target*); the two
distributions differ. Three ways to close the gap without target labels:

- **AdaBN** (Li et al. 2016): re-estimate every BatchNormalization layer's
  statistics on target images; no training, no labels (:func:`adabn`).
- **Deep CORAL** (Sun & Saenko 2016): add to the classification loss the
  distance between the covariances of source and target features
  (:func:`coral_loss`, :class:`DeepCORAL`); on fixed features, the
  closed-form version re-colours the source features (:func:`coral_align`).
- **DANN** (Ganin et al. 2016): a domain classifier learns to tell source
  from target features, and a gradient reversal layer makes the feature
  extractor learn to fool it (:class:`GradientReversal`, :class:`DANN`).

The domain-adaptation libraries that exist are written for PyTorch or pinned
to old TensorFlow; these are written for Keras 3 on the TensorFlow backend.
Source and target go through the network as *separate* batches, so that each
BatchNormalization layer normalises each domain with its own statistics (one
concatenated batch did clearly worse on MNIST -> USPS).

Everything is imported from here (``adapt.DANN``, ``adapt.coral_loss``); the
modules behind it are :mod:`~tlcourse.adapt.layers` (gradient reversal),
:mod:`~tlcourse.adapt.losses` (CORAL, DANN's ramp), :mod:`~tlcourse.adapt.models`
(the two-domain models), :mod:`~tlcourse.adapt.batchnorm` (AdaBN, features under each domain's own
statistics) and
:mod:`~tlcourse.adapt.streams` (training batches, accuracy). The model that
04_domain_adaptation adapts is :func:`tlcourse.scratch.digits_cnn`.
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
