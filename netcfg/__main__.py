"""``python -m netcfg``: the command line."""

import sys

from netcfg.cli import main

sys.exit(main())
