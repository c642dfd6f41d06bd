"""`python -m clicktrail.cli`: the `clicktrail` command, for tests and images without the script."""

from __future__ import annotations

import sys

from clicktrail.cli.main import main

sys.exit(main())
