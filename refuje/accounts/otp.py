"""One-time codes: sending (abuse limits, WhatsApp then SMS), verifying, and what a proven code unlocks.

Known and unknown phones take the same path when a code is sent: a row is written and the code is
delivered either way, so neither the answer nor the work done reveals whether a number has an
account. Whether an account exists is only said to someone who proved they hold the phone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from refuje.common import ratelimit
from refuje.common.errors import ApiError, Conflict, RateLimited, UpstreamFailed
from refuje.compliance.services import audit_record
from refuje.hotels.models import Hotel, HotelMembership
from refuje.providers.base import Delivery, ProviderError
from refuje.providers.registry import otp_senders, sms_otp_sender

from .models import Language, OtpChannel, OTPCode, OtpPurpose, User, UserType
from .phone import mask_phone

logger = logging.getLogger(__name__)

T = TypeVar("T")

HOUR = 3600
CODE_DIGITS = 6
# Compared against when there is no candidate code, so a miss costs the same work as a wrong code.
_NO_CODE_HASH = "0" * 64


class OtpInvalid(ApiError):
    default_detail = _("This code is not correct. Check it and try again, or request a new code.")
    default_code = "otp_invalid"


class OtpExpired(ApiError):
    default_detail = _("This code has expired. Request a new code.")
    default_code = "otp_expired"


class OtpAttemptsExceeded(ApiError):
    default_detail = _("Too many wrong tries for this code. Request a new code.")
    default_code = "otp_attempts_exceeded"


class OtpDeliveryFailed(UpstreamFailed):
    default_detail = _("We could not send your code by WhatsApp or SMS. Please try again in a few minutes.")
    default_code = "otp_delivery_failed"


class SignInRequired(ApiError):
    status_code = 401
    default_detail = _("Sign in first to verify a phone number.")
    default_code = "not_authenticated"


class AccountDisabled(ApiError):
    status_code = 403
    default_detail = _("This account is disabled.")
    default_code = "account_disabled"


class NoAccount(ApiError):
    status_code = 403
    default_detail = _("There is no account for this number. To sign in as a guest, scan the QR code at your hotel.")
    default_code = "no_account"


class NotHotelMember(ApiError):
    status_code = 403
    default_detail = _("Your staff account is not a member of this hotel.")
    default_code = "not_hotel_member"


class PhoneTaken(Conflict):
    default_detail = _("This number belongs to another account.")
    default_code = "phone_taken"


@dataclass(frozen=True)
class OtpSendResult:
    otp_id: int
    channel: str
    expires_in: int
    resend_in: int


@dataclass(frozen=True)
class SignInResult:
    user: User
    created: bool


def otp_hash(*, phone: str, purpose: str, code: str) -> str:
    """Keyed hash binding a code to its phone and purpose; a leaked table reveals no codes."""
    message = f"{purpose}\x1f{phone}\x1f{code}".encode()
    return hmac.new(settings.OTP_HASH_KEY.encode(), message, hashlib.sha256).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _language(value: str | None) -> str:
    value = (value or "")[:2].lower()
    return value if value in Language.values else settings.LANGUAGE_CODE


# --- sending --------------------------------------------------------------------------------


def otp_send(
    *,
    phone: str,
    purpose: str,
    hotel: Hotel | None,
    ip: str | None,
    device_fingerprint: str,
    language: str,
    actor: User | None = None,
) -> OtpSendResult:
    """Send a fresh code to `phone`, WhatsApp first and SMS if that fails.

    The row is written before delivery so a failed or crashed delivery still counts for the
    limits; it becomes usable only once a provider accepted the code. Only then does it supersede
    the older codes of the same phone, purpose and hotel (a failed resend keeps the old code).
    """
    if purpose == OtpPurpose.VERIFY:
        if actor is None or not actor.is_authenticated:
            raise SignInRequired()
        # Proving a phone for an account is not tied to a hotel.
        hotel = None
    now = timezone.now()
    _enforce_send_limits(phone=phone, ip=ip, device=device_fingerprint, now=now)

    # The same query runs for known and unknown numbers; only the message language depends on it.
    known_language = User.objects.filter(phone_number=phone).values_list("preferred_language", flat=True).first()
    recipient_language = _language(known_language or language)
    code = _new_code()
    otp = OTPCode.objects.create(
        phone_number=phone,
        purpose=purpose,
        hotel=hotel,
        code_hash=otp_hash(phone=phone, purpose=purpose, code=code),
        language=recipient_language,
        expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        ip=ip,
        device_fingerprint=device_fingerprint or "",
        created_at=now,
    )

    delivery, fell_back = _deliver(phone=phone, code=code, language=recipient_language)
    if delivery is None:
        # Kept (not deleted) so it still counts for the limits; it can never be verified.
        OTPCode.objects.filter(pk=otp.pk).update(is_used=True, delivery_failed=True)
        raise OtpDeliveryFailed(extra={"resend_in": settings.OTP_RESEND_COOLDOWN_SECONDS})

    with transaction.atomic():
        OTPCode.objects.filter(pk=otp.pk).update(
            sent_at=timezone.now(),
            channel=delivery.channel,
            provider_message_id=delivery.message_id[:100],
            # A code that already went out by SMS needs no later SMS fallback.
            sms_fallback_sent=fell_back,
        )
        OTPCode.objects.filter(phone_number=phone, purpose=purpose, hotel=hotel, is_used=False, pk__lt=otp.pk).update(
            is_used=True
        )
    return OtpSendResult(
        otp_id=otp.pk,
        channel=delivery.channel,
        expires_in=settings.OTP_TTL_SECONDS,
        resend_in=settings.OTP_RESEND_COOLDOWN_SECONDS,
    )


def _deliver(*, phone: str, code: str, language: str) -> tuple[Delivery | None, bool]:
    """Try each sender of the chain in turn; (delivery, whether a later sender than the first won)."""
    for position, sender in enumerate(otp_senders()):
        try:
            with translation.override(language):
                return sender.send_otp(phone=phone, code=code, language=language), position > 0
        except ProviderError as exc:
            logger.warning(
                "OTP delivery to %s via %s/%s failed (transient=%s): %s",
                mask_phone(phone),
                exc.provider,
                getattr(sender, "channel", "?"),
                exc.transient,
                exc,
            )
    return None, False


def otp_sms_fallback(*, otp_id: int) -> bool:
    """Send a sent-but-undelivered code again by SMS, with a new code. True when an SMS went out.

    Exactly one fallback per code: the row is claimed by one atomic UPDATE (a claim older than
    OTP_SMS_FALLBACK_CLAIM_STALE_SECONDS is abandoned and may be taken again); the SMS is sent
    outside any lock; the code hash is replaced only after the SMS was accepted, so a failed SMS
    leaves the first code valid and releases the claim for a later retry.
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.OTP_SMS_FALLBACK_CLAIM_STALE_SECONDS)
    claimed = (
        OTPCode.objects.filter(
            pk=otp_id,
            sent_at__isnull=False,
            is_used=False,
            delivery_failed=False,
            sms_fallback_sent=False,
            expires_at__gt=now,
        )
        .exclude(channel=OtpChannel.SMS)
        .filter(Q(sms_fallback_claimed_at__isnull=True) | Q(sms_fallback_claimed_at__lt=stale_before))
        .update(sms_fallback_claimed_at=now)
    )
    if claimed != 1:
        return False
    release = OTPCode.objects.filter(pk=otp_id, sms_fallback_claimed_at=now)
    sender = sms_otp_sender()
    if sender is None:
        release.update(sms_fallback_claimed_at=None)
        return False
    otp = OTPCode.objects.get(pk=otp_id)
    language = _language(otp.language)
    code = _new_code()
    try:
        with translation.override(language):
            delivery = sender.send_otp(phone=otp.phone_number, code=code, language=language)
    except ProviderError as exc:
        logger.warning("OTP SMS fallback to %s failed: %s", mask_phone(otp.phone_number), exc)
        release.update(sms_fallback_claimed_at=None)
        return False
    replaced = OTPCode.objects.filter(pk=otp_id, is_used=False, sms_fallback_sent=False).update(
        code_hash=otp_hash(phone=otp.phone_number, purpose=otp.purpose, code=code),
        channel=delivery.channel,
        provider_message_id=delivery.message_id[:100],
        sms_fallback_sent=True,
    )
    return replaced == 1


