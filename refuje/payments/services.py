"""Payment writes: start, verify, webhooks, capture/refund/void, cancellation refunds, reconciliation.

The gateway is the source of truth. Whatever reports a change (the payer's redirect, a webhook,
the reconciliation job, an admin action) ends in `_sync`: the payment's authoritative state is
fetched from the gateway, then applied under the booking and payment row locks (always in that
order, the same as booking cancellation) by `_apply`, which moves the payment forward only, books
each movement of money once in the ledger, and refuses to confirm anything whose amount or
currency differs from what we asked for (the payment is flagged instead).

Refunds are reserved first (a pending Refund row whose amount no other refund may use), then sent,
then settled from the gateway's cumulative `refunded` amount. A refund whose answer never came
stays pending; the reconciliation job settles it from the gateway's state or sends it again.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.accounts.models import User
from refuje.bookings.events import BOOKING_REFUNDED, publish_booking_event
from refuje.bookings.models import Booking, BookingStatus
from refuje.common.errors import ApiError, Conflict, UpstreamFailed
from refuje.compliance.services import audit_record
from refuje.providers import moyasar as remote_status
from refuje.providers.moyasar import GatewayPayment, MoyasarError

from .gateway import payment_gateway
from .models import (
    HOLDING_STATUSES,
    LedgerEntry,
    LedgerKind,
    Payment,
    PaymentStatus,
    Refund,
    RefundKind,
    RefundStatus,
    WebhookEvent,
    WebhookOutcome,
)

logger = logging.getLogger("refuje.payments")

PROVIDER = "moyasar"
MAX_REASON_LENGTH = 500
# Events that concern a payment's state; anything else is stored and ignored.
PAYMENT_EVENTS = frozenset(
    {
        "payment_paid",
        "payment_failed",
        "payment_faild",  # sic: the docs spell it both ways
        "payment_refunded",
        "payment_voided",
        "payment_authorized",
        "payment_captured",
        "payment_verified",
        "payment_abandoned",
        "payment_canceled",
        "payment_expired",
    }
)
# Booking statuses in which a payment that just arrived may be kept.
_BOOKING_KEEPS_PAYMENT = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


class PaymentMismatch(Conflict):
    default_detail = _("The payment does not match this booking's amount or currency. It was not accepted.")
    default_code = "payment_mismatch"


class PaymentNotCapturable(Conflict):
    default_detail = _("Only an authorised payment can be captured.")
    default_code = "payment_not_capturable"


class PaymentNotRefundable(Conflict):
    default_detail = _("This payment has nothing left to refund.")
    default_code = "payment_not_refundable"


class RefundExceedsPaid(Conflict):
    default_detail = _("The refund is larger than what is left of the payment.")
    default_code = "refund_exceeds_paid"


class PaymentNotVoidable(Conflict):
    default_detail = _("Only an authorised payment, or a charge not yet refunded, can be voided.")
    default_code = "payment_not_voidable"


class GatewayRejected(ApiError):
    status_code = 409
    default_detail = _("The payment provider refused this operation.")
    default_code = "gateway_rejected"


def _upstream() -> UpstreamFailed:
    return UpstreamFailed(
        _("The payment provider did not answer. Please try again shortly."), "payment_provider_failed"
    )


# --- Start ----------------------------------------------------------------------------------


def payment_start(*, booking: Booking) -> Payment:
    """The booking's open payment, created on first call (a fresh idempotency key each time a
    previous attempt failed). Call it in the transaction that creates the booking."""
    with transaction.atomic():
        existing = (
            Payment.objects.select_for_update()
            .filter(booking=booking, status=PaymentStatus.INITIATED, flagged=False)
            .order_by("-created_at", "-id")
            .first()
        )
        if existing is not None:
            return existing
        payment = Payment(
            booking=booking,
            hotel_id=booking.hotel_id,
            customer_id=booking.customer_id,
            provider=str(settings.PAYMENT_PROVIDER),
            amount_minor=booking.price_minor,
            currency=booking.currency,
            manual_capture=bool(settings.PAYMENT_MANUAL_CAPTURE),
        )
        payment.full_clean(exclude=["booking", "hotel", "customer"])
        payment.save()
        return payment


def payment_form_data(payment: Payment) -> dict[str, Any]:
    """What the front end needs to show the Moyasar payment form. Card data goes from the
    payer's browser to Moyasar only; the publishable key can do nothing but create payments."""
    is_moyasar = payment.provider == "moyasar"
    metadata = {
        "booking_id": str(payment.booking_id),
        "payment_id": str(payment.pk),
        "given_id": str(payment.given_id),
    }
    return {
        "provider": payment.provider,
        "payment_id": payment.pk,
        "given_id": str(payment.given_id),
        "publishable_api_key": settings.MOYASAR_PUBLISHABLE_KEY if is_moyasar else "",
        "amount": payment.amount_minor,
        "currency": payment.currency,
        "money": {"amount_minor": payment.amount_minor, "currency": payment.currency},
        "description": f"Booking #{payment.booking_id}",
        "callback_url": str(settings.PAYMENT_CALLBACK_URL).format(payment_id=payment.pk),
        "manual": payment.manual_capture,
        "verify_url": f"/api/v1/payments/{payment.pk}/verify/",
        "metadata": metadata,
    }


