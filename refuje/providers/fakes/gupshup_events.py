"""Builders for the callbacks Gupshup POSTs to our webhook (v2 envelope, providers.md section 3).

Message ids follow Gupshup: `enqueued` (and a synchronous `failed`) carry our send's messageId in
`id`; `sent`/`delivered`/`read` carry the WhatsApp id in `id` and the messageId in `gsId`, which is
missing on events older than about a week.
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

STATUS_ORDER = ("enqueued", "sent", "delivered", "read")


def envelope(app: str, kind: str, payload: dict[str, Any], *, timestamp_ms: int | None = None) -> dict[str, Any]:
    return {
        "app": app,
        "timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
        "version": 2,
        "type": kind,
        "payload": payload,
    }


def whatsapp_message_id() -> str:
    return "gBEGkZZnhgkjAgkE" + uuid.uuid4().hex[:16].upper()


class CallbackDriver:
    """Builds consistent `message-event` payloads for messages the fake accepted.

    The WhatsApp id of each message stays the same across its events, as with the real service.
    """

    def __init__(self, app: str) -> None:
        self.app = app
        self._whatsapp_ids: dict[str, str] = {}
        self._clock = itertools.count(int(time.time()))

    def whatsapp_id_for(self, message_id: str) -> str:
        return self._whatsapp_ids.setdefault(message_id, whatsapp_message_id())

    def status(
        self,
        event_type: str,
        *,
        message_id: str,
        destination: str,
        with_gs_id: bool = True,
        ts: int | None = None,
    ) -> dict[str, Any]:
        """One `enqueued|sent|delivered|read` event for the message whose send returned `message_id`."""
        if event_type not in STATUS_ORDER:
            raise ValueError(f"Unknown status event {event_type!r}; use failed() for failures.")
        wamid = self.whatsapp_id_for(message_id)
        payload: dict[str, Any] = {"destination": destination, "ts": ts if ts is not None else next(self._clock)}
        if event_type == "enqueued":
            payload.update(id=message_id, type="enqueued", payload={"whatsappMessageId": wamid, "type": "session"})
        else:
            payload.update(id=wamid, type=event_type, payload={})
            if with_gs_id:
                payload["gsId"] = message_id
        return envelope(self.app, "message-event", payload)

    def failed(
        self,
        *,
        message_id: str,
        destination: str,
        code: int = 1002,
        reason: str = "Number Does Not Exist On WhatsApp",
        synchronous: bool = True,
        ts: int | None = None,
    ) -> dict[str, Any]:
        """A `failed` event: a synchronous failure names our messageId in `id`, a later one only in `gsId`."""
        payload: dict[str, Any] = {
            "type": "failed",
            "destination": destination,
            "ts": ts if ts is not None else next(self._clock),
            "payload": {"code": code, "reason": reason},
        }
        if synchronous:
            payload["id"] = message_id
        else:
            payload.update(id=self.whatsapp_id_for(message_id), gsId=message_id)
        return envelope(self.app, "message-event", payload)

    def sequence(
        self, *, message_id: str, destination: str, up_to: str = "read", with_gs_id: bool = True
    ) -> list[dict[str, Any]]:
        """enqueued → sent → delivered → read (stopping at `up_to`), in the order they happen."""
        statuses = STATUS_ORDER[: STATUS_ORDER.index(up_to) + 1]
        return [
            self.status(status, message_id=message_id, destination=destination, with_gs_id=with_gs_id)
            for status in statuses
        ]

    def inbound_text(self, *, source: str, text: str, name: str = "Guest") -> dict[str, Any]:
        payload = {
            "id": whatsapp_message_id(),
            "source": source,
            "type": "text",
            "payload": {"text": text},
            "sender": {"phone": source, "name": name, "country_code": source[:3], "dial_code": source[3:]},
        }
        return envelope(self.app, "message", payload)

    def user_event(self, *, phone: str, event_type: str = "opted-out") -> dict[str, Any]:
        return envelope(self.app, "user-event", {"phone": phone, "type": event_type})
