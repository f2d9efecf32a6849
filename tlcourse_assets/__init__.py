"""Where the course's assets live: data sets, ImageNet weights, the text model.

What the course needs (``datasets``, ``weights``, ``text_model``), verified downloads (``files``) and the
errors that say what is missing (``errors``). It imports only :mod:`tlcourse.settings`; the library the
lessons read, :mod:`tlcourse`, re-exports what a lesson calls (``data.dataset_path``, ``models.base_spec``).
"""