# --- verifying ------------------------------------------------------------------------------


def otp_verify(*, phone: str, code: str, purpose: str, hotel: Hotel | None, ip: str | None = None) -> OTPCode:
    """Consume the code for (phone, purpose, hotel) or raise why it cannot be used."""
    return _verify(phone=phone, code=code, purpose=purpose, hotel=hotel, ip=ip, accept=lambda otp: otp)


def otp_sign_in(
    *, phone: str, code: str, hotel: Hotel | None, ip: str | None = None, language: str = ""
) -> SignInResult:
    """Sign in with an `auth` code. With a hotel, a first-time guest gets an account; without
    one, only existing accounts sign in. Account refusals happen before the code is used up."""

    def accept(otp: OTPCode) -> SignInResult:
        return _sign_in_account(phone=phone, hotel=hotel, language=_language(language))

    return _verify(phone=phone, code=code, purpose=OtpPurpose.AUTH, hotel=hotel, ip=ip, accept=accept)


def otp_verify_phone(*, user: User, phone: str, code: str, ip: str | None = None) -> User:
    """A signed-in user proves `phone` with a `verify` code: their own number is marked verified,
    a free number becomes theirs, another account's number is refused (the code stays usable)."""

    def accept(otp: OTPCode) -> User:
        return _prove_phone(user=user, phone=phone, ip=ip)

    return _verify(phone=phone, code=code, purpose=OtpPurpose.VERIFY, hotel=None, ip=ip, accept=accept)


