"""Where the course's assets live: data sets, ImageNet weights, the text model.

One registry of what the course needs (:mod:`~tlcourse.assets.datasets`,
:mod:`~tlcourse.assets.weights`, :mod:`~tlcourse.assets.text_model`), how to
fetch it (verified downloads, :mod:`~tlcourse.assets.files`), how to find it
offline (data folders, ``$KERAS_HOME``, the Hugging Face cache, all from
:mod:`tlcourse.settings`), and the errors that say what is missing
(:mod:`~tlcourse.assets.errors`). :mod:`~tlcourse.assets.inventory` lists it all
for ``tlcourse doctor`` and ``tlcourse fetch``.

This layer imports only :mod:`tlcourse.settings`; the lessons' libraries
(``data``, ``models``, ``text``, ...) build on it and re-export what a lesson
needs (``data.dataset_path``, ``models.WeightsNotAvailableError``, ...).
"""
