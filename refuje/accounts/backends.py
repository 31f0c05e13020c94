from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from .models import User
from .phone import normalize_phone


class PhoneOrEmailBackend(ModelBackend):
    """Password sign-in by phone (Django admin) or e-mail (staff login); e-mail is case-insensitive."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        identifier = (username or kwargs.get("phone_number") or kwargs.get("email") or "").strip()
        if not identifier or not password:
            return None
        if "@" in identifier:
            user = User.objects.filter(email__iexact=identifier).first()
        else:
            try:
                user = User.objects.filter(phone_number=normalize_phone(identifier)).first()
            except ValidationError:
                return None
        if user is None:
            User().set_password(password)  # same work for unknown identifiers: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
