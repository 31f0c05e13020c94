"""The project's settings for benchmark runs: the same configuration from the environment, plus a
URLconf that adds the bare reference view next to the real API.

`BENCH_DB_POOL=1` swaps persistent connections for psycopg's connection pool, to compare the two
ways of serving the ASGI app (a pool cannot be combined with CONN_MAX_AGE).
"""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

ROOT_URLCONF = "bench.bare_urls"

if os.environ.get("BENCH_DB_POOL", "") == "1":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {"min_size": 4, "max_size": int(os.environ.get("BENCH_DB_POOL_SIZE", "16")), "timeout": 10},
    }