# --- Applying the gateway's state -----------------------------------------------------------


@dataclass
class Applied:
    payment: Payment
    outcome: str = WebhookOutcome.NO_CHANGE
    changed: bool = False
    # Refunds/voids to send once the transaction has committed (paid-late, duplicate payments).
    releases: list[int] = field(default_factory=list)


def _charged(remote: GatewayPayment) -> int:
    # A plain `paid` payment reports `captured: 0`; captured applies to authorise-then-capture.
    if remote.status == remote_status.PAID:
        return remote.captured or remote.amount
    if remote.status in (remote_status.CAPTURED, remote_status.REFUNDED):
        return remote.captured or remote.amount
    return 0


def _belongs(payment: Payment, remote: GatewayPayment) -> bool:
    if remote.id and remote.id in (payment.moyasar_id, str(payment.given_id)):
        return True
    # The Moyasar form may not pass our given_id; then its metadata names the payment.
    return remote.metadata.get("payment_id") == str(payment.pk) and remote.metadata.get("given_id", "") in (
        "",
        str(payment.given_id),
    )


def _ledger(payment: Payment, kind: str, amount: int, before: str, source: str, refund: Refund | None = None) -> None:
    LedgerEntry.objects.create(
        payment=payment,
        kind=kind,
        amount_minor=amount,
        currency=payment.currency,
        status_before=before,
        status_after=payment.status,
        source=source,
        refund=refund,
    )


def _flag(payment: Payment, reason: str) -> None:
    payment.flagged = True
    payment.flag_reason = reason[:255]
    payment.updated_at = timezone.now()
    payment.save(update_fields=["flagged", "flag_reason", "updated_at", "last_checked_at"])
    logger.error("payment %s flagged: %s", payment.pk, reason)


