import pytest
from django.test import Client
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from config.urls import urlpatterns as real_urlpatterns
from refuje.common.errors import Conflict, RateLimited


@api_view(["GET"])
@permission_classes([AllowAny])
def _conflict(request: Request) -> Response:
    raise Conflict(code="slot_taken", extra={"next_slots": ["10:00"]})


@api_view(["GET"])
@permission_classes([AllowAny])
def _limited(request: Request) -> Response:
    raise RateLimited(retry_after=42)


def _crash(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/v1/test/conflict/", _conflict),
    path("api/v1/test/limited/", _limited),
    path("api/v1/test/crash/", _crash),
    *real_urlpatterns,
]
handler500 = "refuje.common.views.server_error"

pytestmark = pytest.mark.urls(__name__)


def test_domain_errors_carry_a_stable_code_and_extra_fields():
    response = Client().get("/api/v1/test/conflict/", headers={"accept-language": "en"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The request conflicts with the current state.",
        "code": "slot_taken",
        "next_slots": ["10:00"],
    }


def test_rate_limited_answers_429_with_retry_after():
    response = Client().get("/api/v1/test/limited/")
    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert response.json()["code"] == "rate_limited"


def test_error_messages_follow_accept_language():
    english = Client().get("/api/v1/test/limited/", headers={"accept-language": "en"}).json()["detail"]
    arabic = Client().get("/api/v1/test/limited/", headers={"accept-language": "ar"}).json()["detail"]
    assert english.startswith("Too many attempts")
    assert arabic != english


def test_unknown_api_path_is_json_404():
    response = Client().get("/api/v1/no/such/thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_unexpected_api_failure_is_json_500_without_details():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test/crash/")
    assert response.status_code == 500
    assert response.json() == {"detail": response.json()["detail"], "code": "server_error"}
    assert "boom" not in response.content.decode()
