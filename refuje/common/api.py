"""Small building blocks every API module shares: parsing, pagination, error shapes, path params.

Views stay thin by leaning on these: parse input, fetch through an access helper, call a service,
render.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.accounts.models import User
from refuje.accounts.phone import normalize_phone
from refuje.common.pagination import PageNumberPagination
from refuje.common.ratelimit import client_ip as _client_ip


class ApiErrorSerializer(serializers.Serializer[Any]):
    """The error body of every endpoint (see refuje.common.errors)."""

    detail = serializers.CharField(help_text="A message for people, in the request's language.")
    code = serializers.CharField(help_text="A stable machine code.")


class PhoneField(serializers.CharField):
    """Whatever people type (local 05…, 00966…, Arabic-Indic digits) → E.164, or a field error."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value:
            return value
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


_paginated_cache: dict[type[serializers.BaseSerializer[Any]], type[serializers.Serializer[Any]]] = {}


def paginated(item: type[serializers.BaseSerializer[Any]]) -> type[serializers.Serializer[Any]]:
    """The page envelope our PageNumberPagination renders, for the OpenAPI schema."""
    if item not in _paginated_cache:
        name = "Paginated" + item.__name__.removesuffix("Serializer") + "ListSerializer"
        _paginated_cache[item] = type(
            name,
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": item(many=True),
            },
        )
    return _paginated_cache[item]


HOTEL_PATH = OpenApiParameter(
    "hotel",
    {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$", "maxLength": 60},
    OpenApiParameter.PATH,
    description="Hotel slug.",
)
PAGE_PARAMS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="Items per page (at most 200)."),
]
BAD_INPUT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Invalid input: field errors `{"<field>": ["message"], "code": "invalid"}`.',
)
NOT_SIGNED_IN = OpenApiResponse(ApiErrorSerializer, description="Not signed in (`not_authenticated`).")
ROLE_TOO_LOW = OpenApiResponse(
    ApiErrorSerializer, description="Signed in, but the role in this hotel is too low (`role_too_low`)."
)
NOT_FOUND = OpenApiResponse(
    ApiErrorSerializer, description="No such hotel or object, or it belongs to another hotel (`not_found`)."
)


def client_ip(request: Request) -> str | None:
    return _client_ip(request._request)


def actor_of(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def parse(serializer_class: type[serializers.Serializer[Any]], data: Any, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def paginated_response(
    request: Request, view: APIView, queryset: QuerySet[Any], serializer_class: type[serializers.Serializer[Any]]
) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context={"request": request}).data)
