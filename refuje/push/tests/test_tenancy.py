"""User matrix over the push endpoints: any signed-in user may use them, each only for their own
subscriptions; someone else's subscription is the one 404 and stays untouched."""

from __future__ import annotations

import pytest

from refuje.common.testing.tenancy import GUEST, Endpoint, TenantWorld, everyone, matrix_cases
from refuje.push.models import PushSubscription

from .conftest import make_subscription, subscription_body

URL = "/api/v1/push/subscriptions/"


def guest_subscription(world: TenantWorld) -> None:
    world.extra["sub"] = make_subscription(world.guest)


def _delete_body(world: TenantWorld) -> dict[str, str]:
    return {"endpoint": world.extra["sub"].endpoint}


def _owned_by_caller(world: TenantWorld, persona: str, response) -> None:
    stored = PushSubscription.objects.get(endpoint=response.json()["endpoint"])
    assert stored.user == world.user(persona)


def _gone(world: TenantWorld, persona: str, response) -> None:
    assert persona == GUEST
    assert not PushSubscription.objects.filter(pk=world.extra["sub"].pk).exists()


ENDPOINTS = [
    Endpoint("vapid-public-key", "GET", "/api/v1/push/vapid-public-key/", expect=everyone(200)),
    Endpoint(
        "subscribe",
        "POST",
        URL,
        body=lambda world: subscription_body(),
        expect=everyone(201),
        watch=(PushSubscription,),
        verify=_owned_by_caller,
    ),
    Endpoint(
        "unsubscribe-guests",
        "DELETE",
        URL,
        body=_delete_body,
        setup=guest_subscription,
        expect=everyone(404, guest=204),
        watch=(PushSubscription,),
        verify=_gone,
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_push_matrix(tenant_world, vapid, case):
    tenant_world.check(case)
