from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .authentication import enforce_csrf


class CsrfProtected(BasePermission):
    """CSRF on every unsafe request to this view, signed in or not.

    Sign-in, refresh and logout are cookie flows even before a user exists (login CSRF would let
    another site sign a browser into an attacker's account), so they check CSRF unconditionally.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method not in SAFE_METHODS:
            enforce_csrf(request)
        return True
