"""A fake Moyasar API speaking the wire format of providers.md section 1, plus a webhook builder.

What it mimics (providers.md, "A fake Moyasar server for tests must mimic"):
1. HTTP Basic auth with an empty password; a publishable key may only create payments; anything
   else is 401 `authentication_error`.
2. Integer minor units, minimum 100; 400 `invalid_request_error` with per-field `errors`.
3. Create answers 201 with `initiated` (+ `source.transaction_url`) for a 3-D Secure card, or
   `paid`/`authorized`/`failed` straight away without 3DS; declines are 201 `failed` too.
   `complete_3ds(id)` plays the payer finishing 3DS in the browser.
4. `given_id` becomes the payment `id`; reusing it is 400 `used_given_id` (no replay).
5. Capture/refund/void change the status and fill `captured`/`refunded`/`*_at`/`*_format`;
   over-amounts and wrong states are 400.
6. Unknown id → 404 `{"type":"api_error","message":"Object not found"}`; lists carry `meta`.
7. `webhook(...)` builds `{id,type,created_at,secret_token,account_name,live,data}` events, with
   a wrong secret, a repeated event id or any order the test chooses.
"""

from __future__ import annotations

import base64
import copy
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from .server import FakeResponse, FakeServer, RecordedRequest

DEFAULT_SECRET_KEY = "sk_test_fakeMoyasarSecretKey0123456789"  # noqa: S105 - a test credential
DEFAULT_PUBLISHABLE_KEY = "pk_test_fakeMoyasarPublishableKey0123"  # a test credential
DEFAULT_WEBHOOK_SECRET = "fake-moyasar-webhook-secret-0123456789"  # noqa: S105 - a test credential
ACCOUNT_NAME = "Refuje Test Store"

