"""QR code writes: creation with a checked target, label/active changes, and counting scans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.accounts.models import User
from refuje.common.errors import NotFound
from refuje.compliance.services import audit_record
from refuje.experiences.access import as_id
from refuje.experiences.models import Experience
from refuje.hotels.models import Department, Hotel

from . import selectors
from .models import QRCode, QRTargetType
from .rendering import target_text

QR_EDITABLE_FIELDS = ("label", "is_active")
TARGET_FIELDS = {
    QRTargetType.ROOM: "room_number",
    QRTargetType.LOCATION: "location_label",
    QRTargetType.DEPARTMENT: "department",
    QRTargetType.EXPERIENCE: "experience",
}
NEEDED = _("Required for this kind of code.")
LABEL_EMPTY = _("A label cannot be empty.")
NOT_FOR_THIS_KIND = _("Leave this out: this kind of code points at something else.")


def qr_code_state(code: QRCode) -> dict[str, Any]:
    return {
        "target_type": code.target_type,
        "room_number": code.room_number,
        "location_label": code.location_label,
        "department_id": code.department_id,
        "experience_id": code.experience_id,
        "label": code.label,
        "is_active": code.is_active,
    }


def qr_code_create(
    *,
    actor: User,
    hotel: Hotel,
    target_type: str,
    room_number: str = "",
    location_label: str = "",
    department_id: int | None = None,
    experience_id: int | None = None,
    label: str = "",
    is_active: bool = True,
    ip: str | None = None,
) -> QRCode:
    """A new code with a fresh token. The target is fixed for life: a printed code must keep
    opening what it says; to point somewhere else, print a new code and deactivate the old one."""
    kind = QRTargetType(target_type)
    given = {
        "room_number": room_number.strip(),
        "location_label": location_label.strip(),
        "department": department_id,
        "experience": experience_id,
    }
    errors: dict[str, Any] = {}
    for field, value in given.items():
        present = value not in ("", None)
        if field == TARGET_FIELDS[kind] and not present:
            errors[field] = NEEDED
        elif field != TARGET_FIELDS[kind] and present:
            errors[field] = NOT_FOR_THIS_KIND
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        code = QRCode(
            hotel=hotel,
            target_type=kind,
            room_number=given["room_number"] or "",
            location_label=given["location_label"] or "",
            is_active=is_active,
        )
        # Locked against deletion until commit; unknown and other hotels' ids read the same.
        if kind == QRTargetType.DEPARTMENT:
            department = (
                Department.objects.select_for_update(no_key=True).filter(hotel=hotel, pk=as_id(department_id)).first()
            )
            if department is None:
                raise ValidationError({"department": _("This department is not part of this hotel.")})
            code.department = department
        elif kind == QRTargetType.EXPERIENCE:
            experience = (
                Experience.objects.select_for_update(no_key=True).filter(hotel=hotel, pk=as_id(experience_id)).first()
            )
            if experience is None:
                raise ValidationError({"experience": _("This experience is not part of this hotel.")})
            code.experience = experience
        code.label = label.strip() or target_text(code)[: QRCode._meta.get_field("label").max_length]
        code.full_clean()
        code.save(force_insert=True)
        audit_record(actor=actor, action="qr_code.create", target=code, hotel=hotel, ip=ip, after=qr_code_state(code))
    return code


def qr_code_update(*, actor: User, code: QRCode, data: Mapping[str, Any], ip: str | None = None) -> QRCode:
    unknown = set(data) - set(QR_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"qr_code_update cannot change {sorted(unknown)}")
    with transaction.atomic():
        locked = (
            QRCode.objects.select_for_update(of=("self",))
            .select_related("hotel", "department", "experience")
            .get(pk=code.pk)
        )
        cleaned = {field: value.strip() if isinstance(value, str) else value for field, value in data.items()}
        if "label" in cleaned and not cleaned["label"]:
            raise ValidationError({"label": LABEL_EMPTY})
        before = qr_code_state(locked)
        changed = [field for field in QR_EDITABLE_FIELDS if field in cleaned and cleaned[field] != before[field]]
        if not changed:
            return locked
        for field in changed:
            setattr(locked, field, cleaned[field])
        locked.full_clean()
        locked.save(update_fields=changed)
        audit_record(
            actor=actor,
            action="qr_code.update",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before={field: before[field] for field in changed},
            after={field: getattr(locked, field) for field in changed},
        )
    return locked


def qr_code_register_scan(*, token: str) -> QRCode:
    """Resolve a scanned token and count the scan; NotFound for unknown and inactive codes alike.

    The count is one UPDATE … SET scan_count = scan_count + 1: concurrent scans never overwrite
    each other's increments, and no row lock is held across the request.
    """
    code = selectors.qr_code_for_scan(token=token)
    if code is None:
        raise NotFound()
    QRCode.objects.filter(pk=code.pk, is_active=True).update(
        scan_count=F("scan_count") + 1, last_scanned_at=timezone.now()
    )
    return code
