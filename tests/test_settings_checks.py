"""Start-up checks: a provider that is switched on but misconfigured stops the process with a
message naming what to set. Each case imports the settings in a fresh interpreter."""

from __future__ import annotations

import pytest

from refuje.common.testing import settings_import

PROVIDER_PREFIXES = ("OTP_", "NOTIFICATION_", "PAYMENT_", "MOYASAR_", "AUTHENTICA_", "GUPSHUP_", "VAPID_", "PUSH_")
PRODUCTION = {"REFUJE_TESTING": "0", "DEBUG": "false", "SECRET_KEY": "s" * 60}
REAL_MESSAGING = {"OTP_PROVIDER": "authentica", "NOTIFICATION_PROVIDER": "authentica", "AUTHENTICA_API_KEY": "k"}
MOYASAR_KEYS = {"MOYASAR_SECRET_KEY": "sk_x", "MOYASAR_PUBLISHABLE_KEY": "pk_x", "MOYASAR_WEBHOOK_SECRET": "s"}


def import_settings(**env: str):
    return settings_import.import_settings(drop_prefixes=PROVIDER_PREFIXES, **env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"REFUJE_TESTING": "1", "OTP_PROVIDER": "pigeon"},
            "OTP_PROVIDER must be console, authentica or gupshup, not 'pigeon'.",
        ),
        (
            {"REFUJE_TESTING": "1", "NOTIFICATION_PROVIDER": "gupshup", "GUPSHUP_API_KEY": "k"},
            "NOTIFICATION_PROVIDER=gupshup needs GUPSHUP_SOURCE, GUPSHUP_APP_NAME.",
        ),
        (
            {"REFUJE_TESTING": "1", "PAYMENT_PROVIDER": "stripe"},
            "PAYMENT_PROVIDER must be console or moyasar, not 'stripe'.",
        ),
        (
            {"REFUJE_TESTING": "1", "PAYMENT_PROVIDER": "moyasar", "MOYASAR_SECRET_KEY": "sk_test_x"},
            "PAYMENT_PROVIDER=moyasar needs MOYASAR_PUBLISHABLE_KEY, MOYASAR_WEBHOOK_SECRET.",
        ),
        (
            {**PRODUCTION, **MOYASAR_KEYS, "OTP_PROVIDER": "console"},
            "OTP_PROVIDER=console writes sign-in codes to the log",
        ),
        (
            {**PRODUCTION, **REAL_MESSAGING, "PAYMENT_PROVIDER": "console"},
            "PAYMENT_PROVIDER=console approves every payment without charging",
        ),
        (
            {**PRODUCTION, **REAL_MESSAGING},
            "PAYMENT_PROVIDER=moyasar needs MOYASAR_SECRET_KEY, MOYASAR_PUBLISHABLE_KEY, MOYASAR_WEBHOOK_SECRET.",
        ),
    ],
)
def test_a_misconfigured_provider_stops_start_up_with_what_to_set(env, message):
    result = import_settings(**env)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_production_with_every_provider_configured_starts():
    result = import_settings(**PRODUCTION, **REAL_MESSAGING, **MOYASAR_KEYS)
    assert result.returncode == 0, result.stderr[-2000:]


def test_read_notifications_cannot_outlive_unread_ones():
    result = import_settings(REFUJE_TESTING="1", NOTIFICATION_RETENTION_DAYS="400")
    assert result.returncode != 0
    assert "NOTIFICATION_RETENTION_DAYS must be at least 1 and at most NOTIFICATION_UNREAD_RETENTION_DAYS." in (
        result.stderr
    )
