"""tlcourse: helpers for a hands-on course on transfer learning with TensorFlow/Keras.

The notebooks call ``tlcourse.setup()`` once, then use the modules by name:
``tlcourse.data``, ``tlcourse.models``, ``tlcourse.features``, ``tlcourse.plots``, ...

Importing the package imports no TensorFlow, so ``tlcourse --help`` and ``doctor``'s
first lines are quick; the modules may import Keras wherever they need it, and a
lesson imports ``tlcourse`` and ``keras`` in any order. TensorFlow's C++ log lines
stay out of the notebooks by the kernel's settings (``make install``), not by
anything the package does at import.

The modules are layered (``settings`` at the bottom, then ``assets``, the lessons'
libraries, and ``capstone``, ``cli`` and ``exercises`` at the top); tlcourse/README.md
says what each holds and what it may import.
"""

__version__ = "0.1.0"  # the one home of the course's version: pyproject.toml, CITATION.cff and the site read it

from tlcourse.runtime import Profile, SetupReport, active_profile, setup  # noqa: E402 - after the version

__all__ = ["Profile", "SetupReport", "active_profile", "setup", "__version__"]
