from typing import Any

from django.db import models

from .phone import normalize_phone


class PhoneNumberField(models.CharField):
    """A CharField that normalises whatever people type to E.164 (forms, admin, createsuperuser)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value in (None, ""):
            return value
        return normalize_phone(value)
