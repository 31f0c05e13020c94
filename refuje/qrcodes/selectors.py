"""Reads of QR codes: admin lists, the printable selection, and the guest-facing scan lookup."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from refuje.common.errors import ApiError
from refuje.experiences.models import ExperienceImage
from refuje.hotels.models import Hotel

from .models import TOKEN_MAX_LENGTH, QRCode
from .rendering import sheet_max_codes


class SheetEmpty(ApiError):
    default_detail = _("There are no active QR codes to print.")
    default_code = "qr_sheet_empty"


class SheetTooLarge(ApiError):
    default_code = "qr_sheet_too_many"

    def __init__(self, *, count: int, maximum: int) -> None:
        detail = _(
            "This hotel has %(count)s active QR codes; print at most %(maximum)s at once by choosing them with ids."
        ) % {"count": count, "maximum": maximum}
        super().__init__(detail, extra={"max_codes": maximum})


_TOKEN_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{1,{TOKEN_MAX_LENGTH}}}")


def qr_code_list(*, hotel: Hotel, is_active: bool | None = None, target_type: str | None = None) -> QuerySet[QRCode]:
    codes = QRCode.objects.filter(hotel=hotel).select_related("hotel")
    if is_active is not None:
        codes = codes.filter(is_active=is_active)
    if target_type:
        codes = codes.filter(target_type=target_type)
    return codes.order_by("label", "id")


def qr_codes_for_sheet(*, hotel: Hotel, ids: Sequence[int] | None = None) -> list[QRCode]:
    """The hotel's active codes to print, all of them or the chosen `ids`; at least one, at most
    QR_SHEET_MAX_CODES (one request renders every page in memory).

    A chosen id that is not an active code of this hotel is a field error that names it: unknown,
    inactive and other hotels' ids read the same.
    """
    codes = (
        QRCode.objects.filter(hotel=hotel, is_active=True)
        .select_related("department", "experience")
        .order_by("label", "id")
    )
    if ids is None:
        found = list(codes)
        _check_sheet_size(len(found))
        return found
    wanted = set(ids)
    found = list(codes.filter(pk__in=wanted))
    missing = wanted - {code.pk for code in found}
    if missing:
        raise ValidationError(
            {
                "ids": ValidationError(
                    _("These are not active QR codes of this hotel: %(ids)s."),
                    params={"ids": ", ".join(str(pk) for pk in sorted(missing))},
                    code="unknown_qr_codes",
                )
            }
        )
    _check_sheet_size(len(found))
    return found


def _check_sheet_size(count: int) -> None:
    if count == 0:
        raise SheetEmpty()
    maximum = sheet_max_codes()
    if count > maximum:
        raise SheetTooLarge(count=count, maximum=maximum)


def qr_code_for_scan(*, token: str) -> QRCode | None:
    """The live code behind a scanned token, with everything the landing page shows, in one query.

    A code resolves only while it, its hotel and its target are active: a guest must not land on
    a department or experience that staff have taken away.
    """
    if not _TOKEN_SHAPE.fullmatch(token):
        return None
    cover = ExperienceImage.objects.filter(experience=OuterRef("experience_id")).order_by("position", "id")
    code = (
        QRCode.objects.select_related("hotel", "department", "experience")
        .filter(token=token, is_active=True, hotel__is_active=True)
        .filter(Q(department__isnull=True) | Q(department__is_active=True))
        .filter(Q(experience__isnull=True) | Q(experience__is_active=True, experience__department__is_active=True))
        .annotate(experience_cover=Subquery(cover.values("thumbnail")[:1]))
        .first()
    )
    if code is not None and code.experience is not None:
        # The same attribute experience_public_list annotates, so one serializer shows both.
        code.experience.cover_thumbnail = code.experience_cover  # type: ignore[attr-defined]
    return code
