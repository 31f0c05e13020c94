from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse


class NoStoreForAuthMiddleware:
    """Auth answers carry tokens, codes or identity: no cache may keep them.

    Async-capable, so under ASGI a long-lived stream does not pin a worker thread to this
    middleware for as long as it stays open.
    """

    sync_capable = True
    async_capable = True
    PREFIXES = ("/api/v1/auth/",)

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        response: HttpResponse = self.get_response(request)
        return self._mark(request, response)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = await self.get_response(request)
        return self._mark(request, response)

    def _mark(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path.startswith(self.PREFIXES):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
