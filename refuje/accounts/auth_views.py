"""Session endpoints: CSRF cookie, staff password sign-in, retired token endpoint, refresh, logout, profile."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.errors import ApiError
from refuje.common.ratelimit import client_ip

from .auth_serializers import (
    CsrfTokenSerializer,
    LoginValidationErrorSerializer,
    PasswordLoginSerializer,
    ProfileUpdateSerializer,
    ProfileValidationErrorSerializer,
    RateLimitedErrorSerializer,
    RefreshTokenInputSerializer,
    RefreshValidationErrorSerializer,
    SessionErrorSerializer,
    SignedInResponseSerializer,
)
from .authentication import NATIVE_CLIENT_HEADER, CsrfSessionAuthentication, JWTCookieAuthentication, is_native_client
from .models import User
from .permissions import CsrfProtected
from .serializers import UserSerializer
from .services import password_sign_in, user_profile_update
from .sessions import SessionInvalid, clear_session_cookies, session_end, session_rotate, signed_in_response

TAGS = ["auth"]

NATIVE_CLIENT_PARAMETER = OpenApiParameter(
    name=NATIVE_CLIENT_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    enum=["native"],
    description=(
        "Native clients send `native` (when Bearer auth is enabled): tokens travel in the JSON body instead "
        "of cookies and no CSRF token is needed. Browsers omit it."
    ),
)
CSRF_FAILED = OpenApiResponse(
    SessionErrorSerializer, description="Browser request without a valid CSRF token (`csrf_failed`)."
)
NOT_SIGNED_IN = OpenApiResponse(SessionErrorSerializer, description="Not signed in or the sign-in is no longer valid.")


class JWTCookieScheme(OpenApiAuthenticationExtension):
    """Documents the two ways to present an access token: the HttpOnly cookie or a Bearer header.

    Lives here, not next to the authentication class, because that module must not import
    drf-spectacular (see there); the URLconf imports this module before any schema is built.
    """

    target_class = JWTCookieAuthentication
    name = ["jwtCookie", "jwtBearer"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"jwtCookie": []}, {"jwtBearer": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.AUTH_ACCESS_COOKIE,
                "description": "Browsers: unsafe methods also need the X-CSRFToken header.",
            },
            build_bearer_security_scheme_object(
                header_name="HTTP_AUTHORIZATION",
                token_prefix="Bearer",  # noqa: S106 - the scheme name, not a secret
            ),
        ]


class CsrfSessionScheme(OpenApiAuthenticationExtension):
    target_class = CsrfSessionAuthentication
    name = "sessionCookie"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "Django session of the web pages; unsafe methods also need the X-CSRFToken header.",
        }


class EndpointRetired(ApiError):
    status_code = 410
    default_detail = _("This endpoint has been retired. Sign in with a one-time code (auth/otp/send/).")
    default_code = "endpoint_retired"


class CsrfTokenView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS,
        summary="Get a CSRF token",
        description="Sets the `csrftoken` cookie and returns the same token for the X-CSRFToken header.",
        responses={
            200: CsrfTokenSerializer,
            401: OpenApiResponse(SessionErrorSerializer, description="An invalid Bearer token (`token_invalid`)."),
        },
    )
    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Request) -> Response:
        return Response({"csrf_token": get_token(request._request)})


class PasswordLoginView(APIView):
    # Sign-in does not depend on who the request claims to be; a stale token must not get in the way.
    authentication_classes = []
    permission_classes = [CsrfProtected]

    @extend_schema(
        tags=TAGS,
        summary="Staff sign-in with e-mail and password",
        parameters=[NATIVE_CLIENT_PARAMETER],
        request=PasswordLoginSerializer,
        responses={
            200: OpenApiResponse(SignedInResponseSerializer, description="Signed in; browsers get session cookies."),
            400: OpenApiResponse(
                LoginValidationErrorSerializer,
                description="Missing or malformed fields, or wrong e-mail/password (`invalid_credentials`).",
            ),
            403: CSRF_FAILED,
            429: OpenApiResponse(RateLimitedErrorSerializer, description="Too many attempts (`rate_limited`)."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, pair = password_sign_in(
            request=request._request,
            email=serializer.validated_data["email"],
            password=serializer.validated_data["password"],
        )
        return signed_in_response(request, user=user, pair=pair)


class RetiredTokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS,
        summary="Retired password token endpoint",
        description="Always 410 Gone: sign in with a one-time code instead.",
        request=None,
        responses={410: OpenApiResponse(SessionErrorSerializer, description="`endpoint_retired`.")},
    )
    def post(self, request: Request) -> Response:
        raise EndpointRetired()


def _presented_refresh_token(request: Request) -> str | None:
    """Browsers present the refresh cookie; native clients put the token in the body."""
    if is_native_client(request):
        serializer = RefreshTokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data.get("refresh") or None
    return request.COOKIES.get(settings.AUTH_REFRESH_COOKIE) or None


class RefreshView(APIView):
    authentication_classes = []
    permission_classes = [CsrfProtected]

    @extend_schema(
        tags=TAGS,
        summary="Rotate the session tokens",
        description=(
            "Exchanges the refresh token (cookie, or body for native clients) for a new pair; the old one "
            "is blacklisted. Presenting an already-rotated token ends the whole session (`token_reused`)."
        ),
        parameters=[NATIVE_CLIENT_PARAMETER],
        request=RefreshTokenInputSerializer,
        responses={
            200: SignedInResponseSerializer,
            400: OpenApiResponse(RefreshValidationErrorSerializer, description="Malformed body (native clients)."),
            401: OpenApiResponse(
                SessionErrorSerializer,
                description="`session_invalid`, `token_reused` or `account_disabled`; session cookies are cleared.",
            ),
            403: CSRF_FAILED,
        },
    )
    def post(self, request: Request) -> Response:
        raw = _presented_refresh_token(request)
        if raw is None:
            raise SessionInvalid()
        user, pair = session_rotate(raw_refresh=raw)
        return signed_in_response(request, user=user, pair=pair)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # A refresh that failed for good leaves nothing worth keeping in the browser.
        if isinstance(exc, SessionInvalid):
            clear_session_cookies(response)
        return response


class LogoutView(APIView):
    authentication_classes = []
    permission_classes = [CsrfProtected]

    @extend_schema(
        tags=TAGS,
        summary="Sign out",
        description=(
            "Blacklists the refresh token, ends its session (its access tokens stop working) and clears the "
            "cookies. Always 204, also without cookies or with an unknown token."
        ),
        parameters=[NATIVE_CLIENT_PARAMETER],
        request=RefreshTokenInputSerializer,
        responses={
            204: OpenApiResponse(description="Signed out."),
            400: OpenApiResponse(RefreshValidationErrorSerializer, description="Malformed body (native clients)."),
            403: CSRF_FAILED,
        },
    )
    def post(self, request: Request) -> Response:
        session_end(raw_refresh=_presented_refresh_token(request))
        response = Response(status=204)
        clear_session_cookies(response)
        return response


class ProfileView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=TAGS, summary="Own profile", responses={200: UserSerializer, 401: NOT_SIGNED_IN})
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(self._user(request)).data)

    @extend_schema(
        tags=TAGS,
        summary="Change own profile",
        description="E-mail addresses are unique regardless of case; a blank e-mail removes it.",
        request=ProfileUpdateSerializer,
        responses={
            200: UserSerializer,
            400: OpenApiResponse(ProfileValidationErrorSerializer, description="Invalid or duplicate values."),
            401: NOT_SIGNED_IN,
            403: CSRF_FAILED,
        },
    )
    def patch(self, request: Request) -> Response:
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(
            user=self._user(request), data=serializer.validated_data, ip=client_ip(request._request)
        )
        return Response(UserSerializer(user).data)

    @staticmethod
    def _user(request: Request) -> User:
        # IsAuthenticated admits only real accounts, never AnonymousUser.
        return cast(User, request.user)
