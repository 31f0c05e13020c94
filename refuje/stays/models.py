from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.hotels.models import Hotel

ROOM_MAX_LENGTH = 20  # the same as a room QR code's room number
MAX_SELF_CHECK_IN_NIGHTS = 30


class StayStatus(models.TextChoices):
    ACTIVE = "ACTIVE", _("Active")
    CHECKED_OUT = "CHECKED_OUT", _("Checked out")
    CANCELLED = "CANCELLED", _("Cancelled")


class StaySource(models.TextChoices):
    FRONT_DESK = "front_desk", _("Front desk")
    SELF_CHECK_IN = "self_check_in", _("Self check-in")


class HotelConciergeSettings(models.Model):
    """Per-hotel concierge switches. Hotels without a row use the field defaults."""

    hotel = models.OneToOneField(Hotel, on_delete=models.CASCADE, primary_key=True, related_name="concierge_settings")
    self_check_in_enabled = models.BooleanField(
        _("self check-in"),
        default=False,
        help_text=_("A guest who signs in through a room's QR code gets a stay in that room."),
    )
    self_check_in_nights = models.PositiveSmallIntegerField(
        _("nights of a self check-in stay"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SELF_CHECK_IN_NIGHTS)],
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("hotel concierge settings")
        verbose_name_plural = _("hotel concierge settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(self_check_in_nights__gte=1, self_check_in_nights__lte=MAX_SELF_CHECK_IN_NIGHTS),
                name="stays_settings_self_check_in_nights_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hotel_id}: concierge settings"


class GuestStay(models.Model):
    """A guest's stay in one room of one hotel; check-in and check-out are the hotel's local dates.

    Only an ACTIVE stay lets its guest create service requests. The database allows at most one
    ACTIVE stay per guest and hotel, which is what decides concurrent check-ins.
    """

    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="stays")
    guest = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stays")
    room = models.CharField(_("room"), max_length=ROOM_MAX_LENGTH)
    check_in = models.DateField(_("check-in date"))
    check_out = models.DateField(_("check-out date"))
    status = models.CharField(_("status"), max_length=12, choices=StayStatus.choices, default=StayStatus.ACTIVE)
    source = models.CharField(_("source"), max_length=16, choices=StaySource.choices, default=StaySource.FRONT_DESK)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("guest stay")
        verbose_name_plural = _("guest stays")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["hotel", "guest"],
                condition=Q(status=StayStatus.ACTIVE),
                name="stays_one_active_stay_per_guest_hotel",
                violation_error_message=_("This guest already has an active stay at this hotel."),
            ),
            models.CheckConstraint(
                condition=Q(check_out__gte=F("check_in")),
                name="stays_check_out_not_before_check_in",
                violation_error_message=_("The check-out date cannot be before the check-in date."),
            ),
            models.CheckConstraint(condition=Q(status__in=StayStatus.values), name="stays_status_valid"),
            models.CheckConstraint(condition=Q(source__in=StaySource.values), name="stays_source_valid"),
            models.CheckConstraint(condition=~Q(room=""), name="stays_room_not_blank"),
        ]
        indexes = [
            models.Index(fields=["hotel", "status", "room"], name="stays_hotel_status_room"),
            models.Index(fields=["guest", "status"], name="stays_guest_status"),
        ]

    def __str__(self) -> str:
        return f"{self.hotel_id}: room {self.room} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == StayStatus.ACTIVE
