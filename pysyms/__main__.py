"""``python -m pysyms``: the same as the ``pysyms`` command."""

import sys

from .cli import main

sys.exit(main())
