"""``python -m cds_service.cli``: the ``crs-cds`` command."""
import sys

from .main import main

sys.exit(main())
