"""``python -m ogi`` is the ``ogi`` command."""

import sys

from ogi.cli import main

sys.exit(main())
