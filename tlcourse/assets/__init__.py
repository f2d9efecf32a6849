"""Where the course's assets live: data sets, ImageNet weights, the text model.

What the course needs (``datasets``, ``weights``, ``text_model``), verified downloads (``files``) and the
errors that say what is missing (``errors``). This layer imports only :mod:`tlcourse.settings`; the
lessons' libraries re-export what a lesson needs (``data.dataset_path``, ...).
"""
