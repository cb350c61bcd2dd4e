"""`python -m ingest.sample`: writes the sample mirror."""

import sys

from ingest.sample.mirror import main

sys.exit(main())
