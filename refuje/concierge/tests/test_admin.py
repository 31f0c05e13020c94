"""The operator's admin pages for stays, requests and policies render, and requests stay read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from refuje.common.testing.concierge_factories import DepartmentPolicyFactory, HotelConciergeSettingsFactory
from refuje.common.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    return client


def test_admin_pages_render(operator_client, scene):
    request = scene.request()
    policy = DepartmentPolicyFactory.create(department=scene.department)
    settings_row = HotelConciergeSettingsFactory.create(hotel=scene.hotel)
    pages = [
        reverse("admin:concierge_servicerequest_changelist"),
        reverse("admin:concierge_servicerequest_change", args=[request.pk]),
        reverse("admin:concierge_departmentpolicy_changelist"),
        reverse("admin:concierge_departmentpolicy_change", args=[policy.pk]),
        reverse("admin:stays_gueststay_changelist") + "?q=1204",
        reverse("admin:stays_gueststay_change", args=[scene.stay.pk]),
        reverse("admin:stays_hotelconciergesettings_changelist"),
        reverse("admin:stays_hotelconciergesettings_change", args=[settings_row.pk]),
    ]
    for page in pages:
        assert operator_client.get(page).status_code == 200, page


def test_requests_cannot_be_edited_in_the_admin(operator_client, scene):
    request = scene.request()
    url = reverse("admin:concierge_servicerequest_change", args=[request.pk])
    operator_client.post(url, {"status": "COMPLETED"})
    request.refresh_from_db()
    assert request.status == "NEW"
    assert operator_client.get(reverse("admin:concierge_servicerequest_add")).status_code == 403
