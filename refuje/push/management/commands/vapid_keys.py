"""Print a new VAPID key pair as environment lines for the deployment's secrets."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from refuje.push.vapid import generate_key_pair


class Command(BaseCommand):
    help = (
        "Generate a VAPID key pair for web push and print it as VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY "
        "environment lines. Keep the private key secret; changing keys invalidates every subscription."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        pair = generate_key_pair()
        self.stdout.write(f"VAPID_PUBLIC_KEY={pair.public_key}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={pair.private_key}")
