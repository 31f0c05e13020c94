from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .phone import normalize_phone

if TYPE_CHECKING:
    from .models import User


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, phone_number: str, password: str | None, **extra: Any) -> User:
        phone_number = normalize_phone(phone_number)
        email = extra.pop("email", None)
        email = self.normalize_email(email).lower() if email else None
        user = self.model(phone_number=phone_number, email=email, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, phone_number: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(phone_number, password, **extra)

    def create_superuser(self, phone_number: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("user_type", "STAFF")
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(phone_number, password, **extra)

    def create_guest_user(self, phone_number: str, **extra: Any) -> tuple[User, bool]:
        """Get or create the account for `phone_number`; concurrent first sign-ins make one user.

        The unique index on phone_number decides the race: the loser's INSERT fails inside a
        savepoint and it reads the winner's row.
        """
        phone_number = normalize_phone(phone_number)
        existing = self.filter(phone_number=phone_number).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic(using=self._db):
                return self.create_user(phone_number, user_type="GUEST", **extra), True
        except (IntegrityError, ValidationError):
            # full_clean() may already see a concurrent winner's committed row before our INSERT
            # would have hit the unique index; either way the winner's account is the one.
            existing = self.filter(phone_number=phone_number).first()
            if existing is None:
                raise
            return existing, False

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(phone_number=normalize_phone(username or ""))
