"""The bundled application's entry: the same as the ``incident-console`` command."""

import sys

from console.cli import main

sys.exit(main())
