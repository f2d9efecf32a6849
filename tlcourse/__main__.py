"""``python -m tlcourse ...``: the ``tlcourse`` command without its script on the PATH."""

import sys

from tlcourse.cli import main

sys.exit(main())
