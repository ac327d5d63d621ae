"""`python -m papercite.server.cli` (how editors start the server with a chosen interpreter)."""

import sys

from papercite.server.cli.main import main

sys.exit(main())
