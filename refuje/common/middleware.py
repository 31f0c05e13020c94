from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class NoStoreForAuthMiddleware:
    """Auth answers carry tokens, codes or identity: no cache may keep them."""

    PREFIXES = ("/api/v1/auth/",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(self.PREFIXES):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
