"""``python -m services.file_processor``: the local runner (long-polls the S3 notification queue)."""

from __future__ import annotations

import sys

from services.file_processor.runner import main

sys.exit(main())
