"""Moyasar (Saudi payment gateway): fetch, capture, refund and void payments, and create them.

Wire format: ../shared/reference/providers.md section 1. HTTP Basic auth with the secret key as the
user name and an empty password. A declined card is HTTP 201 with `status: "failed"`, so callers
branch on the payment's status, never on the HTTP code. Creates carry a `given_id` (UUIDv4): a
timed-out or 5xx create is retried with the same value, and when Moyasar answers `used_given_id`
(the first try did get through) the payment is fetched by that id instead of created twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from .base import ProviderError
from .http import build_client, is_transient_status, json_body, loggable_body, request

PROVIDER = "moyasar"
logger = logging.getLogger("refuje.providers.moyasar")

# Moyasar's own statuses (providers.md, "Statuses").
INITIATED = "initiated"
PAID = "paid"
FAILED = "failed"
AUTHORIZED = "authorized"
CAPTURED = "captured"
REFUNDED = "refunded"
VOIDED = "voided"
VERIFIED = "verified"
STATUSES = (INITIATED, PAID, FAILED, AUTHORIZED, CAPTURED, REFUNDED, VOIDED, VERIFIED)

# Creates are retried (same given_id) this many times in all after a transient failure.
CREATE_ATTEMPTS = 3


class MoyasarError(ProviderError):
    """A failed Moyasar call, with Moyasar's error `type` and per-field `errors` when it sent them."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status_code: int | None = None,
        error_type: str = "",
        errors: Any = None,
    ) -> None:
        super().__init__(message, transient=transient, provider=PROVIDER, status_code=status_code)
        self.error_type = error_type
        self.errors = errors

    @property
    def not_found(self) -> bool:
        return self.status_code == 404


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class GatewayPayment:
    """The authoritative state of one payment at the gateway (amounts in minor units)."""

    id: str
    status: str
    amount: int
    currency: str
    captured: int = 0
    refunded: int = 0
    metadata: dict[str, str] = field(default_factory=dict)
    message: str = ""  # the card network's answer, e.g. "INSUFFICIENT FUNDS"
    refunded_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Any) -> GatewayPayment:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body.get("status"):
            raise MoyasarError("moyasar: the answer is not a payment object", transient=True)
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        source = body.get("source") if isinstance(body.get("source"), dict) else {}
        return cls(
            id=body["id"],
            status=str(body["status"]),
            amount=_int(body.get("amount")),
            currency=str(body.get("currency") or ""),
            captured=_int(body.get("captured")),
            refunded=_int(body.get("refunded")),
            metadata={str(k): str(v) for k, v in (metadata or {}).items()},
            message=str((source or {}).get("message") or "")[:255],
            refunded_at=str(body.get("refunded_at") or ""),
            raw=body,
        )


@dataclass(frozen=True)
class MoyasarConfig:
    base_url: str
    secret_key: str
    publishable_key: str

    @classmethod
    def from_settings(cls) -> MoyasarConfig:
        return cls(
            base_url=settings.MOYASAR_BASE_URL,
            secret_key=settings.MOYASAR_SECRET_KEY,
            publishable_key=settings.MOYASAR_PUBLISHABLE_KEY,
        )

    @property
    def live(self) -> bool:
        return self.secret_key.startswith("sk_live_")


