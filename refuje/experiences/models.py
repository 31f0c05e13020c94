from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.hotels.models import Bilingual, Department, Hotel

CURRENCY_PATTERN = r"^[A-Z]{3}$"


class Experience(Bilingual, models.Model):
    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="experiences")
    # RESTRICT, not PROTECT: a department in use is deactivated, never deleted, yet deleting the
    # whole hotel still cascades through its departments and experiences together.
    department = models.ForeignKey(Department, on_delete=models.RESTRICT, related_name="experiences")
    title_ar = models.CharField(_("title (Arabic)"), max_length=150)
    title_en = models.CharField(_("title (English)"), max_length=150)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    price_minor = models.PositiveIntegerField(_("price (minor units)"))
    currency = models.CharField(
        _("currency"),
        max_length=3,
        validators=[RegexValidator(CURRENCY_PATTERN, _("Use a three-letter ISO currency code, for example SAR."))],
    )
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), validators=[MinValueValidator(1)])
    capacity = models.PositiveIntegerField(_("capacity"), default=1, validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)
    # Maintained by the reviews service in the same transaction as each review change.
    rating_average = models.DecimalField(
        _("rating average"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
    )
    rating_count = models.PositiveIntegerField(_("rating count"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("experience")
        verbose_name_plural = _("experiences")
        ordering = ["display_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_minor__gte=0),
                name="experiences_experience_price_not_negative",
                violation_error_message=_("The price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0),
                name="experiences_experience_duration_positive",
                violation_error_message=_("The duration must be at least one minute."),
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1),
                name="experiences_experience_capacity_positive",
                violation_error_message=_("The capacity must be at least one."),
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_PATTERN),
                name="experiences_experience_currency_iso",
                violation_error_message=_("Use a three-letter ISO currency code, for example SAR."),
            ),
            models.CheckConstraint(
                condition=models.Q(rating_average__gte=0, rating_average__lte=5),
                name="experiences_experience_rating_range",
            ),
        ]
        indexes = [models.Index(fields=["hotel", "is_active", "display_order"], name="experiences_hotel_active")]

    def __str__(self) -> str:
        return f"{self.hotel.slug}: {self.title_en or self.title_ar}"

    def clean(self) -> None:
        # The database cannot compare across tables, so the department's hotel is checked here
        # (and by the services, which always call full_clean before saving).
        if self.hotel_id and self.department_id:
            department_hotel = Department.objects.filter(pk=self.department_id).values_list("hotel_id", flat=True)
            if department_hotel.first() != self.hotel_id:
                raise ValidationError({"department": _("This department is not part of this hotel.")})

    @property
    def title(self) -> str:
        return self.localized("title")

    @property
    def description(self) -> str:
        return self.localized("description")


class ExperienceImage(Bilingual, models.Model):
    experience = models.ForeignKey(Experience, on_delete=models.CASCADE, related_name="images")
    # Storage names written by refuje.common.images; URLs are rendered fresh from the storage.
    image = models.ImageField(_("image"), max_length=255)
    thumbnail = models.ImageField(_("thumbnail"), max_length=255)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    alt_ar = models.CharField(_("description for screen readers (Arabic)"), max_length=200, blank=True)
    alt_en = models.CharField(_("description for screen readers (English)"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("experience image")
        verbose_name_plural = _("experience images")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["experience", "position"], name="experiences_image_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.experience_id} #{self.position}"

    @property
    def alt(self) -> str:
        return self.localized("alt")
