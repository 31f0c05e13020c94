"""One error shape for the whole API: {"detail": "...", "code": "..."} or field errors.

Messages are rendered in the request's language by LocaleMiddleware before they reach here.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApiError(exceptions.APIException):
    """A domain error with a stable machine code, raised by services and views alike."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = _("The request could not be processed.")
    default_code = "bad_request"

    def __init__(
        self,
        detail: Any = None,
        code: str | None = None,
        *,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail, code)
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra or {}
        self.headers = headers or {}


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = _("Not found.")
    default_code = "not_found"


class RateLimited(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("Too many attempts. Please wait and try again.")
    default_code = "rate_limited"

    def __init__(self, retry_after: int, detail: Any = None, code: str | None = None) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(detail, code, extra={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})


class UpstreamFailed(ApiError):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = _("A provider we depend on failed. Please try again shortly.")
    default_code = "upstream_failed"


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    elif isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
        if isinstance(data.get("detail"), list) and len(data) == 1:
            response.data = {"detail": " ".join(str(m) for m in data["detail"]), "code": "invalid"}
        else:
            response.data = {**data, "code": "invalid"}
        return response
    if isinstance(exc, exceptions.APIException):
        body: dict[str, Any] = {"detail": str(exc.detail), "code": _code_of(exc)}
        if isinstance(exc, ApiError):
            body.update(exc.extra)
            for name, value in exc.headers.items():
                response[name] = value
        response.data = body
    return response