def _apply(payment: Payment, remote: GatewayPayment, *, source: str, booking: Booking) -> Applied:
    """Move the locked `payment` to the gateway's state. Forward only, idempotent."""
    now = timezone.now()
    payment.last_checked_at = now
    result = Applied(payment=payment)
    if not _belongs(payment, remote):
        # Someone else's payment (a payer can name any id): refused, and ours is left as it was.
        result.outcome = WebhookOutcome.MISMATCH
        return result
    if remote.amount != payment.amount_minor or remote.currency != payment.currency:
        _flag(
            payment,
            f"gateway reports {remote.amount} {remote.currency[:3]}, "
            f"expected {payment.amount_minor} {payment.currency}",
        )
        result.outcome = WebhookOutcome.MISMATCH
        return result
    if payment.moyasar_id != remote.id:
        if Payment.objects.filter(moyasar_id=remote.id).exclude(pk=payment.pk).exists():
            _flag(payment, f"gateway payment {remote.id[:60]} already belongs to another payment")
            result.outcome = WebhookOutcome.MISMATCH
            return result
        payment.moyasar_id = remote.id
    payment.raw = remote.raw or payment.raw
    start = payment.status
    fields = {"moyasar_id", "raw", "last_checked_at", "updated_at"}

    def move(kind: str, amount: int, new_status: str, refund: Refund | None = None) -> None:
        before = payment.status
        payment.status = new_status
        _ledger(payment, kind, amount, before, source, refund)
        result.changed = True

    # Failure: only an unpaid payment can fail.
    if remote.status == remote_status.FAILED and payment.status == PaymentStatus.INITIATED:
        payment.status = PaymentStatus.FAILED
        payment.failure_message = remote.message
        result.changed = True

    charged = _charged(remote)
    holds = remote.status == remote_status.AUTHORIZED or (
        remote.status in (remote_status.CAPTURED, remote_status.VOIDED) and payment.manual_capture
    )
    if holds and payment.status in (PaymentStatus.INITIATED, PaymentStatus.FAILED) and not payment.authorized_minor:
        payment.authorized_minor = remote.amount
        move(LedgerKind.AUTHORIZATION, remote.amount, PaymentStatus.AUTHORIZED)

    if charged and not payment.captured_minor and payment.status != PaymentStatus.VOIDED:
        payment.captured_minor = charged
        payment.paid_at = now
        kind = LedgerKind.CAPTURE if payment.status == PaymentStatus.AUTHORIZED else LedgerKind.CHARGE
        move(kind, charged, PaymentStatus.PAID)

    if remote.refunded > payment.refunded_minor and payment.captured_minor:
        _settle_refunds(payment, remote, source=source, booking=booking, move=move)

    if remote.status == remote_status.VOIDED and payment.status != PaymentStatus.VOIDED:
        released = payment.captured_minor or payment.authorized_minor or payment.amount_minor
        void = (
            Refund.objects.select_for_update()
            .filter(payment=payment, kind=RefundKind.VOID, status=RefundStatus.PENDING)
            .first()
        )
        if void is None:
            void = Refund.objects.create(
                payment=payment, kind=RefundKind.VOID, amount_minor=released, reason="Voided at the gateway"
            )
        void.status = RefundStatus.SUCCEEDED
        void.amount_minor = released
        void.completed_at = now
        void.moyasar_reference = f"{remote.id}:voided"[:200]
        void.save(update_fields=["status", "amount_minor", "completed_at", "moyasar_reference"])
        move(LedgerKind.VOID, released, PaymentStatus.VOIDED, void)
        # Nothing is left to refund from a voided payment.
        Refund.objects.filter(payment=payment, kind=RefundKind.REFUND, status=RefundStatus.PENDING).update(
            status=RefundStatus.FAILED, error="The payment was voided.", completed_at=now
        )
        publish_booking_event(BOOKING_REFUNDED, booking, {"amount_minor": released, "currency": payment.currency})

    if result.changed:
        payment.updated_at = now
        fields |= {
            "status",
            "failure_message",
            "authorized_minor",
            "captured_minor",
            "refunded_minor",
            "paid_at",
        }
        result.outcome = WebhookOutcome.APPLIED
    payment.save(update_fields=sorted(fields))

    if start in (PaymentStatus.INITIATED, PaymentStatus.FAILED) and payment.status in HOLDING_STATUSES:
        result.releases.extend(_payment_arrived(payment, booking))
    elif start == PaymentStatus.INITIATED and payment.status == PaymentStatus.FAILED:
        from refuje.bookings.services import booking_payment_failed

        booking_payment_failed(booking_id=booking.pk)
    return result


def _settle_refunds(payment: Payment, remote: GatewayPayment, *, source: str, booking: Booking, move: Any) -> None:
    """Book the gateway's newly refunded amount: our pending refunds first (oldest first), then
    whatever was refunded elsewhere (the Moyasar dashboard) as a refund of its own."""
    remaining = min(remote.refunded, payment.captured_minor) - payment.refunded_minor
    now = timezone.now()
    pending = Refund.objects.select_for_update().filter(
        payment=payment, kind=RefundKind.REFUND, status=RefundStatus.PENDING
    )
    settled: list[Refund] = []
    for refund in pending.order_by("created_at", "id"):
        if refund.amount_minor <= remaining:
            settled.append(refund)
            remaining -= refund.amount_minor
    if remaining > 0:
        settled.append(
            Refund.objects.create(
                payment=payment, kind=RefundKind.REFUND, amount_minor=remaining, reason="Refunded at the gateway"
            )
        )
    for refund in settled:
        refund.status = RefundStatus.SUCCEEDED
        refund.completed_at = now
        refund.error = ""
        refund.moyasar_reference = f"{remote.id}:refunded={remote.refunded}@{remote.refunded_at}"[:200]
        refund.save(update_fields=["status", "completed_at", "error", "moyasar_reference"])
        payment.refunded_minor += refund.amount_minor
        full = payment.refunded_minor >= payment.captured_minor
        move(
            LedgerKind.REFUND,
            refund.amount_minor,
            PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED,
            refund,
        )
        publish_booking_event(
            BOOKING_REFUNDED, booking, {"amount_minor": refund.amount_minor, "currency": payment.currency}
        )


