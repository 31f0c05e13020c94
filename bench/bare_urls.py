"""The real URLconf plus one bare Django view: one INSERT and a JSON answer, the ceiling our
endpoints are compared against in the same server and the same run."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path
from django.views.decorators.csrf import csrf_exempt

# Django reads the error handlers from the root URLconf, which this module now is.
from config.urls import handler404, handler500

__all__ = ["handler404", "handler500", "urlpatterns"]

BARE_TABLE = "bench_bare_ping"
BARE_PATH = "bench/bare/"


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (note, created_at) VALUES (%s, now()) RETURNING id",  # noqa: S608 (constant name)
            [request.body[:200].decode(errors="replace")],
        )
        row = cursor.fetchone()
    return JsonResponse({"id": row[0] if row else None}, status=201)


urlpatterns: list[URLPattern | URLResolver] = [
    path(BARE_PATH, bare_insert, name="bench-bare-insert"),
    path("", include("config.urls")),
]
