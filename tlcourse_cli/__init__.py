"""The ``tlcourse`` command: ``doctor``, ``fetch``, ``audit``, ``train``, ``predict``.

An application over the course's library (``tlcourse``), which the lessons run as a command and never
import: ``capstone`` is what ``tlcourse train`` does to a folder of photos (audit, splits, a plan for the
time budget, the cache, the stages, saving), ``doctor`` what ``tlcourse doctor`` and ``fetch`` check
and copy, ``cli`` the command line over both.
"""
