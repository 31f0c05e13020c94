"""Import the settings in a fresh interpreter, to test start-up checks that stop the process."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def import_settings(*, drop_prefixes: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess[str]:
    """`import config.settings` with this environment, minus variables starting with `drop_prefixes`,
    plus `env`. The result carries the exit code and the traceback (stderr)."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(drop_prefixes)}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env={**base, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
