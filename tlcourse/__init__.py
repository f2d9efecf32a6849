"""tlcourse: helpers for a hands-on course on transfer learning with TensorFlow/Keras.

The notebooks call ``tlcourse.setup()`` once, then use the modules by name:
``tlcourse.data``, ``tlcourse.models``, ``tlcourse.features``, ``tlcourse.plots``, ...
Importing the package does nothing else: TensorFlow is imported when first used.

The modules are layered (``settings`` at the bottom, then ``assets``, the lessons'
libraries, and ``capstone``, ``cli`` and ``exercises`` at the top); tlcourse/README.md
says what each holds and what it may import.
"""

from tlcourse.runtime import Profile, SetupReport, active_profile, setup

__all__ = ["Profile", "SetupReport", "active_profile", "setup", "__version__"]
__version__ = "0.1.0"
