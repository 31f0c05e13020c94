import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]


def run_check_deploy(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **overrides}
    return subprocess.run(
        [sys.executable, "scripts/check_deploy.py"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_at_warning_level_with_production_settings():
    result = run_check_deploy()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_deploy_check_fails_on_a_production_setting_that_weakens_security():
    result = run_check_deploy(SECURE_HSTS_SECONDS="0")

    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
