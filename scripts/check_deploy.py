"""`manage.py check --deploy --fail-level WARNING` with production settings (as a deployment sets them)."""

import os
import subprocess
import sys

env = {
    key: value
    for key, value in os.environ.items()
    if key not in {"DEBUG", "AUTH_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "REFUJE_TESTING"}
}
env.update(
    {
        "DEBUG": "false",
        "SECRET_KEY": "deploy-check-" + "k" * 60,
        "ALLOWED_HOSTS": "refuje.example",
        "OTP_PROVIDER": "authentica",
        "AUTHENTICA_API_KEY": "deploy-check-key",
        "MOYASAR_SECRET_KEY": "sk_test_deploy_check",
        "MOYASAR_PUBLISHABLE_KEY": "pk_test_deploy_check",
        "MOYASAR_WEBHOOK_SECRET": "deploy-check-webhook-secret",
        "DATABASE_URL": env.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    }
)
sys.exit(
    subprocess.call(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
    )
)
