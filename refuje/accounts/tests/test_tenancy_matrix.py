"""Tenant matrix over the account endpoints: each persona reaches only its own account."""

import pytest

from refuje.accounts.models import User
from refuje.common.testing.tenancy import PERSONAS, Endpoint, everyone, matrix_cases


def _returns_own_account(world, persona, response):
    assert response.json()["phone_number"] == world.user(persona).phone_number


def _renamed_only_self(world, persona, response):
    me = world.user(persona)
    assert User.objects.get(pk=me.pk).full_name == "Renamed"
    assert User.objects.filter(full_name="Renamed").count() == 1


ENDPOINTS = [
    Endpoint("profile-read", "GET", "/api/v1/auth/profile/", expect=everyone(200), verify=_returns_own_account),
    Endpoint(
        "profile-rename",
        "PATCH",
        "/api/v1/auth/profile/",
        body={"full_name": "Renamed"},
        expect=everyone(200),
        watch=(User,),
        verify=_renamed_only_self,
    ),
    Endpoint(
        "phone-verify-wrong-code",
        "POST",
        "/api/v1/auth/phone/verify/",
        body={"phone": "+966500000999", "code": "000000"},
        expect=everyone(400),
        codes={400: "otp_invalid"},
        watch=(User,),
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_account_endpoints_reach_only_the_callers_account(tenant_world, case):
    tenant_world.check(case)


def test_every_persona_is_covered():
    assert {case.values[0].persona for case in matrix_cases(*ENDPOINTS)} == set(PERSONAS)
