"""Phone numbers: everything we store is E.164; everything people type is normalised here."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"

# People type Arabic-Indic (٠-٩) and Eastern Arabic/Persian (۰-۹) digits; phonenumbers accepts
# some of these but not all contexts, so map them explicitly.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SEPARATORS = re.compile(r"[\s\-\.\(\)/\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def normalize_phone(raw: object, *, region: str | None = None) -> str:
    """Return the E.164 form of `raw` or raise ValidationError(code="invalid_phone")."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError(_("Enter a phone number."), code="invalid_phone")
    text = _SEPARATORS.sub("", raw.translate(_DIGITS)).replace("＋", "+")
    if len(text) > 24 or not re.fullmatch(r"\+?[0-9]+", text):
        raise ValidationError(_("Enter a valid phone number, for example +966 50 123 4567."), code="invalid_phone")
    if text.startswith("00"):
        text = "+" + text[2:]
    region = region or settings.DEFAULT_PHONE_REGION
    candidates = [text]
    if not text.startswith("+"):
        # "9665…" typed without the plus: try it as international before treating it as national.
        candidates = ["+" + text, text] if len(text) > 10 else [text, "+" + text]
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise ValidationError(_("Enter a valid phone number, for example +966 50 123 4567."), code="invalid_phone")


def mask_phone(e164: str) -> str:
    """+966501234567 -> +9665•••••567, for logs and messages that must not leak a number."""
    if len(e164) < 8:
        return "•" * len(e164)
    return e164[:5] + "•" * (len(e164) - 8) + e164[-3:]