def _payment_arrived(payment: Payment, booking: Booking) -> list[int]:
    """Money is now held for the booking: confirm it, or give the money back when the booking
    no longer holds its slot (a paid-late payment) or another payment already covers it."""
    from refuje.bookings.services import booking_payment_succeeded

    reason = ""
    other_holding = (
        Payment.objects.filter(booking_id=booking.pk, status__in=HOLDING_STATUSES).exclude(pk=payment.pk).exists()
    )
    if other_holding:
        reason = "Duplicate payment: the booking was already paid."
    else:
        booking = booking_payment_succeeded(booking_id=booking.pk)
        if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
            reason = f"The booking was {booking.status} when the payment arrived."
    if not reason:
        return []
    logger.warning("payment %s arrived for booking %s: releasing it (%s)", payment.pk, booking.pk, reason)
    return [_reserve_release(payment, reason=reason, actor=None).pk]


def _reserve_release(payment: Payment, *, reason: str, actor: User | None, amount: int | None = None) -> Refund:
    """Reserve the give-back of a locked holding payment: a void for an authorisation, a refund
    for a charge."""
    if payment.status == PaymentStatus.AUTHORIZED:
        return Refund.objects.create(
            payment=payment, kind=RefundKind.VOID, amount_minor=payment.authorized_minor, reason=reason, actor=actor
        )
    available = _available(payment)
    amount = available if amount is None else amount
    return Refund.objects.create(
        payment=payment, kind=RefundKind.REFUND, amount_minor=amount, reason=reason[:MAX_REASON_LENGTH], actor=actor
    )


def _available(payment: Payment) -> int:
    pending = (
        Refund.objects.filter(payment=payment, kind=RefundKind.REFUND, status=RefundStatus.PENDING).aggregate(
            total=Sum("amount_minor")
        )["total"]
        or 0
    )
    return max(0, payment.captured_minor - payment.refunded_minor - pending)


def _locked(payment_id: int) -> tuple[Booking, Payment]:
    """Lock the booking, then the payment: the order booking cancellation uses too."""
    booking_id = Payment.objects.values_list("booking_id", flat=True).get(pk=payment_id)
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    return booking, payment


def _sync(payment_id: int, remote: GatewayPayment, *, source: str) -> Applied:
    with transaction.atomic():
        booking, payment = _locked(payment_id)
        result = _apply(payment, remote, source=source, booking=booking)
    _send_releases(result.releases)
    return result


def _send_releases(refund_ids: list[int], *, source: str = "auto") -> None:
    """Send reserved refunds now, or once the surrounding transaction commits: a gateway call
    never runs under a caller's row locks, and a rolled-back reservation is never sent."""
    for refund_id in refund_ids:
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(functools.partial(_execute_refund, refund_id, source=source), robust=True)
        else:
            _execute_refund(refund_id, source=source)


