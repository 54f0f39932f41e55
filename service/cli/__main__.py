"""`python -m service.cli`: the `oms` command."""

import sys

from service.cli import main

sys.exit(main())
