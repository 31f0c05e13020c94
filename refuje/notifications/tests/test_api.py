"""The notifications API: my inbox, unread count, marking read, preferences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from refuje.common.testing.factories import GuestFactory, UserFactory
from refuje.common.testing.tenancy import browser_client
from refuje.notifications import kinds
from refuje.notifications.models import Channel, Notification, NotificationDelivery, NotificationPreference

pytestmark = pytest.mark.django_db
URL = "/api/v1/notifications/"


def make(user, *, read=False, kind=kinds.REQUEST_ACKNOWLEDGED, **fields):
    return Notification.objects.create(
        recipient=user,
        kind=kind,
        language="en",
        title=fields.pop("title", "Grand Hotel: request received"),
        body="Your request #1 to Housekeeping has been received.",
        data={"request_id": 1},
        target="/guest/requests/1/",
        read_at=timezone.now() if read else None,
        **fields,
    )


@pytest.fixture
def me():
    return GuestFactory.create(preferred_language="en")


@pytest.fixture
def client(me):
    return browser_client(me)


def test_the_list_holds_my_notifications_newest_first_with_their_channels(me, client):
    older = make(me, title="older", created_at=timezone.now() - timedelta(minutes=5))
    newer = make(me, title="newer")
    NotificationDelivery.objects.create(notification=newer, channel=Channel.WHATSAPP, status="delivered")
    make(UserFactory.create(), title="someone else's")

    body = client.get(URL).json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    first = body["results"][0]
    assert first["kind"] == kinds.REQUEST_ACKNOWLEDGED
    assert first["is_read"] is False
    assert first["deliveries"] == [{"channel": "whatsapp", "status": "delivered"}]
    assert first["data"] == {"request_id": 1}
    assert first["target"] == "/guest/requests/1/"


def test_the_list_filters_unread_and_read(me, client):
    unread = make(me)
    read = make(me, read=True)
    assert [item["id"] for item in client.get(URL, {"unread": "true"}).json()["results"]] == [unread.pk]
    assert [item["id"] for item in client.get(URL, {"unread": "false"}).json()["results"]] == [read.pk]
    response = client.get(URL, {"unread": "perhaps"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_the_list_is_paginated(me, client):
    for _ in range(3):
        make(me)
    body = client.get(URL, {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["next"]


def test_the_unread_count_counts_my_unread_only(me, client):
    make(me)
    make(me)
    make(me, read=True)
    make(UserFactory.create())
    assert client.get(URL + "unread-count/").json() == {"count": 2}


def test_marking_read_keeps_the_first_read_time(me, client):
    notification = make(me)
    first = client.post(f"{URL}{notification.pk}/read/")
    assert first.status_code == 200
    assert first.json()["is_read"] is True
    assert first.json()["read_at"]
    with freeze_time(timezone.now() + timedelta(seconds=30)):
        again = client.post(f"{URL}{notification.pk}/read/")
    assert again.json()["read_at"] == first.json()["read_at"]
    assert client.get(URL + "unread-count/").json() == {"count": 0}


def test_someone_elses_notification_is_a_404_and_stays_unread(client):
    other = make(UserFactory.create())
    response = client.post(f"{URL}{other.pk}/read/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    other.refresh_from_db()
    assert other.read_at is None
    assert client.post(f"{URL}999999/read/").json() == response.json()


def test_read_all_marks_only_mine(me, client):
    make(me)
    make(me)
    make(me, read=True)
    theirs = make(UserFactory.create())
    assert client.post(URL + "read-all/").json() == {"updated": 2}
    assert client.post(URL + "read-all/").json() == {"updated": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_anonymous_visitors_are_refused(db):
    anonymous = browser_client()
    assert anonymous.get(URL).status_code == 401
    assert anonymous.get(URL + "unread-count/").status_code == 401
    assert anonymous.post(URL + "read-all/").status_code == 401


def test_unsafe_requests_need_the_csrf_token(me, client):
    notification = make(me)
    client.send_csrf_token = False
    assert client.post(f"{URL}{notification.pk}/read/").status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None


# --- Preferences ----------------------------------------------------------------------------


def test_preferences_default_to_every_channel(client):
    body = client.get(URL + "preferences/").json()
    assert {key: body[key] for key in ("push", "whatsapp", "sms", "email", "muted_kinds")} == {
        "push": True,
        "whatsapp": True,
        "sms": True,
        "email": True,
        "muted_kinds": [],
    }
    offered = {item["kind"] for item in body["mutable_kinds"]}
    assert kinds.REQUEST_COMPLETED in offered
    assert kinds.REQUEST_NEW not in offered


def test_patching_preferences_changes_only_what_is_sent(me, client):
    response = client.patch(URL + "preferences/", {"whatsapp": False}, format="json")
    assert response.status_code == 200
    assert response.json()["whatsapp"] is False
    response = client.patch(URL + "preferences/", {"muted_kinds": [kinds.REQUEST_COMPLETED]}, format="json")
    assert response.json()["whatsapp"] is False
    assert response.json()["muted_kinds"] == [kinds.REQUEST_COMPLETED]
    stored = NotificationPreference.objects.get(user=me)
    assert (stored.whatsapp, stored.sms, stored.muted_kinds) == (False, True, [kinds.REQUEST_COMPLETED])


@pytest.mark.parametrize(
    "body",
    [{"muted_kinds": [kinds.REQUEST_NEW]}, {"muted_kinds": ["no.such.kind"]}, {"muted_kinds": "x"}, {"sms": "maybe"}],
)
def test_bad_preferences_are_a_400_and_change_nothing(me, client, body):
    response = client.patch(URL + "preferences/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not NotificationPreference.objects.filter(user=me).exists()
