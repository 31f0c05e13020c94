"""VAPID keys: the management command, the key forms we accept, and misconfiguration messages."""

from __future__ import annotations

import base64
import json
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from pywebpush import webpush

from refuje.common.testing.factories import UserFactory
from refuje.common.testing.settings_import import import_settings
from refuje.providers.fakes.push import FakePushService
from refuje.push.services import push_config, push_send_to_user, push_subscription_upsert
from refuje.push.vapid import b64url_encode, generate_key_pair, load_private_key, public_key_b64, settings_problems

SUBJECT = "mailto:ops@refuje.example"


def generated_env_lines() -> dict[str, str]:
    out = StringIO()
    call_command("vapid_keys", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"]
    return dict(line.split("=", 1) for line in lines)


def test_the_command_prints_a_pair_browsers_and_pywebpush_accept():
    env = generated_env_lines()
    public, private = env["VAPID_PUBLIC_KEY"], env["VAPID_PRIVATE_KEY"]
    assert len(public) == 87
    assert len(private) == 43
    point = public.encode() + b"=" * (-len(public) % 4)
    raw_point = base64.urlsafe_b64decode(point)
    assert len(raw_point) == 65  # applicationServerKey: an uncompressed point
    assert raw_point[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw_point)
    assert settings_problems(public_key=public, private_key=private, subject=SUBJECT) == []
    assert public_key_b64(load_private_key(private).private_key) == public


def test_two_runs_print_different_pairs():
    assert generated_env_lines() != generated_env_lines()


def test_pywebpush_sends_with_the_printed_private_key_string():
    env = generated_env_lines()
    with FakePushService(application_server_key=env["VAPID_PUBLIC_KEY"]) as fake:
        client = fake.subscribe()
        response = webpush(
            subscription_info=client.to_json(),
            data=json.dumps({"title": "hi"}),
            vapid_private_key=env["VAPID_PRIVATE_KEY"],  # the string, exactly as it goes in the environment
            vapid_claims={"sub": SUBJECT},
            ttl=60,
            timeout=5,
        )
        assert getattr(response, "status_code", None) == 201
        (message,) = fake.received
        assert message.json == {"title": "hi"}


@pytest.mark.django_db
def test_a_deployment_configured_from_the_command_output_delivers(settings):
    env = generated_env_lines()
    settings.VAPID_PUBLIC_KEY = env["VAPID_PUBLIC_KEY"]
    settings.VAPID_PRIVATE_KEY = env["VAPID_PRIVATE_KEY"]
    settings.VAPID_SUBJECT = SUBJECT
    settings.PUSH_ALLOW_INSECURE_ENDPOINTS = True
    user = UserFactory.create()
    with FakePushService(application_server_key=env["VAPID_PUBLIC_KEY"]) as fake:
        client = fake.subscribe()
        push_subscription_upsert(user=user, endpoint=client.endpoint, p256dh=client.p256dh, auth=client.auth)
        assert push_send_to_user(user, {"title": "مرحبا"}) == 1
        assert fake.received[0].json == {"title": "مرحبا"}


@pytest.mark.parametrize("form", ["raw", "der", "pem", "pem-escaped"])
def test_private_key_forms(form):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    value = {
        "raw": b64url_encode(key.private_numbers().private_value.to_bytes(32, "big")),
        "der": b64url_encode(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        "pem": pem,
        "pem-escaped": pem.replace("\n", "\\n"),  # one-line environment variables
    }[form]
    assert public_key_b64(load_private_key(value).private_key) == public_key_b64(key)


@pytest.mark.parametrize(
    "value",
    ["", "/etc/refuje/vapid.pem", "not-a-key", b64url_encode(b"\x00" * 32), b64url_encode(b"\xff" * 32)],
)
def test_unusable_private_keys_are_refused_with_a_reason(value):
    with pytest.raises(ValueError, match="VAPID_PRIVATE_KEY"):
        load_private_key(value)


def test_a_private_key_file_path_is_not_read_or_created(tmp_path: Path):
    missing = tmp_path / "vapid.pem"
    with pytest.raises(ValueError, match="VAPID_PRIVATE_KEY"):
        load_private_key(str(missing))
    assert not missing.exists()  # py_vapid's from_file would have generated and saved one


def _problems(**overrides: str) -> list[str]:
    pair = generate_key_pair()
    values = {"public_key": pair.public_key, "private_key": pair.private_key, "subject": SUBJECT, **overrides}
    return settings_problems(**values)


def test_settings_problems():
    other = generate_key_pair()
    compressed = b64url_encode(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    )
    assert _problems() == []
    assert settings_problems(public_key="", private_key="", subject="") == []  # push is simply off
    assert _problems(private_key="") == [
        "Web push needs both VAPID keys; VAPID_PRIVATE_KEY is empty (generate a pair with `manage.py vapid_keys`)."
    ]
    assert _problems(public_key="") == [
        "Web push needs both VAPID keys; VAPID_PUBLIC_KEY is empty (generate a pair with `manage.py vapid_keys`)."
    ]
    assert _problems(public_key=other.public_key) == ["VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY."]
    assert _problems(public_key=compressed) == [
        "VAPID_PUBLIC_KEY must be the base64url uncompressed P-256 point (87 characters)."
    ]
    assert _problems(subject="ops@refuje.example") == [
        "VAPID_SUBJECT must be a mailto: address or an https: URL, not 'ops@refuje.example'."
    ]
    (message,) = _problems(private_key="nope")
    assert message.startswith("VAPID_PRIVATE_KEY must be a P-256 private key")


def test_push_config_reports_misconfiguration_clearly(settings):
    pair, other = generate_key_pair(), generate_key_pair()
    settings.VAPID_PUBLIC_KEY = other.public_key
    settings.VAPID_PRIVATE_KEY = pair.private_key
    with pytest.raises(ImproperlyConfigured, match="VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY"):
        push_config()
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    assert push_config() is None


def _import_settings(**env: str):
    return import_settings(drop_prefixes=("VAPID_", "PUSH_"), **env)


def test_a_half_configured_deployment_fails_at_start_up():
    result = _import_settings(REFUJE_TESTING="1", VAPID_PUBLIC_KEY=generate_key_pair().public_key)
    assert result.returncode != 0
    assert "Web push: Web push needs both VAPID keys; VAPID_PRIVATE_KEY is empty" in result.stderr


def test_insecure_endpoints_are_refused_in_production_settings():
    result = _import_settings(
        REFUJE_TESTING="0", DEBUG="false", SECRET_KEY="s" * 60, PUSH_ALLOW_INSECURE_ENDPOINTS="true"
    )
    assert result.returncode != 0
    assert "PUSH_ALLOW_INSECURE_ENDPOINTS lets users point the server at internal addresses" in result.stderr


def test_a_complete_configuration_starts():
    pair = generate_key_pair()
    result = _import_settings(REFUJE_TESTING="1", VAPID_PUBLIC_KEY=pair.public_key, VAPID_PRIVATE_KEY=pair.private_key)
    assert result.returncode == 0, result.stderr