# Test cards (providers.md, "Test mode"): number → (approved, message, response code).
APPROVED = (True, "APPROVED", "00")
CARDS: dict[str, tuple[bool, str, str]] = {
    "4111111111111111": APPROVED,
    "4201320111111010": APPROVED,
    "4201320000013020": (False, "UNSPECIFIED FAILURE", "99"),
    "4201320000311101": (False, "INSUFFICIENT FUNDS", "51"),
    "4201320131000508": (False, "LOST CARD", "41"),
    "4201321234411220": (False, "DECLINED", "05"),
    "4201322267774310": (False, "EXPIRED CARD", "54"),
}
DECLINED_CARD = "4201320000311101"
APPROVED_CARD = "4111111111111111"
EXPONENTS = {"KWD": 3, "BHD": 3, "OMR": 3, "JPY": 0}
WEBHOOK_TYPES = {
    "paid": "payment_paid",
    "failed": "payment_failed",
    "authorized": "payment_authorized",
    "captured": "payment_captured",
    "refunded": "payment_refunded",
    "voided": "payment_voided",
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def money_format(amount: int, currency: str) -> str:
    exponent = EXPONENTS.get(currency, 2)
    if exponent == 0:
        return f"{amount} {currency}"
    whole, part = divmod(amount, 10**exponent)
    return f"{whole}.{part:0{exponent}d} {currency}"


def _error(status: int, error_type: str, message: str, errors: Any = None) -> FakeResponse:
    return FakeResponse(status, {"type": error_type, "message": message, "errors": errors})


def _invalid(errors: dict[str, list[str]]) -> FakeResponse:
    return _error(400, "invalid_request_error", "Validation Failed", errors)


def _wrong_state(message: str) -> FakeResponse:
    return _error(400, "invalid_request_error", message)


NOT_FOUND = FakeResponse(404, {"type": "api_error", "message": "Object not found"})
UNAUTHENTICATED = FakeResponse(
    401, {"type": "authentication_error", "message": "Invalid authorization credentials", "errors": None}
)


class FakeMoyasar(FakeServer):
    def __init__(
        self,
        *,
        secret_key: str = DEFAULT_SECRET_KEY,
        publishable_key: str = DEFAULT_PUBLISHABLE_KEY,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        live: bool = False,
    ) -> None:
        super().__init__(self._route)
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.live = live
        # Moyasar does not document the status after a *partial* refund; "refunded" is the guess.
        self.partial_refund_status = "refunded"
        self._state_lock = threading.Lock()
        self._payments: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []

    # --- helpers for tests -------------------------------------------------------------------
    def payment(self, payment_id: str) -> dict[str, Any]:
        with self._state_lock:
            return copy.deepcopy(self._payments[payment_id])

    @property
    def payments(self) -> list[dict[str, Any]]:
        with self._state_lock:
            return [copy.deepcopy(self._payments[pid]) for pid in self._order]

    def pay(
        self,
        *,
        given_id: uuid.UUID | str,
        amount: int,
        currency: str = "SAR",
        card: str = APPROVED_CARD,
        manual: bool = False,
        three_ds: bool = False,
        metadata: dict[str, str] | None = None,
        callback_url: str = "https://refuje.example/pay/return/",
    ) -> dict[str, Any]:
        """What the Moyasar form does in the payer's browser: create with the publishable key.
        Returns the answer body (the payment, or an error)."""
        import httpx

        source = {
            "type": "creditcard",
            "name": "Saleh Ali",
            "number": card,
            "month": "12",
            "year": "2099",
            "cvc": "123",
            "3ds": three_ds,
            "manual": manual,
        }
        body = {
            "given_id": str(given_id),
            "amount": amount,
            "currency": currency,
            "description": "Booking",
            "callback_url": callback_url,
            "source": source,
            "metadata": metadata or {},
        }
        response = httpx.post(f"{self.url}/payments", json=body, auth=(self.publishable_key, ""), timeout=5)
        result: dict[str, Any] = response.json()
        return result

    def complete_3ds(self, payment_id: str) -> dict[str, Any]:
        """The payer finishes 3-D Secure: the payment settles as its card decides."""
        with self._state_lock:
            payment = self._payments[payment_id]
            if payment["status"] == "initiated":
                self._settle(payment, payment["_card"], manual=payment["_manual"])
            return copy.deepcopy(payment)

    def set_status(self, payment_id: str, status: str, **fields: Any) -> None:
        """Force a state (e.g. a refund made in the Moyasar dashboard)."""
        with self._state_lock:
            payment = self._payments[payment_id]
            payment["status"] = status
            payment.update(fields)
            self._formats(payment)

    def webhook(
        self,
        payment_id: str,
        event_type: str | None = None,
        *,
        event_id: str | None = None,
        secret_token: str | None = None,
        live: bool | None = None,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The POST body Moyasar sends for `payment_id` in its current state (or `data`).

        Reuse `event_id` to play a retried delivery; pass `secret_token` to play a forger.
        """
        payload = data if data is not None else self._public(self.payment(payment_id))
        kind = event_type or WEBHOOK_TYPES.get(str(payload.get("status")), "payment_paid")
        return {
            "id": event_id or str(uuid.uuid4()),
            "type": kind,
            "created_at": _now(),
            "secret_token": self.webhook_secret if secret_token is None else secret_token,
            "account_name": ACCOUNT_NAME,
            "live": self.live if live is None else live,
            "data": payload,
        }

    # --- routing -----------------------------------------------------------------------------
    def _key(self, request: RecordedRequest) -> str | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user if password == "" else None

    def _route(self, request: RecordedRequest) -> FakeResponse:
        key = self._key(request)
        if key not in (self.secret_key, self.publishable_key):
            return UNAUTHENTICATED
        parts = [part for part in request.path.split("/") if part]
        if not parts or parts[0] != "payments":
            return NOT_FOUND
        if request.method == "POST" and len(parts) == 1:
            return self._create(request)
        if key != self.secret_key:
            # Publishable keys can only create payments.
            return FakeResponse(
                401, {"type": "authentication_error", "message": "Invalid authorization credentials", "errors": None}
            )
        body = request.body if isinstance(request.body, dict) else {}
        if request.method == "GET" and len(parts) == 1:
            return self._list(request)
        if request.method == "GET" and len(parts) == 2:
            return self._show(parts[1])
        if request.method == "POST" and len(parts) == 3:
            action = {"capture": self._capture, "refund": self._refund, "void": self._void}.get(parts[2])
            if action is not None:
                return action(parts[1], body)
        return NOT_FOUND

    # --- endpoints ---------------------------------------------------------------------------
    def _create(self, request: RecordedRequest) -> FakeResponse:
        body = request.body
        if not isinstance(body, dict):
            return _invalid({"amount": ["is missing"]})
        errors: dict[str, list[str]] = {}
        amount = body.get("amount")
        if isinstance(amount, str) and amount.isdigit():
            amount = int(amount)  # form-encoded bodies carry strings
        if not isinstance(amount, int) or isinstance(amount, bool):
            errors["amount"] = ["must be an integer"]
        elif amount < 100:
            errors["amount"] = ["must be greater than or equal to 100"]
        currency = body.get("currency", "SAR")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
            errors["currency"] = ["is invalid"]
        source = body.get("source")
        if not isinstance(source, dict) or source.get("type") not in ("creditcard", "token", "applepay"):
            errors["source"] = ["is invalid"]
        given_id = body.get("given_id")
        if given_id is not None:
            try:
                given_id = str(uuid.UUID(str(given_id), version=4))
            except ValueError:
                errors["given_id"] = ["is invalid"]
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or len(metadata) > 30:
            errors["metadata"] = ["is invalid"]
        if errors:
            return _invalid(errors)
        assert isinstance(source, dict)  # noqa: S101 - checked above
        assert isinstance(amount, int)  # noqa: S101
        number = str(source.get("number", APPROVED_CARD))
        card = number if source.get("type") == "creditcard" else APPROVED_CARD
        if source.get("type") == "applepay":
            card = APPROVED_CARD if 20000 <= amount <= 30000 else "4201320000013020"
        manual = bool(source.get("manual", False))
        three_ds = bool(source.get("3ds", True)) and source.get("type") == "creditcard"
        payment_id = given_id or str(uuid.uuid4())
        now = _now()
        payment: dict[str, Any] = {
            "id": payment_id,
            "status": "initiated",
            "amount": amount,
            "fee": 0,
            "currency": currency,
            "refunded": 0,
            "refunded_at": None,
            "captured": 0,
            "captured_at": None,
            "voided_at": None,
            "description": body.get("description"),
            "invoice_id": None,
            "ip": "127.0.0.1",
            "callback_url": body.get("callback_url"),
            "created_at": now,
            "updated_at": now,
            "metadata": {str(k): str(v) for k, v in metadata.items() if v not in ("", None)},
            "source": {
                "type": source.get("type"),
                "company": "visa" if card.startswith("4111") else "mada",
                "name": source.get("name", ""),
                "number": f"XXXX-XXXX-XXXX-{card[-4:]}",
                "gateway_id": f"moyasar_ap_{uuid.uuid4().hex[:12]}",
                "reference_number": None,
                "token": None,
                "message": None,
                "transaction_url": None,
            },
            "_card": card,
            "_manual": manual,
        }
        with self._state_lock:
            if payment_id in self._payments:
                return _error(
                    400,
                    "used_given_id",
                    "The given_id provided has been already used with a different payment.",
                )
            if three_ds:
                payment["source"]["transaction_url"] = f"{self.url}/3ds/{payment_id}"
            else:
                self._settle(payment, card, manual=manual)
            self._formats(payment)
            self._payments[payment_id] = payment
            self._order.append(payment_id)
            return FakeResponse(201, self._public(payment))

    def _show(self, payment_id: str) -> FakeResponse:
        with self._state_lock:
            payment = self._payments.get(payment_id)
            return FakeResponse(200, self._public(payment)) if payment else NOT_FOUND

    def _list(self, request: RecordedRequest) -> FakeResponse:
        def first(name: str) -> str | None:
            values = request.query.get(name)
            return values[0] if values else None

        with self._state_lock:
            found = [self._payments[pid] for pid in reversed(self._order)]
        for name in ("id", "status"):
            wanted = first(name)
            if wanted:
                found = [p for p in found if p[name] == wanted]
        for name, values in request.query.items():
            if name.startswith("metadata[") and name.endswith("]"):
                found = [p for p in found if p["metadata"].get(name[9:-1]) == values[0]]
        page_text = first("page") or "1"
        page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
        per_page = 40
        total_pages = max(1, -(-len(found) // per_page))
        items = found[(page - 1) * per_page : page * per_page]
        meta = {
            "current_page": page,
            "next_page": page + 1 if page < total_pages else None,
            "prev_page": page - 1 if page > 1 else None,
            "total_pages": total_pages,
            "total_count": len(found),
        }
        return FakeResponse(200, {"payments": [self._public(p) for p in items], "meta": meta})

    def _amount(self, body: dict[str, Any], default: int) -> tuple[int | None, FakeResponse | None]:
        if "amount" not in body or body["amount"] is None:
            return default, None
        amount = body["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return None, _invalid({"amount": ["must be a positive integer"]})
        return amount, None

    def _capture(self, payment_id: str, body: dict[str, Any]) -> FakeResponse:
        with self._state_lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                return NOT_FOUND
            if payment["status"] != "authorized":
                return _wrong_state("Payment is not authorized")
            amount, error = self._amount(body, payment["amount"])
            if error is not None or amount is None:
                return error or NOT_FOUND
            if amount > payment["amount"]:
                return _invalid({"amount": ["must be less than or equal to the authorized amount"]})
            payment.update(status="captured", captured=amount, captured_at=_now(), updated_at=_now())
            self._formats(payment)
            return FakeResponse(200, self._public(payment))

    def _refund(self, payment_id: str, body: dict[str, Any]) -> FakeResponse:
        with self._state_lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                return NOT_FOUND
            if payment["status"] not in ("paid", "captured", "refunded"):
                return _wrong_state("Payment is not in a refundable state")
            refundable = payment["captured"] - payment["refunded"]
            amount, error = self._amount(body, refundable)
            if error is not None or amount is None:
                return error or NOT_FOUND
            if refundable <= 0:
                return _wrong_state("Payment is already fully refunded")
            if amount > refundable:
                return _invalid({"amount": ["must be less than or equal to the refundable amount"]})
            payment["refunded"] += amount
            full = payment["refunded"] == payment["captured"]
            payment.update(
                status="refunded" if full else self.partial_refund_status, refunded_at=_now(), updated_at=_now()
            )
            self._formats(payment)
            return FakeResponse(200, self._public(payment))

    def _void(self, payment_id: str, body: dict[str, Any]) -> FakeResponse:
        with self._state_lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                return NOT_FOUND
            if payment["status"] not in ("authorized", "paid", "captured") or payment["refunded"]:
                return _wrong_state("Payment cannot be voided")
            payment.update(status="voided", voided_at=_now(), updated_at=_now())
            self._formats(payment)
            return FakeResponse(200, self._public(payment))

    # --- internals ---------------------------------------------------------------------------
    @staticmethod
    def _settle(payment: dict[str, Any], card: str, *, manual: bool) -> None:
        approved, message, code = CARDS.get(card, (False, "DECLINED", "05"))
        payment["source"]["message"] = message
        payment["source"]["response_code"] = code
        payment["source"]["transaction_url"] = None
        payment["updated_at"] = _now()
        if not approved:
            payment["status"] = "failed"
        elif manual:
            payment["status"] = "authorized"
        else:
            payment["status"] = "paid"
            payment["captured"] = payment["amount"]
            payment["captured_at"] = payment["updated_at"]
            payment["source"]["reference_number"] = uuid.uuid4().hex[:12]
        FakeMoyasar._formats(payment)

    @staticmethod
    def _formats(payment: dict[str, Any]) -> None:
        for name in ("amount", "fee", "refunded", "captured"):
            payment[f"{name}_format"] = money_format(int(payment.get(name) or 0), payment["currency"])

    @staticmethod
    def _public(payment: dict[str, Any] | None) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in (payment or {}).items() if not k.startswith("_")}