def _verify(
    *, phone: str, code: str, purpose: str, hotel: Hotel | None, ip: str | None, accept: Callable[[OTPCode], T]
) -> T:
    _enforce_verify_limits(phone=phone)
    failure: ApiError
    with transaction.atomic():
        candidates = OTPCode.objects.select_for_update().filter(
            phone_number=phone, purpose=purpose, sent_at__isnull=False
        )
        # Strict: a hotel-bound code is never accepted without its hotel, nor an unbound one with a hotel.
        candidates = candidates.filter(hotel=hotel) if hotel is not None else candidates.filter(hotel__isnull=True)
        otp = candidates.order_by("-created_at", "-pk").first()
        supplied = otp_hash(phone=phone, purpose=purpose, code=code)
        matches = hmac.compare_digest(supplied, otp.code_hash if otp is not None else _NO_CODE_HASH)
        if otp is None:
            failure = OtpInvalid()
        elif otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            failure = OtpAttemptsExceeded()
        elif otp.is_used:
            failure = OtpInvalid()
        elif otp.expires_at <= timezone.now():
            failure = OtpExpired()
        elif matches:
            # May raise (disabled account, …): the transaction rolls back and the code stays usable.
            result = accept(otp)
            otp.is_used = True
            otp.save(update_fields=["is_used"])
            return result
        else:
            otp.attempts += 1
            burned = otp.attempts >= settings.OTP_MAX_ATTEMPTS
            otp.is_used = burned
            otp.save(update_fields=["attempts", "is_used"])
            failure = OtpAttemptsExceeded() if burned else OtpInvalid()
    # Outside the block on purpose: the wrong try above is committed before the error is raised.
    ratelimit.hit(_failed_verify_key(phone), settings.OTP_FAILED_VERIFIES_PER_PHONE_PER_HOUR, HOUR)
    raise failure


def _sign_in_account(*, phone: str, hotel: Hotel | None, language: str) -> SignInResult:
    user = User.objects.select_for_update().filter(phone_number=phone).first()
    created = False
    if user is None:
        if hotel is None:
            raise NoAccount()
        user, created = User.objects.create_guest_user(phone, preferred_language=language)
    if not user.is_active:
        raise AccountDisabled()
    if (
        hotel is not None
        and user.user_type == UserType.STAFF
        and not user.is_superuser
        and not HotelMembership.objects.filter(user=user, hotel=hotel, is_active=True).exists()
    ):
        raise NotHotelMember()
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["phone_verified_at"])
    return SignInResult(user=user, created=created)


def _prove_phone(*, user: User, phone: str, ip: str | None) -> User:
    account = User.objects.select_for_update().get(pk=user.pk)
    if not account.is_active:
        raise AccountDisabled()
    now = timezone.now()
    if account.phone_number == phone:
        account.phone_verified_at = now
        account.save(update_fields=["phone_verified_at"])
        return account
    if User.objects.filter(phone_number=phone).exclude(pk=account.pk).exists():
        raise PhoneTaken()
    previous = account.phone_number
    account.phone_number = phone
    account.phone_verified_at = now
    try:
        with transaction.atomic():
            account.save(update_fields=["phone_number", "phone_verified_at"])
    except IntegrityError as exc:
        # Another account took the number between the check and the save.
        raise PhoneTaken() from exc
    audit_record(
        actor=account,
        action="account.phone_changed",
        target=account,
        ip=ip,
        before={"phone_number": previous},
        after={"phone_number": phone},
    )
    return account


# --- abuse limits ---------------------------------------------------------------------------


