"""``python -m credit_example STAGE``: the same as the ``credit-example`` script."""

import sys

from credit_example.cli import main

sys.exit(main())