def _execute_refund(refund_id: int, *, source: str) -> Refund:
    """Send a reserved refund or void to the gateway and settle it from the answer. A transport
    failure leaves it pending (the reconciliation job finishes it); a refusal marks it failed."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update(of=("self",)).select_related("payment").get(pk=refund_id)
        if refund.status != RefundStatus.PENDING:
            return refund
        refund.attempts += 1
        refund.last_attempt_at = timezone.now()
        refund.save(update_fields=["attempts", "last_attempt_at"])
    payment = refund.payment
    gateway = payment_gateway()
    target = payment.moyasar_id or str(payment.given_id)
    try:
        if refund.kind == RefundKind.VOID:
            remote = gateway.void(target)
        else:
            remote = gateway.refund(target, amount=refund.amount_minor)
    except MoyasarError as exc:
        if exc.transient:
            Refund.objects.filter(pk=refund.pk).update(error=str(exc)[:300])
            refund.refresh_from_db()
            return refund
        # Refused: maybe because an earlier, unanswered attempt went through. The gateway's state decides.
        try:
            remote = gateway.fetch_payment(target)
            _sync(payment.pk, remote, source=source)
        except MoyasarError:
            logger.warning("refund %s: the payment could not be fetched after a refusal", refund.pk)
        refund.refresh_from_db()
        if refund.status == RefundStatus.PENDING:
            Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
                status=RefundStatus.FAILED, error=str(exc)[:300], completed_at=timezone.now()
            )
            refund.refresh_from_db()
        return refund
    _sync(payment.pk, remote, source=source)
    refund.refresh_from_db()
    return refund


# --- The payer's redirect -------------------------------------------------------------------


def payment_verify(*, payment: Payment, moyasar_id: str = "") -> Payment:
    """After the payment form: fetch the payment from the gateway and apply it. The redirect's
    query string is never trusted: only the gateway's answer counts, and only when it is this
    payment, with this amount and currency."""
    target = moyasar_id or payment.moyasar_id or str(payment.given_id)
    try:
        remote = payment_gateway().fetch_payment(target)
    except MoyasarError as exc:
        if exc.not_found:
            raise PaymentMismatch(_("The payment provider has no such payment."), "payment_not_found") from exc
        if exc.transient:
            raise _upstream() from exc
        raise GatewayRejected() from exc
    result = _sync(payment.pk, remote, source="verify")
    if result.outcome == WebhookOutcome.MISMATCH:
        raise PaymentMismatch()
    return result.payment


# --- Webhooks -------------------------------------------------------------------------------


def webhook_secret_matches(token: Any) -> bool:
    """Constant-time; an unset secret matches nothing."""
    secret = str(settings.MOYASAR_WEBHOOK_SECRET or "")
    if not secret or not isinstance(token, str):
        return False
    return hmac.compare_digest(token.encode(), secret.encode())


def _local_payment(remote: GatewayPayment) -> Payment | None:
    query = Q(moyasar_id=remote.id)
    for candidate in (remote.id, remote.metadata.get("given_id", "")):
        with contextlib.suppress(ValueError, TypeError):
            query |= Q(given_id=uuid.UUID(candidate))
    found = Payment.objects.filter(query).first()
    if found is None and remote.metadata.get("payment_id", "").isdigit():
        found = Payment.objects.filter(pk=int(remote.metadata["payment_id"])).first()
    return found


def _store_event(*, event_id: str, event_type: str, object_id: str, payload: dict[str, Any]) -> WebhookEvent:
    try:
        with transaction.atomic():
            event, _created = WebhookEvent.objects.get_or_create(
                provider=PROVIDER,
                event_id=event_id,
                defaults={"event_type": event_type, "object_id": object_id, "payload": payload},
            )
    except IntegrityError:
        event = WebhookEvent.objects.get(provider=PROVIDER, event_id=event_id)
    return event


def _finish_event(event_id: int, outcome: str, payment: Payment | None = None) -> WebhookEvent:
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.processed_at is None:
            event.processed_at = timezone.now()
            event.outcome = outcome
            event.payment = payment
            event.attempts += 1
            event.save(update_fields=["processed_at", "outcome", "payment", "attempts"])
    return event


def moyasar_webhook_handle(
    *, event_id: str, event_type: str, object_id: str, live: Any, payload: dict[str, Any]
) -> WebhookEvent:
    """Store the (authenticated) event once, then apply the payment's state fetched afresh.

    Repeats and concurrent deliveries of one event apply it once; events of one payment may come
    in any order, since each applies the gateway's current state rather than the event's.
    """
    event = _store_event(event_id=event_id, event_type=event_type, object_id=object_id, payload=payload)
    if event.processed_at is not None:
        return event
    gateway = payment_gateway()
    if event_type not in PAYMENT_EVENTS or (isinstance(live, bool) and live != gateway.live):
        return _finish_event(event.pk, WebhookOutcome.IGNORED)
    try:
        remote = gateway.fetch_payment(object_id)
    except MoyasarError as exc:
        if exc.not_found:
            return _finish_event(event.pk, WebhookOutcome.UNKNOWN_PAYMENT)
        WebhookEvent.objects.filter(pk=event.pk).update(outcome=WebhookOutcome.FETCH_FAILED)
        raise _upstream() from exc
    payment = _local_payment(remote)
    if payment is None:
        return _finish_event(event.pk, WebhookOutcome.UNKNOWN_PAYMENT)
    with transaction.atomic():
        locked_event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if locked_event.processed_at is not None:
            return locked_event
        booking, locked = _locked(payment.pk)
        result = _apply(locked, remote, source="webhook", booking=booking)
        locked_event.processed_at = timezone.now()
        locked_event.outcome = result.outcome
        locked_event.payment = locked
        locked_event.attempts += 1
        locked_event.save(update_fields=["processed_at", "outcome", "payment", "attempts"])
    _send_releases(result.releases)
    return locked_event


# --- Admin operations -----------------------------------------------------------------------


def _state(payment: Payment) -> dict[str, Any]:
    return {
        "status": payment.status,
        "amount_minor": payment.amount_minor,
        "captured_minor": payment.captured_minor,
        "refunded_minor": payment.refunded_minor,
        "currency": payment.currency,
    }


def _gateway_call_failed(exc: MoyasarError) -> ApiError:
    if exc.transient:
        return _upstream()
    return GatewayRejected()


def payment_capture(
    *, payment: Payment, actor: User | None, amount_minor: int | None = None, ip: str | None = None
) -> Payment:
    """Charge an authorised payment (all of it, or less: the rest is released)."""
    if payment.status != PaymentStatus.AUTHORIZED:
        raise PaymentNotCapturable()
    if amount_minor is not None and not 0 < amount_minor <= payment.authorized_minor:
        raise RefundExceedsPaid(_("The capture must be more than 0 and at most the authorised amount."))
    before = _state(payment)
    try:
        remote = payment_gateway().capture(payment.moyasar_id or str(payment.given_id), amount=amount_minor)
    except MoyasarError as exc:
        raise _gateway_call_failed(exc) from exc
    with transaction.atomic():
        booking, locked = _locked(payment.pk)
        result = _apply(locked, remote, source="admin", booking=booking)
        audit_record(
            actor=actor,
            action="payment.capture",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before=before,
            after=_state(locked),
        )
    _send_releases(result.releases)
    return result.payment


def payment_refund(
    *,
    payment: Payment,
    actor: User | None,
    amount_minor: int | None,
    reason: str,
    ip: str | None = None,
    source: str = "admin",
) -> Refund:
    """Refund part or all of what is left of a charge. Refunds never add up to more than was paid:
    each one reserves its amount under the payment's lock before it is sent."""
    reason = (reason or "").strip()[:MAX_REASON_LENGTH]
    with transaction.atomic():
        _booking, locked = _locked(payment.pk)
        if locked.status not in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED):
            raise PaymentNotRefundable()
        available = _available(locked)
        amount = available if amount_minor is None else amount_minor
        if available <= 0:
            raise PaymentNotRefundable()
        if not 0 < amount <= available:
            raise RefundExceedsPaid(
                _("The refund must be more than 0 and at most %(available)s (minor units).") % {"available": available}
            )
        refund = _reserve_release(locked, reason=reason, actor=actor, amount=amount)
        audit_record(
            actor=actor,
            action="payment.refund",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before=_state(locked),
            after={"refund_id": refund.pk, "amount_minor": amount, "currency": locked.currency, "reason": reason},
        )
    return _execute_refund(refund.pk, source=source)


