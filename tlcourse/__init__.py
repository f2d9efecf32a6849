"""tlcourse: helpers for a hands-on course on transfer learning with TensorFlow/Keras.

The notebooks call ``tlcourse.setup()`` once, then use the modules by name (``tlcourse.data``,
``tlcourse.models``, ...). Importing the package imports no TensorFlow, so ``tlcourse --help`` is quick.
tlcourse/README.md says what each module holds and what it may import.
"""

__version__ = "0.1.0"  # the one home of the course's version: pyproject.toml, CITATION.cff and the site read it

from tlcourse.runtime import Profile, SetupReport, active_profile, setup  # noqa: E402 - after the version

__all__ = ["Profile", "SetupReport", "active_profile", "setup", "__version__"]
