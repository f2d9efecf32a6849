"""tlcourse: helpers for a hands-on course on transfer learning with TensorFlow/Keras.

The notebooks call ``tlcourse.setup()`` once, then use the modules by name:
``tlcourse.data``, ``tlcourse.models``, ``tlcourse.features``, ``tlcourse.plots``, ...

Importing the package does one thing: :func:`tlcourse.settings.quiet_native_logs`,
so that TensorFlow's C++ and absl log lines (CUDA probing, oneDNN) do not reach
the learner when TensorFlow is first imported, by the package or anyone else
(``TF_CPP_MIN_LOG_LEVEL`` set beforehand wins; ``0`` shows everything). It
imports no TensorFlow: each function imports what it needs when first called.
Import ``tlcourse`` before ``keras`` and ``tensorflow`` for this to work.

The modules are layered (``settings`` at the bottom, then ``assets``, the lessons'
libraries, and ``capstone``, ``cli`` and ``exercises`` at the top); tlcourse/README.md
says what each holds and what it may import.
"""

from tlcourse import settings

settings.quiet_native_logs()

from tlcourse.runtime import Profile, SetupReport, active_profile, setup  # noqa: E402

__all__ = ["Profile", "SetupReport", "active_profile", "setup", "__version__"]
__version__ = "0.1.0"