def payment_void(
    *, payment: Payment, actor: User | None, reason: str = "", ip: str | None = None, source: str = "admin"
) -> Refund:
    """Release an authorisation, or reverse a charge before settlement (nothing refunded yet)."""
    with transaction.atomic():
        _booking, locked = _locked(payment.pk)
        voidable = locked.status == PaymentStatus.AUTHORIZED or (
            locked.status == PaymentStatus.PAID and _available(locked) == locked.captured_minor
        )
        if not voidable or Refund.objects.filter(payment=locked, status=RefundStatus.PENDING).exists():
            raise PaymentNotVoidable()
        refund = Refund.objects.create(
            payment=locked,
            kind=RefundKind.VOID,
            amount_minor=locked.captured_minor or locked.authorized_minor,
            reason=(reason or "").strip()[:MAX_REASON_LENGTH],
            actor=actor,
        )
        audit_record(
            actor=actor,
            action="payment.void",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before=_state(locked),
            after={"refund_id": refund.pk, "amount_minor": refund.amount_minor, "currency": locked.currency},
        )
    return _execute_refund(refund.pk, source=source)


def refund_raise_if_failed(refund: Refund) -> Refund:
    """For interfaces: a refused refund is an error for the person who asked for it."""
    if refund.status == RefundStatus.FAILED:
        raise GatewayRejected()
    return refund


