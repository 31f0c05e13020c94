"""Catalogue writes: experiences and their images, each in one transaction with an audit row."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.accounts.models import User
from refuje.common.errors import Conflict
from refuje.common.images import ImageKind, PreparedImage, StoredImage, image_delete, image_store
from refuje.compliance.services import audit_record
from refuje.hotels.models import Department, Hotel

from .access import as_id
from .models import Experience, ExperienceImage

logger = logging.getLogger(__name__)

DEFAULT_MAX_IMAGES = 10
EXPERIENCE_EDITABLE_FIELDS = (
    "department_id",
    "title_ar",
    "title_en",
    "description_ar",
    "description_en",
    "price_minor",
    "currency",
    "duration_minutes",
    "capacity",
    "is_active",
    "display_order",
)


class TooManyImages(Conflict):
    default_code = "too_many_images"

    def __init__(self, *, maximum: int) -> None:
        detail = _("This experience already has %(maximum)s images. Remove one before adding another.") % {
            "maximum": maximum
        }
        super().__init__(detail, extra={"max_images": maximum})


def max_images() -> int:
    return int(getattr(settings, "EXPERIENCE_MAX_IMAGES", DEFAULT_MAX_IMAGES))


def experience_state(experience: Experience) -> dict[str, Any]:
    return {field: getattr(experience, field) for field in EXPERIENCE_EDITABLE_FIELDS}


def _lock_hotel_department(hotel: Hotel, department_id: object) -> Department:
    """The hotel's department, locked against deletion until the caller's transaction ends.

    Unknown ids and other hotels' ids get the same answer, so nothing about other tenants leaks.
    """
    department = Department.objects.select_for_update(no_key=True).filter(hotel=hotel, pk=as_id(department_id)).first()
    if department is None:
        raise ValidationError(
            {"department": ValidationError(_("This department is not part of this hotel."), code="foreign_department")}
        )
    return department


def experience_create(
    *,
    actor: User,
    hotel: Hotel,
    department_id: int,
    title_ar: str,
    title_en: str,
    price_minor: int,
    duration_minutes: int,
    currency: str | None = None,
    description_ar: str = "",
    description_en: str = "",
    capacity: int = 1,
    is_active: bool = True,
    display_order: int = 0,
    ip: str | None = None,
) -> Experience:
    with transaction.atomic():
        department = _lock_hotel_department(hotel, department_id)
        experience = Experience(
            hotel=hotel,
            department=department,
            title_ar=title_ar,
            title_en=title_en,
            description_ar=description_ar,
            description_en=description_en,
            price_minor=price_minor,
            currency=currency or hotel.currency,
            duration_minutes=duration_minutes,
            capacity=capacity,
            is_active=is_active,
            display_order=display_order,
        )
        experience.full_clean()
        experience.save(force_insert=True)
        audit_record(
            actor=actor,
            action="experience.create",
            target=experience,
            hotel=hotel,
            ip=ip,
            after=experience_state(experience),
        )
    return experience


def experience_update(
    *, actor: User, experience: Experience, data: Mapping[str, Any], ip: str | None = None
) -> Experience:
    unknown = set(data) - set(EXPERIENCE_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"experience_update cannot change {sorted(unknown)}")
    with transaction.atomic():
        locked = Experience.objects.select_for_update(of=("self",)).select_related("hotel").get(pk=experience.pk)
        before = experience_state(locked)
        changed = [field for field in EXPERIENCE_EDITABLE_FIELDS if field in data and data[field] != before[field]]
        if not changed:
            return locked
        if "department_id" in changed:
            locked.department = _lock_hotel_department(locked.hotel, data["department_id"])
        for field in changed:
            if field != "department_id":
                setattr(locked, field, data[field])
        locked.updated_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="experience.update",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before={field: before[field] for field in changed},
            after={field: getattr(locked, field) for field in changed},
        )
    return locked


def experience_deactivate(*, actor: User, experience: Experience, ip: str | None = None) -> Experience:
    """Experiences are never deleted: bookings, requests, reviews and printed QR codes refer to them.
    A deactivated experience disappears for guests; PATCH `is_active: true` brings it back."""
    with transaction.atomic():
        locked = Experience.objects.select_for_update(of=("self",)).select_related("hotel").get(pk=experience.pk)
        if not locked.is_active:
            return locked
        locked.is_active = False
        locked.updated_at = timezone.now()
        locked.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="experience.deactivate",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before={"is_active": True},
            after={"is_active": False},
        )
    return locked


def experience_image_add(
    *,
    actor: User,
    experience: Experience,
    prepared: PreparedImage,
    alt_ar: str = "",
    alt_en: str = "",
    ip: str | None = None,
) -> ExperienceImage:
    """Store a checked image (see refuje.common.images) as the experience's last image.

    The files are written inside the transaction and removed again if anything after them fails,
    so a refused or failed add leaves neither a row nor an orphan file.
    """
    stored: StoredImage | None = None
    try:
        with transaction.atomic():
            # The experience row lock serialises adds, so positions and the limit hold under races.
            locked = Experience.objects.select_for_update(of=("self",)).select_related("hotel").get(pk=experience.pk)
            images = ExperienceImage.objects.filter(experience=locked)
            maximum = max_images()
            if images.count() >= maximum:
                raise TooManyImages(maximum=maximum)
            last = images.aggregate(last=Max("position"))["last"]
            stored = image_store(prepared=prepared, kind=ImageKind.EXPERIENCE)
            image = ExperienceImage(
                experience=locked,
                image=stored.name,
                thumbnail=stored.thumbnail_name,
                width=stored.width,
                height=stored.height,
                position=0 if last is None else last + 1,
                alt_ar=alt_ar,
                alt_en=alt_en,
            )
            image.full_clean()
            image.save(force_insert=True)
            audit_record(
                actor=actor,
                action="experience.image_add",
                target=image,
                hotel=locked.hotel,
                ip=ip,
                after={"experience_id": locked.pk, "image": stored.name, "position": image.position},
            )
    except BaseException:
        if stored is not None:
            image_delete(image=stored)
        raise
    return image


def experience_image_remove(*, actor: User, image: ExperienceImage, ip: str | None = None) -> None:
    with transaction.atomic():
        locked = Experience.objects.select_for_update(of=("self",)).select_related("hotel").get(pk=image.experience_id)
        row = ExperienceImage.objects.filter(pk=image.pk, experience=locked).first()
        if row is None:
            return
        names = (row.image.name, row.thumbnail.name)
        audit_record(
            actor=actor,
            action="experience.image_remove",
            target=row,
            hotel=locked.hotel,
            ip=ip,
            before={"experience_id": locked.pk, "image": row.image.name, "position": row.position},
        )
        row.delete()
        # Files go only once the row is gone for good; a rolled-back removal keeps both.
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: tuple[str | None, ...]) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete stored image %s", name)
