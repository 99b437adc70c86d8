"""`python -m hookshot config.yml registration.yml` (hookshot's argv) or any subcommand."""

import sys

from hookshot.cli import main

sys.exit(main())