# --- Booking interplay ----------------------------------------------------------------------


def payment_for_booking(booking: Booking) -> Payment | None:
    """The payment holding money for the booking, if any."""
    return Payment.objects.filter(booking=booking, status__in=HOLDING_STATUSES).order_by("-created_at", "-id").first()


def payment_refund_for_cancellation(
    *, booking: Booking, amount_minor: int, reason: str, actor: User | None
) -> Refund | None:
    """Give back up to `amount_minor` of what the booking's payment holds, for a cancellation.

    Paid: refunds min(amount, what is left). Only authorised: voids the whole hold when the
    refund covers it, otherwise captures just the fee (the rest is released) and returns None.
    None when there is nothing to give back.

    The refund or void is reserved in the caller's transaction and sent to the gateway once it
    commits, so the booking's row lock is never held across an HTTP call. It is returned still
    pending; a send that gets no answer (or a process that dies before sending) is finished by the
    reconciliation job, and `booking.refunded` is published once it succeeds.
    """
    payment = payment_for_booking(booking)
    if payment is None or amount_minor <= 0:
        if payment is not None and payment.status == PaymentStatus.AUTHORIZED:
            # Nothing comes back: the whole authorisation is the fee.
            _capture_after_commit(payment, actor=actor)
        return None
    if payment.status == PaymentStatus.AUTHORIZED and amount_minor < payment.authorized_minor:
        _capture_after_commit(payment, actor=actor, amount_minor=payment.authorized_minor - amount_minor)
        return None
    with transaction.atomic():
        _booking, locked = _locked(payment.pk)
        if locked.status == PaymentStatus.AUTHORIZED:
            if Refund.objects.filter(payment=locked, status=RefundStatus.PENDING).exists():
                return None  # a void is already on its way
            refund = _reserve_release(locked, reason=reason, actor=actor)
            audit_record(
                actor=actor,
                action="payment.void",
                target=locked,
                hotel=locked.hotel,
                before=_state(locked),
                after={"refund_id": refund.pk, "amount_minor": refund.amount_minor, "currency": locked.currency},
            )
        else:
            amount = min(amount_minor, _available(locked))
            if amount <= 0 or locked.status not in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED):
                return None
            refund = _reserve_release(locked, reason=reason, actor=actor, amount=amount)
    _send_releases([refund.pk], source="cancellation")
    return refund


def payment_capture_after_completion(*, booking_id: int, actor: User | None = None) -> Payment | None:
    """Authorise-then-capture: charge the booking's authorisation once its completion has committed.
    A gateway failure is logged, not raised: the booking is complete either way, and the
    reconciliation job captures what is still only authorised."""
    booking = Booking.objects.filter(pk=booking_id, status=BookingStatus.COMPLETED).first()
    if booking is None:
        return None
    payment = payment_for_booking(booking)
    if payment is None or payment.status != PaymentStatus.AUTHORIZED:
        return payment
    return _capture_logged(payment.pk, actor=actor, amount_minor=None)


def _capture_logged(payment_id: int, *, actor: User | None, amount_minor: int | None) -> Payment | None:
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        return None
    try:
        return payment_capture(payment=payment, actor=actor, amount_minor=amount_minor)
    except ApiError as exc:
        logger.warning("payment %s: capture failed (%s); the reconciliation job retries", payment_id, exc)
        return None


