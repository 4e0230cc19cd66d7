"""``python -m grader`` is the ``grade`` command."""
import sys

from .cli.main import main

sys.exit(main())
