from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.experiences.models import Experience
from refuje.hotels.models import Department, Hotel

# 24 random bytes = 192 bits, 32 URL-safe characters: printed codes cannot be guessed or enumerated.
TOKEN_BYTES = 24
TOKEN_MAX_LENGTH = 64
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32,64}$"  # noqa: S105 (a shape, not a secret)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class QRTargetType(models.TextChoices):
    ROOM = "room", _("Room")
    LOCATION = "location", _("Location")
    DEPARTMENT = "department", _("Department")
    EXPERIENCE = "experience", _("Experience")


# Which target field each type uses; every other target field must be empty.
_TARGET_SET = {
    QRTargetType.ROOM: ~Q(room_number=""),
    QRTargetType.LOCATION: ~Q(location_label=""),
    QRTargetType.DEPARTMENT: Q(department__isnull=False),
    QRTargetType.EXPERIENCE: Q(experience__isnull=False),
}
_TARGET_EMPTY = {
    QRTargetType.ROOM: Q(room_number=""),
    QRTargetType.LOCATION: Q(location_label=""),
    QRTargetType.DEPARTMENT: Q(department__isnull=True),
    QRTargetType.EXPERIENCE: Q(experience__isnull=True),
}


def _exactly_one_target() -> Q:
    condition = Q()
    for target_type in QRTargetType:
        matches = Q(target_type=target_type) & _TARGET_SET[target_type]
        for other in QRTargetType:
            if other != target_type:
                matches &= _TARGET_EMPTY[other]
        condition |= matches
    return condition


class QRCode(models.Model):
    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="qr_codes")
    token = models.CharField(_("token"), max_length=TOKEN_MAX_LENGTH, unique=True, default=new_token, editable=False)
    target_type = models.CharField(_("points at"), max_length=10, choices=QRTargetType.choices)
    room_number = models.CharField(_("room number"), max_length=20, blank=True, default="")
    location_label = models.CharField(_("location"), max_length=120, blank=True, default="")
    # RESTRICT: a printed code keeps its target (deactivate, never delete); deleting the whole hotel still cascades.
    department = models.ForeignKey(
        Department, on_delete=models.RESTRICT, null=True, blank=True, related_name="qr_codes"
    )
    experience = models.ForeignKey(
        Experience, on_delete=models.RESTRICT, null=True, blank=True, related_name="qr_codes"
    )
    label = models.CharField(_("label"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    scan_count = models.PositiveBigIntegerField(_("scans"), default=0)
    last_scanned_at = models.DateTimeField(_("last scanned at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("QR code")
        verbose_name_plural = _("QR codes")
        ordering = ["hotel_id", "label", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_type__in=QRTargetType.values), name="qrcodes_qrcode_target_type_valid"
            ),
            models.CheckConstraint(
                condition=_exactly_one_target(),
                name="qrcodes_qrcode_exactly_one_target",
                violation_error_message=_("Give exactly the target that matches the kind of code."),
            ),
            models.CheckConstraint(condition=Q(token__regex=TOKEN_PATTERN), name="qrcodes_qrcode_token_strong"),
        ]
        indexes = [models.Index(fields=["hotel", "is_active"], name="qrcodes_hotel_active")]

    def __str__(self) -> str:
        return f"{self.hotel_id}: {self.label}"

    def clean(self) -> None:
        # The database cannot compare across tables; services and admin forms both run this.
        errors: dict[str, str] = {}
        if self.department is not None and self.department.hotel_id != self.hotel_id:
            errors["department"] = str(_("This department is not part of this hotel."))
        if self.experience is not None and self.experience.hotel_id != self.hotel_id:
            errors["experience"] = str(_("This experience is not part of this hotel."))
        if errors:
            raise ValidationError(errors)
