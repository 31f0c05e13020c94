"""Account writes: password sign-in for staff and profile changes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from refuje.common.errors import ApiError, RateLimited
from refuje.common.ratelimit import Limit, client_ip, hit_all
from refuje.compliance.services import audit_record

from .models import User, UserType
from .sessions import TokenPair, session_start

# Defaults for the password sign-in limits; a deployment may override them in settings.
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_ATTEMPTS_PER_EMAIL = 10
LOGIN_ATTEMPTS_PER_IP = 50

PROFILE_FIELDS = ("full_name", "email", "preferred_language")
EMAIL_TAKEN = _("Another account already uses this email address.")


class InvalidCredentials(ApiError):
    default_detail = _("The email address or password is incorrect.")
    default_code = "invalid_credentials"


def _login_limits(email: str, ip: str | None) -> list[Limit]:
    window = int(getattr(settings, "AUTH_LOGIN_WINDOW_SECONDS", LOGIN_WINDOW_SECONDS))
    # Hashed so rate-limit keys (Redis, database fallback) hold no e-mail addresses.
    email_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    limits = [
        Limit(
            f"login:email:{email_key}",
            int(getattr(settings, "AUTH_LOGIN_ATTEMPTS_PER_EMAIL", LOGIN_ATTEMPTS_PER_EMAIL)),
            window,
        )
    ]
    if ip:
        limits.append(
            Limit(f"login:ip:{ip}", int(getattr(settings, "AUTH_LOGIN_ATTEMPTS_PER_IP", LOGIN_ATTEMPTS_PER_IP)), window)
        )
    return limits


def password_sign_in(*, request: HttpRequest, email: str, password: str) -> tuple[User, TokenPair]:
    """Staff sign-in by e-mail and password.

    Unknown e-mail, wrong password, disabled account and guest account all get the same answer
    after the same amount of hashing work, so the endpoint does not reveal which accounts exist.
    """
    ip = client_ip(request)
    decision = hit_all(_login_limits(email, ip))
    if not decision.allowed:
        raise RateLimited(decision.retry_after)
    # The backend looks e-mails up case-insensitively with filter().first(): legacy duplicates
    # can never raise MultipleObjectsReturned.
    user = authenticate(request, email=email, password=password)
    if not isinstance(user, User) or user.user_type != UserType.STAFF:
        raise InvalidCredentials()
    with transaction.atomic():
        pair = session_start(user=user)
        audit_record(actor=user, action="auth.password_sign_in", target=user, ip=ip)
    return user, pair


def _normalized_email(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text.lower() if text else None


def user_profile_update(*, user: User, data: Mapping[str, Any], ip: str | None = None) -> User:
    """Change the person's own name, e-mail and language. A blank e-mail removes it."""
    fields = [name for name in PROFILE_FIELDS if name in data]
    if not fields:
        return user
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=user.pk)
        before = {name: getattr(account, name) for name in fields}
        for name in fields:
            setattr(account, name, data[name])
        if "email" in fields:
            account.email = _normalized_email(account.email)
        if "full_name" in fields:
            account.full_name = (account.full_name or "").strip()
        account.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        if (
            account.email
            and "email" in fields
            and User.objects.filter(email__iexact=account.email).exclude(pk=account.pk).exists()
        ):
            raise ValidationError({"email": [EMAIL_TAKEN]})
        try:
            # A concurrent change can still claim the address between the check and the write;
            # the unique index decides, inside a savepoint so the outer transaction stays usable.
            with transaction.atomic():
                account.save(update_fields=fields)
        except IntegrityError as exc:
            # Only the e-mail can collide: the other profile fields carry no unique constraint.
            raise ValidationError({"email": [EMAIL_TAKEN]}) from exc
        after = {name: getattr(account, name) for name in fields}
        changed = [name for name in fields if before[name] != after[name]]
        if changed:
            audit_record(
                actor=account,
                action="account.profile_update",
                target=account,
                ip=ip,
                before={name: before[name] for name in changed},
                after={name: after[name] for name in changed},
            )
    return account