class MoyasarClient:
    """The secret-key API. Every method returns the payment's new state or raises MoyasarError."""

    name = PROVIDER

    def __init__(self, config: MoyasarConfig | None = None) -> None:
        self._config = config

    @property
    def config(self) -> MoyasarConfig:
        return self._config or MoyasarConfig.from_settings()

    @property
    def live(self) -> bool:
        return self.config.live

    def _call(self, method: str, path: str, *, operation: str, payload: dict[str, Any] | None = None) -> Any:
        config = self.config
        headers = {"Accept": "application/json"}
        kwargs: dict[str, Any] = {"auth": (config.secret_key, "")}
        if payload is not None:
            kwargs["json"] = payload
        try:
            with build_client(base_url=config.base_url, headers=headers) as client:
                response = request(client, method, path, provider=PROVIDER, **kwargs)
        except ProviderError as exc:
            logger.warning("moyasar %s failed: %s", operation, exc)
            raise MoyasarError(str(exc), transient=True) from exc
        body = json_body(response)
        if response.is_success:
            return body
        transient = is_transient_status(response.status_code)
        error_type = str(body.get("type", "")) if isinstance(body, dict) else ""
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        errors = body.get("errors") if isinstance(body, dict) else None
        logger.warning(
            "moyasar %s failed: HTTP %s (%s) %s",
            operation,
            response.status_code,
            "transient" if transient else "permanent",
            loggable_body(response, secrets=(config.secret_key,)),
        )
        raise MoyasarError(
            f"moyasar {operation}: HTTP {response.status_code} {error_type} {message}".strip()[:300],
            transient=transient,
            status_code=response.status_code,
            error_type=error_type,
            errors=errors,
        )

    def _payment(self, method: str, path: str, *, operation: str, payload: dict[str, Any] | None = None) -> Any:
        return GatewayPayment.from_json(self._call(method, path, operation=operation, payload=payload))

    # --- operations ----------------------------------------------------------------------------
    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        payment: GatewayPayment = self._payment("GET", f"/payments/{_safe_id(payment_id)}", operation="fetch")
        return payment

    def create_payment(
        self,
        *,
        given_id: uuid.UUID,
        amount: int,
        currency: str,
        source: dict[str, Any],
        description: str = "",
        callback_url: str = "",
        metadata: dict[str, str] | None = None,
    ) -> GatewayPayment:
        """Create once, whatever happens on the way: retries reuse `given_id`, and a create that
        already went through is recovered by fetching the payment it made."""
        payload: dict[str, Any] = {
            "given_id": str(given_id),
            "amount": amount,
            "currency": currency,
            "source": source,
        }
        if description:
            payload["description"] = description
        if callback_url:
            payload["callback_url"] = callback_url
        if metadata:
            payload["metadata"] = metadata
        last_error: MoyasarError | None = None
        for _attempt in range(CREATE_ATTEMPTS):
            try:
                created: GatewayPayment = self._payment("POST", "/payments", operation="create", payload=payload)
                return created
            except MoyasarError as exc:
                if exc.error_type == "used_given_id":
                    return self._recover(given_id, amount=amount, currency=currency)
                if not exc.transient:
                    raise
                last_error = exc
        assert last_error is not None  # noqa: S101 - the loop ran at least once
        raise last_error

    def _recover(self, given_id: uuid.UUID, *, amount: int, currency: str) -> GatewayPayment:
        existing = self.fetch_payment(str(given_id))
        if existing.amount != amount or existing.currency != currency:
            # The id was used for a different payment: never treat that one as ours.
            raise MoyasarError(
                "moyasar create: given_id already used by a different payment",
                transient=False,
                status_code=400,
                error_type="used_given_id",
            )
        return existing

    def capture(self, payment_id: str, *, amount: int | None = None) -> GatewayPayment:
        payload = {"amount": amount} if amount is not None else {}
        captured: GatewayPayment = self._payment(
            "POST", f"/payments/{_safe_id(payment_id)}/capture", operation="capture", payload=payload
        )
        return captured

    def refund(self, payment_id: str, *, amount: int | None = None) -> GatewayPayment:
        payload = {"amount": amount} if amount is not None else {}
        refunded: GatewayPayment = self._payment(
            "POST", f"/payments/{_safe_id(payment_id)}/refund", operation="refund", payload=payload
        )
        return refunded

    def void(self, payment_id: str) -> GatewayPayment:
        voided: GatewayPayment = self._payment("POST", f"/payments/{_safe_id(payment_id)}/void", operation="void")
        return voided


def _safe_id(payment_id: str) -> str:
    """Ids are UUIDs or Moyasar's own tokens; anything that could change the path is refused."""
    if not payment_id or not all(ch.isalnum() or ch in "-_" for ch in payment_id) or len(payment_id) > 100:
        raise MoyasarError("moyasar: malformed payment id", transient=False, status_code=404)
    return payment_id