def _failed_verify_key(phone: str) -> str:
    return f"otp:verify-failed:phone:{phone}"


def _cooldown_key(phone: str) -> str:
    return f"otp:send-cooldown:phone:{phone}"


def _wait_text(seconds: int) -> str:
    # Whole units people can act on: "90 seconds", "45 minutes", "3 hours".
    if seconds <= 90:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    if seconds <= 2 * HOUR:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = math.ceil(seconds / HOUR)
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def _cooldown(retry_after: int) -> RateLimited:
    return RateLimited(
        retry_after,
        gettext("Please wait %(wait)s before requesting another code.") % {"wait": _wait_text(retry_after)},
        code="otp_resend_cooldown",
    )


def _too_many_sends(retry_after: int) -> RateLimited:
    return RateLimited(
        retry_after,
        gettext("Too many codes were requested. Try again in %(wait)s.") % {"wait": _wait_text(retry_after)},
    )


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _enforce_send_limits(*, phone: str, ip: str | None, device: str, now: datetime) -> None:
    """The phone's cooldown and the hourly caps per phone, address and device.

    The OTPCode rows of the last hour are checked first: they are durable, so the limits hold even
    when counters were lost (Redis restarted, or down and back). The counters then settle
    concurrent requests, which the rows cannot see yet, with one atomic increment each.
    """
    cooldown = settings.OTP_RESEND_COOLDOWN_SECONDS
    # name → (value, rows of this scope, sends allowed per hour)
    scopes: dict[str, tuple[str, Q, int]] = {
        "phone": (phone, Q(phone_number=phone), settings.OTP_SENDS_PER_PHONE_PER_HOUR)
    }
    if ip:
        scopes["ip"] = (ip, Q(ip=ip), settings.OTP_SENDS_PER_IP_PER_HOUR)
    if device:
        scopes["device"] = (device, Q(device_fingerprint=device), settings.OTP_SENDS_PER_DEVICE_PER_HOUR)

    any_scope = Q()
    aggregates: dict[str, Count | Min | Max] = {"phone_last": Max("created_at", filter=Q(phone_number=phone))}
    for name, (_value, rows, _cap) in scopes.items():
        any_scope |= rows
        aggregates[f"{name}_count"] = Count("pk", filter=rows)
        aggregates[f"{name}_first"] = Min("created_at", filter=rows)
    floor = OTPCode.objects.filter(any_scope, created_at__gt=now - timedelta(seconds=HOUR)).aggregate(**aggregates)
    phone_last = floor["phone_last"]
    if phone_last is not None and (now - phone_last).total_seconds() < cooldown:
        raise _cooldown(_seconds_until(phone_last + timedelta(seconds=cooldown), now))
    for name, (_value, _rows, cap) in scopes.items():
        if floor[f"{name}_count"] >= cap:
            raise _too_many_sends(_seconds_until(floor[f"{name}_first"] + timedelta(seconds=HOUR), now))

    limits = [ratelimit.Limit(_cooldown_key(phone), 1, cooldown)] if cooldown > 0 else []
    limits += [ratelimit.Limit(f"otp:send:{name}:{value}", cap, HOUR) for name, (value, _rows, cap) in scopes.items()]
    decision = ratelimit.hit_all(limits)
    if not decision.allowed:
        if decision.key == _cooldown_key(phone):
            raise _cooldown(decision.retry_after)
        raise _too_many_sends(decision.retry_after)


def _enforce_verify_limits(*, phone: str) -> None:
    """At most OTP_FAILED_VERIFIES_PER_PHONE_PER_HOUR wrong codes per phone, from any address.

    The wrong tries recorded on the phone's recent codes are the durable floor of the counter."""
    limit = settings.OTP_FAILED_VERIFIES_PER_PHONE_PER_HOUR
    decision = ratelimit.peek(_failed_verify_key(phone), limit, HOUR)
    retry_after = decision.retry_after
    if decision.allowed:
        now = timezone.now()
        floor = OTPCode.objects.filter(phone_number=phone, created_at__gt=now - timedelta(seconds=HOUR)).aggregate(
            attempts=Sum("attempts"), first=Min("created_at")
        )
        if (floor["attempts"] or 0) < limit:
            return
        retry_after = _seconds_until(floor["first"] + timedelta(seconds=HOUR), now)
    raise RateLimited(
        retry_after,
        gettext("Too many wrong codes for this number. Try again in %(wait)s.") % {"wait": _wait_text(retry_after)},
    )
