import threading

import pytest
from django.db import connections
from django.test import Client

from refuje.qrcodes.models import QRCode
from refuje.qrcodes.tests.factories import QRCodeFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

SCANS = 24


def test_concurrent_scans_are_all_counted():
    code = QRCodeFactory.create()
    barrier = threading.Barrier(SCANS)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def scan_once():
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.get(f"/api/v1/public/qr/{code.token}/")
            with lock:
                statuses.append(response.status_code)
        except BaseException as exc:  # surfaced below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan_once) for _ in range(SCANS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert statuses == [200] * SCANS
    assert QRCode.objects.get(pk=code.pk).scan_count == SCANS