def _capture_after_commit(payment: Payment, *, actor: User | None, amount_minor: int | None = None) -> None:
    """Capture (a cancellation or no-show fee) once the caller's transaction commits, never under
    its row locks; what fails is captured by the reconciliation job."""
    run = functools.partial(_capture_logged, payment.pk, actor=actor, amount_minor=amount_minor)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(run, robust=True)
    else:
        run()


# --- Reconciliation -------------------------------------------------------------------------


@dataclass
class ReconcileResult:
    checked: int = 0
    changed: int = 0
    refunds_settled: int = 0
    captured: int = 0
    errors: int = 0


def payment_reconcile_run(*, now: datetime | None = None) -> ReconcileResult:
    """Fetch payments still open (their webhooks may be lost), finish refunds never answered, and
    make the captures that should have followed a completion, cancellation or no-show."""
    now = now or timezone.now()
    result = ReconcileResult()
    settled_after = now - timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS)
    oldest = now - timedelta(hours=settings.PAYMENT_RECONCILE_MAX_AGE_HOURS)
    gateway = payment_gateway()
    # The console gateway approves whatever it is asked about, so its payments wait for the payer.
    open_payments = (
        Payment.objects.filter(
            status=PaymentStatus.INITIATED, flagged=False, created_at__lte=settled_after, created_at__gte=oldest
        )
        .exclude(provider="console")
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=settled_after))
    )
    for payment in open_payments.order_by("created_at")[:200]:
        result.checked += 1
        try:
            remote = gateway.fetch_payment(payment.moyasar_id or str(payment.given_id))
        except MoyasarError as exc:
            if not exc.not_found:
                result.errors += 1
            # Not found: the payer never submitted the form. Look again later.
            Payment.objects.filter(pk=payment.pk).update(last_checked_at=now)
            continue
        if _sync(payment.pk, remote, source="reconcile").changed:
            result.changed += 1

    retry_after = now - timedelta(seconds=settings.PAYMENT_REFUND_RETRY_AFTER_SECONDS)
    # A refund younger than the retry delay may still be on its way from the code that reserved
    # it; sending it from here as well could refund twice.
    stale_refunds = Refund.objects.filter(status=RefundStatus.PENDING, created_at__lte=retry_after).filter(
        Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=retry_after)
    )
    for refund in stale_refunds.select_related("payment").order_by("created_at")[:200]:
        payment = refund.payment
        try:
            remote = gateway.fetch_payment(payment.moyasar_id or str(payment.given_id))
            _sync(payment.pk, remote, source="reconcile")
        except MoyasarError:
            result.errors += 1
            continue
        refund.refresh_from_db()
        if refund.status == RefundStatus.PENDING:
            # The gateway never made it: send it again.
            refund = _execute_refund(refund.pk, source="reconcile")
        if refund.status == RefundStatus.SUCCEEDED:
            result.refunds_settled += 1
    _capture_due(since=oldest, until=retry_after, result=result)
    return result


def _capture_due(*, since: datetime, until: datetime, result: ReconcileResult) -> None:
    """Authorisations that should have been captured: all of it for a completed booking, the fee of
    a cancellation or no-show. Such a capture follows the booking's commit; this finishes the ones
    that failed (the gateway was down, the process died). A booking changed after `until` (the
    retry delay) is left to its own capture; one changed before `since` is given up on."""
    waiting = (
        Payment.objects.filter(
            status=PaymentStatus.AUTHORIZED,
            booking__updated_at__gte=since,
            booking__updated_at__lte=until,
        )
        .filter(
            Q(booking__status=BookingStatus.COMPLETED)
            | Q(booking__status__in=(BookingStatus.CANCELLED, BookingStatus.NO_SHOW), booking__fee_minor__gt=0)
        )
        .select_related("booking")
    )
    for payment in waiting.order_by("created_at")[:200]:
        booking = payment.booking
        amount = None
        if booking.status != BookingStatus.COMPLETED:
            amount = min(booking.fee_minor or 0, payment.authorized_minor)
        try:
            payment_capture(payment=payment, actor=None, amount_minor=amount)
        except ApiError as exc:
            logger.warning("payment %s: capture of booking %s failed (%s)", payment.pk, booking.pk, exc)
            result.errors += 1
        else:
            result.captured += 1
