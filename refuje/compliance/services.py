from __future__ import annotations

from typing import Any

from django.db import models

from refuje.accounts.models import User
from refuje.hotels.models import Hotel

from .models import AuditEvent


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    hotel: Hotel | None = None,
    ip: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit row; call it inside the transaction of the change it records."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_display=str(actor) if actor is not None and actor.pk else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_display=str(target)[:200] if target is not None else "",
        hotel=hotel,
        ip=ip,
        before=before,
        after=after,
    )
