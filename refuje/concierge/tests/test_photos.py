"""Request photos go through the one image pipeline: good files are stored, bad ones store nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image

from refuje.common.testing import images as fx
from refuje.concierge.models import RequestActivity, ServiceRequest

from .conftest import stored_files

pytestmark = pytest.mark.django_db

GUEST_URL = "/api/v1/guest/requests/"


def post_photo(scene, upload, **extra):
    body = {
        "hotel": scene.hotel.slug,
        "department": str(scene.department.pk),
        "description": "The lamp is broken",
        "photo": upload,
        **extra,
    }
    return scene.client(scene.guest).post(GUEST_URL, body, format="multipart")


def test_photo_is_stored_without_metadata_with_a_thumbnail(scene, media_root):
    gps_jpeg = fx.jpeg_bytes(fx.noise((800, 600)), exif=fx.camera_exif().tobytes())
    response = post_photo(scene, fx.upload(gps_jpeg, name="lamp.jpg"))
    assert response.status_code == 201, response.content
    photo = response.json()["photo"]
    assert photo["url"].startswith("http://testserver/media/requests/")
    assert photo["thumbnail_url"].startswith("http://testserver/media/requests/")
    request = ServiceRequest.objects.get(pk=response.json()["id"])
    photo_name, thumbnail_name = str(request.photo.name), str(request.photo_thumbnail.name)
    assert sorted([photo_name, thumbnail_name]) == stored_files(media_root)
    with default_storage.open(photo_name) as stored, Image.open(stored) as image:
        assert not image.getexif()
    with default_storage.open(thumbnail_name) as stored, Image.open(stored) as image:
        assert max(image.size) <= 400


def test_staff_create_accepts_a_photo_too(scene, media_root):
    response = scene.client(scene.staff.user).post(
        scene.staff_url,
        {
            "stay": str(scene.stay.pk),
            "department": str(scene.department.pk),
            "description": "Stain on the carpet",
            "photo": fx.upload(fx.png_bytes()),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["photo"]["url"]
    assert len(stored_files(media_root)) == 2


def bad_uploads():
    return {
        "html-renamed-jpg": fx.upload(fx.html_document(), name="photo.jpg", content_type="image/jpeg"),
        "truncated-jpeg": fx.upload(fx.jpeg_bytes(fx.noise())[:500], name="cut.jpg"),
        "gif": fx.upload(fx.encode(fx.solid(), "GIF"), name="anim.gif"),
        "pixel-bomb": fx.upload(fx.png_header_only(50_000, 50_000), name="bomb.png"),
    }


@pytest.mark.parametrize("kind", list(bad_uploads()))
def test_bad_photo_is_a_400_and_nothing_is_stored(scene, media_root, kind):
    response = post_photo(scene, bad_uploads()[kind])
    assert response.status_code == 400, response.content
    assert "photo" in response.json()
    assert stored_files(media_root) == []
    assert not ServiceRequest.objects.exists()
    assert not RequestActivity.objects.exists()


def test_oversize_photo_is_413_and_nothing_is_stored(scene, media_root, settings):
    settings.IMAGE_MAX_UPLOAD_BYTES = 10_000
    response = post_photo(scene, fx.upload(fx.jpeg_bytes(fx.noise((600, 600))), name="big.jpg"))
    assert response.status_code == 413
    assert response.json()["code"] == "image_too_large"
    assert stored_files(media_root) == []
    assert not ServiceRequest.objects.exists()


def test_a_photo_with_an_otherwise_refused_request_is_not_stored(scene, media_root):
    response = post_photo(scene, fx.upload(fx.png_bytes()), department="999999999")
    assert response.status_code == 400
    assert "department" in response.json()
    assert stored_files(media_root) == []


def test_files_are_removed_when_anything_after_storing_fails(scene, media_root):
    """A failure after the files were written (here: the row's validation) leaves no orphan files."""
    from refuje.common.images import image_prepare
    from refuje.concierge import services

    prepared = image_prepare(upload=io.BytesIO(fx.png_bytes()))
    with pytest.raises(ValidationError):
        services.service_request_create(
            actor=scene.guest,
            stay=scene.stay,
            description="x",
            created_via="neither",  # refused by the row's validation, after the files are stored
            department_id=scene.department.pk,
            photo=prepared,
        )
    assert stored_files(media_root) == []
