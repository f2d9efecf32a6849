"""``python -m tlcourse ...``: the ``tlcourse`` command without its script on the PATH."""

import sys

from tlcourse_cli.cli import main

sys.exit(main())
