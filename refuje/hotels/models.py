from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone (use an IANA name such as Asia/Riyadh)."),
            params={"value": value},
            code="invalid_timezone",
        )


class Role(models.TextChoices):
    VIEWER = "VIEWER", _("Viewer")
    STAFF = "STAFF", _("Staff")
    ADMIN = "ADMIN", _("Admin")
    SUPERADMIN = "SUPERADMIN", _("Super admin")


ROLE_RANK = {Role.VIEWER: 10, Role.STAFF: 20, Role.ADMIN: 30, Role.SUPERADMIN: 40}


def role_rank(role: str) -> int:
    return ROLE_RANK[Role(role)]


class Bilingual:
    """Pick the ar/en field for the active language, falling back to the other one."""

    def localized(self, field: str) -> str:
        lang = (get_language() or "ar")[:2]
        primary, other = (f"{field}_ar", f"{field}_en") if lang == "ar" else (f"{field}_en", f"{field}_ar")
        return str(getattr(self, primary) or getattr(self, other))


class Hotel(Bilingual, models.Model):
    # Lower-case only: the slug is part of every URL and QR code, and must have one spelling.
    slug = models.SlugField(
        _("slug"),
        max_length=60,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                _("Use lower-case letters, digits and single hyphens, for example grand-riyadh."),
                code="invalid_slug",
            )
        ],
    )
    name_ar = models.CharField(_("name (Arabic)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Riyadh", validators=[validate_timezone])
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="SAR",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO currency code."))],
    )
    primary_color = models.CharField(
        _("primary colour"),
        max_length=7,
        default="#0F766E",
        validators=[RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("Use a colour like #0F766E."))],
    )
    logo = models.ImageField(_("logo"), upload_to="hotels/logos/", blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=16, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    address_ar = models.CharField(_("address (Arabic)"), max_length=300, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("hotel")
        verbose_name_plural = _("hotels")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name_en or self.name_ar

    @property
    def name(self) -> str:
        return self.localized("name")

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Department(Bilingual, models.Model):
    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="departments")
    name_ar = models.CharField(_("name (Arabic)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["display_order", "id"]
        # "Spa" and "spa" are the same department to a guest picking from a list.
        constraints = [
            models.UniqueConstraint("hotel", Lower("name_en"), name="hotels_department_unique_name_en_ci"),
            models.UniqueConstraint("hotel", Lower("name_ar"), name="hotels_department_unique_name_ar_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.hotel.slug}: {self.name_en or self.name_ar}"

    @property
    def name(self) -> str:
        return self.localized("name")


class HotelMembership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.STAFF)
    departments = models.ManyToManyField(Department, blank=True, related_name="memberships")
    is_active = models.BooleanField(_("active"), default=True)
    # The staff member's rating from reviews of their bookings: maintained by the reviews service
    # in the same transaction as each review change (and checked by its reconcile job).
    rating_average = models.DecimalField(
        _("rating average"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
    )
    rating_count = models.PositiveIntegerField(_("rating count"), default=0)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("hotel membership")
        verbose_name_plural = _("hotel memberships")
        ordering = ["hotel_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "hotel"], name="hotels_membership_unique_user_hotel"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="hotels_membership_role_valid"),
            models.CheckConstraint(
                condition=models.Q(rating_average__gte=0, rating_average__lte=5),
                name="hotels_membership_rating_range",
            ),
        ]
        indexes = [models.Index(fields=["hotel", "role", "is_active"], name="hotels_membership_hotel_role")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.hotel.slug} ({self.role})"

    def has_role(self, minimum: str) -> bool:
        return self.is_active and role_rank(self.role) >= role_rank(minimum)
