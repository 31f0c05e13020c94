import io
import re
from typing import IO, cast

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.test import Client
from django.urls import path
from django.utils import translation
from PIL import ExifTags, Image
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from refuje.common.images import (
    MIB,
    ImageInvalid,
    ImageKind,
    ImageTooLarge,
    ImageTooManyPixels,
    ImageUnsupportedType,
    ImageUploadField,
    image_delete,
    image_ingest,
    image_prepare,
    image_store,
)
from refuje.common.testing import images as fx

# --- a view using the serializer field, as endpoints will -------------------------------------


class PhotoSerializer(serializers.Serializer):
    photo = ImageUploadField()


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([MultiPartParser])
def _upload_photo(request):
    serializer = PhotoSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    stored = image_store(prepared=serializer.validated_data["photo"], kind=ImageKind.REQUEST_PHOTO)
    return Response({"name": stored.name, "thumbnail_name": stored.thumbnail_name}, status=201)


urlpatterns = [path("api/v1/test/photo/", _upload_photo)]

UPLOAD_URL = "/api/v1/test/photo/"


class SecondSaveFails(FileSystemStorage):
    """Local storage that breaks down after one file, like a bucket that starts refusing writes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.saves = 0

    def save(self, name, content, max_length=None):
        self.saves += 1
        if self.saves > 1:
            raise OSError("storage refused the write")
        return super().save(name, content, max_length)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    settings.MEDIA_URL = "/media/"
    return root


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the project's default language is Arabic."""
    with translation.override("en"):
        yield


def stored_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def open_stored(name):
    with default_storage.open(name) as handle:
        data = handle.read()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image, data


def close_to(pixel, expected, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


# --- content, not names, decides ----------------------------------------------------------------


def test_html_renamed_to_jpg_is_refused_and_nothing_is_stored(media_root):
    with pytest.raises(ImageUnsupportedType) as caught:
        image_ingest(upload=fx.upload(fx.html_document(), "holiday.jpg", "image/jpeg"), kind=ImageKind.EXPERIENCE)
    assert caught.value.status_code == 400
    assert caught.value.get_codes() == "image_unsupported_type"
    assert stored_files(media_root) == []


def test_gif_is_refused_even_though_pillow_could_read_it():
    with pytest.raises(ImageUnsupportedType):
        image_prepare(upload=fx.upload(fx.encode(fx.solid(), "GIF"), "photo.png", "image/png"))


def test_webp_is_accepted_and_stored_as_jpeg():
    prepared = image_prepare(upload=fx.webp_bytes(fx.solid((50, 40), "green")))
    assert (prepared.content_type, prepared.extension) == ("image/jpeg", "jpg")
    assert Image.open(io.BytesIO(prepared.content)).format == "JPEG"


# --- size and pixel limits ----------------------------------------------------------------------


def test_png_declaring_fifty_thousand_square_is_refused_before_decoding(media_root):
    with pytest.raises(ImageTooManyPixels) as caught:
        image_ingest(upload=fx.upload(fx.png_header_only(50_000, 50_000), "bomb.png"), kind=ImageKind.EXPERIENCE)
    assert caught.value.status_code == 400
    assert caught.value.get_codes() == "image_too_many_pixels"
    assert stored_files(media_root) == []


def test_pixel_limit_is_checked_from_the_header_below_pillows_own_guard():
    # 64 MP: above our 40 MP default, below the point where Pillow itself complains. The file
    # has no pixel data, so only a check made before decoding can give this answer.
    with pytest.raises(ImageTooManyPixels) as caught:
        image_prepare(upload=fx.png_header_only(8_000, 8_000))
    with translation.override("en"):
        assert str(caught.value.detail) == "The image has too many pixels. The maximum is 40 megapixels."


def test_pixel_limit_follows_the_setting(settings):
    settings.IMAGE_MAX_PIXELS = 1_000
    with pytest.raises(ImageTooManyPixels):
        image_prepare(upload=fx.png_bytes(fx.solid((50, 50))))


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_pillow_bomb_warning_raised_as_error_is_a_clean_400(settings):
    # 100 MP sits between Pillow's warning and error thresholds; where warnings are errors the
    # warning escapes Image.open() as an exception and must not become a 500.
    settings.IMAGE_MAX_PIXELS = 500_000_000
    with pytest.raises(ImageTooManyPixels):
        image_prepare(upload=fx.png_header_only(10_000, 10_000))


def test_oversize_file_is_refused_with_413_stating_the_limit_in_mb(media_root):
    oversize = b"\xff\xd8\xff\xe0" + b"\0" * (8 * MIB)
    with pytest.raises(ImageTooLarge) as caught:
        image_ingest(upload=fx.upload(oversize), kind=ImageKind.REQUEST_PHOTO)
    assert caught.value.status_code == 413
    assert caught.value.get_codes() == "image_too_large"
    with translation.override("en"):
        assert str(caught.value.detail) == "The image is too large. The maximum size is 8 MB."
    assert stored_files(media_root) == []


class EndlessStream(io.RawIOBase):
    def __init__(self, give_up_after):
        self.consumed = 0
        self.give_up_after = give_up_after

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.consumed > self.give_up_after:
            raise AssertionError("the whole stream was being read")
        buffer[:] = b"\0" * len(buffer)
        self.consumed += len(buffer)
        return len(buffer)


def test_size_cap_stops_reading_one_byte_past_the_limit(settings):
    settings.IMAGE_MAX_UPLOAD_BYTES = 100_000
    stream = EndlessStream(give_up_after=1_000_000)
    with pytest.raises(ImageTooLarge):
        image_prepare(upload=cast(IO[bytes], stream))
    assert stream.consumed == 100_001


def test_file_exactly_at_the_limit_is_accepted(settings):
    data = fx.png_bytes()
    settings.IMAGE_MAX_UPLOAD_BYTES = len(data)
    assert image_prepare(upload=fx.upload(data)).width == 64


def test_truncated_jpeg_is_invalid(media_root):
    data = fx.jpeg_bytes(fx.noise((300, 300)))
    with pytest.raises(ImageInvalid) as caught:
        image_ingest(upload=fx.upload(data[: len(data) // 2]), kind=ImageKind.EXPERIENCE)
    assert caught.value.status_code == 400
    assert caught.value.get_codes() == "image_invalid"
    assert stored_files(media_root) == []


# --- metadata, orientation, geometry, colour ----------------------------------------------------


def test_gps_tagged_jpeg_is_stored_without_any_metadata():
    source = fx.jpeg_bytes(
        fx.noise((120, 90)), exif=fx.camera_exif(), icc_profile=fx.srgb_icc_profile(), comment=b"room 1204"
    )
    original = Image.open(io.BytesIO(source))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really carries a position

    stored = image_ingest(upload=fx.upload(source), kind=ImageKind.REQUEST_PHOTO)

    for name in (stored.name, stored.thumbnail_name):
        image, data = open_stored(name)
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not {"exif", "icc_profile", "comment", "xmp"} & image.info.keys()
        assert b"Exif" not in data
        assert b"Refuje Test Camera" not in data
        assert b"room 1204" not in data


def test_png_keeps_no_icc_profile_or_text():
    image = fx.solid((40, 40), (255, 0, 0, 128), mode="RGBA")
    source = fx.png_bytes(image, icc_profile=fx.srgb_icc_profile(), exif=fx.camera_exif())
    prepared = image_prepare(upload=source)
    result = Image.open(io.BytesIO(prepared.content))
    assert prepared.content_type == "image/png"
    assert not {"icc_profile", "exif"} & result.info.keys()
    assert not result.getexif()


def test_embedded_colour_profile_is_applied_before_it_is_stripped():
    source = fx.jpeg_bytes(fx.solid((32, 32), (255, 0, 0)), icc_profile=fx.swapped_primaries_icc_profile())
    result = Image.open(io.BytesIO(image_prepare(upload=source).content))
    assert "icc_profile" not in result.info
    assert close_to(result.getpixel((16, 16)), (0, 255, 0))


def test_exif_rotated_photo_comes_out_upright():
    # Orientation 6: the camera was turned; the stored pixels must be rotated 90° clockwise.
    source = fx.jpeg_bytes(fx.two_tone((40, 20)), exif=fx.camera_exif(orientation=6, gps=False))
    stored = image_ingest(upload=source, kind=ImageKind.EXPERIENCE)
    image, _ = open_stored(stored.name)
    assert (stored.width, stored.height) == image.size == (20, 40)
    assert close_to(image.getpixel((10, 5)), (255, 0, 0))
    assert close_to(image.getpixel((10, 35)), (0, 0, 255))


def test_large_image_is_resized_to_the_max_edge_with_a_thumbnail():
    stored = image_ingest(upload=fx.jpeg_bytes(fx.solid((3000, 1500), "navy")), kind=ImageKind.EXPERIENCE)
    assert (stored.width, stored.height) == (2048, 1024)
    assert (stored.thumbnail_width, stored.thumbnail_height) == (400, 200)
    assert open_stored(stored.name)[0].size == (2048, 1024)
    assert open_stored(stored.thumbnail_name)[0].size == (400, 200)


def test_edges_follow_the_settings(settings):
    settings.IMAGE_MAX_EDGE = 100
    settings.IMAGE_THUMBNAIL_EDGE = 30
    prepared = image_prepare(upload=fx.png_bytes(fx.solid((50, 200))))
    assert (prepared.width, prepared.height) == (25, 100)
    assert Image.open(io.BytesIO(prepared.thumbnail)).size == (8, 30)


def test_stored_jpeg_is_progressive():
    prepared = image_prepare(upload=fx.jpeg_bytes(fx.noise((200, 200))))
    assert Image.open(io.BytesIO(prepared.content)).info.get("progressive")


def test_png_with_alpha_keeps_transparency():
    image = fx.solid((3000, 100), (0, 0, 0, 0), mode="RGBA")
    image.paste((0, 128, 0, 255), (0, 0, 1500, 100))
    stored = image_ingest(upload=fx.png_bytes(image), kind=ImageKind.HOTEL_LOGO)
    assert stored.content_type == "image/png"
    assert stored.name.endswith(".png")
    for name in (stored.name, stored.thumbnail_name):
        result, _ = open_stored(name)
        assert result.mode == "RGBA"
        assert result.getpixel((2, 2)) == (0, 128, 0, 255)
        assert result.getpixel((result.width - 2, 2))[3] == 0


def test_png_whose_alpha_is_fully_opaque_becomes_jpeg():
    prepared = image_prepare(upload=fx.png_bytes(fx.solid((60, 60), (10, 20, 30, 255), mode="RGBA")))
    assert prepared.content_type == "image/jpeg"


def test_cmyk_jpeg_is_converted_to_rgb():
    source = fx.jpeg_bytes(fx.solid((64, 64), (0, 255, 255, 0), mode="CMYK"))
    assert Image.open(io.BytesIO(source)).mode == "CMYK"
    prepared = image_prepare(upload=source)
    result = Image.open(io.BytesIO(prepared.content))
    assert result.mode == "RGB"
    assert close_to(result.getpixel((32, 32)), (255, 0, 0))


def palette(transparent):
    image = Image.new("P", (32, 32), 1)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(0, (0, 0, 16, 32))
    return fx.png_bytes(image, transparency=0) if transparent else fx.png_bytes(image)


@pytest.mark.parametrize(
    ("source", "content_type", "mode", "left_pixel"),
    [
        pytest.param(palette(transparent=False), "image/jpeg", "RGB", (255, 0, 0), id="P"),
        pytest.param(palette(transparent=True), "image/png", "RGBA", (255, 0, 0, 0), id="P-transparency"),
        pytest.param(
            fx.png_bytes(fx.solid(mode="LA", color=(200, 0))), "image/png", "RGBA", (200, 200, 200, 0), id="LA"
        ),
        pytest.param(fx.png_bytes(fx.solid(mode="L", color=90)), "image/jpeg", "L", 90, id="L"),
        pytest.param(fx.png_bytes(fx.solid(mode="1", color=1)), "image/jpeg", "L", 255, id="1"),
        pytest.param(fx.png_bytes(fx.solid(mode="I;16", color=40_000)), "image/jpeg", "L", 156, id="I;16"),
        pytest.param(
            fx.png_bytes(fx.solid(mode="RGB", color=(0, 255, 0)), transparency=(0, 255, 0)),
            "image/png",
            "RGBA",
            (0, 255, 0, 0),
            id="RGB-colour-key",
        ),
    ],
)
def test_colour_modes_are_normalised(source, content_type, mode, left_pixel):
    prepared = image_prepare(upload=source)
    result = Image.open(io.BytesIO(prepared.content))
    assert prepared.content_type == content_type
    assert result.mode == mode
    pixel = result.getpixel((2, 2))
    if isinstance(pixel, tuple):
        assert close_to(pixel, left_pixel, tolerance=3)
    else:
        assert abs(pixel - left_pixel) <= 3


def test_animated_png_keeps_its_first_frame():
    source = fx.animated_png(("red", "blue"))
    assert getattr(Image.open(io.BytesIO(source)), "n_frames", 1) == 2
    result = Image.open(io.BytesIO(image_prepare(upload=source).content))
    assert getattr(result, "n_frames", 1) == 1
    assert close_to(result.getpixel((5, 5)), (255, 0, 0))


def test_animated_webp_keeps_its_first_frame():
    first, second = fx.solid((32, 32), "red"), fx.solid((32, 32), "blue")
    source = fx.webp_bytes(first, save_all=True, append_images=[second], lossless=True)
    result = Image.open(io.BytesIO(image_prepare(upload=source).content))
    assert close_to(result.getpixel((5, 5)), (255, 0, 0))


# --- names and storage --------------------------------------------------------------------------


def test_names_are_generated_by_the_server_whatever_the_client_sends(media_root):
    stored = image_ingest(upload=fx.upload(fx.jpeg_bytes(), "../../etc/passwd.jpg"), kind=ImageKind.REQUEST_PHOTO)
    stem = r"requests/\d{4}/\d{2}/[0-9a-f]{32}"
    assert re.fullmatch(stem + r"\.jpg", stored.name)
    assert re.fullmatch(stem + r"-thumb\.jpg", stored.thumbnail_name)
    assert stored.thumbnail_name.startswith(stored.name.removesuffix(".jpg"))
    assert stored_files(media_root) == sorted([stored.name, stored.thumbnail_name])
    assert stored.url == "/media/" + stored.name
    assert stored.size == (media_root / stored.name).stat().st_size
    assert not (media_root.parent / "etc").exists()


def test_unknown_kind_is_a_programming_error(media_root):
    with pytest.raises(ValueError, match="avatars"):
        image_ingest(upload=fx.jpeg_bytes(), kind="avatars")
    with pytest.raises(ValueError, match=re.escape("../x")):
        image_store(prepared=image_prepare(upload=fx.jpeg_bytes()), kind="../x")
    assert stored_files(media_root) == []


def test_prepare_stores_nothing(media_root):
    prepared = image_prepare(upload=fx.jpeg_bytes())
    assert prepared.content.startswith(b"\xff\xd8")
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(fx.html_document(), id="html"),
        pytest.param(b"", id="empty"),
        pytest.param(fx.png_header_only(50_000, 50_000), id="pixel-bomb"),
        pytest.param(fx.png_header_only(64, 64), id="png-without-pixels"),
        pytest.param(fx.jpeg_bytes(fx.noise((200, 200)))[:3000], id="truncated"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * (9 * MIB), id="oversize"),
    ],
)
def test_nothing_is_stored_when_any_check_fails(media_root, data):
    with pytest.raises((ImageUnsupportedType, ImageInvalid, ImageTooManyPixels, ImageTooLarge)):
        image_ingest(upload=fx.upload(data), kind=ImageKind.EXPERIENCE)
    assert stored_files(media_root) == []


def test_full_image_is_removed_when_the_thumbnail_cannot_be_stored(settings, media_root):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.SecondSaveFails"}}
    with pytest.raises(OSError, match="refused"):
        image_ingest(upload=fx.jpeg_bytes(), kind=ImageKind.EXPERIENCE)
    assert getattr(default_storage, "saves", 0) == 2  # the full image was written, then taken back
    assert stored_files(media_root) == []


def test_image_delete_removes_both_files(media_root):
    stored = image_ingest(upload=fx.jpeg_bytes(), kind=ImageKind.EXPERIENCE)
    image_delete(image=stored)
    assert stored_files(media_root) == []


# --- through an endpoint ------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_field_turns_bad_content_into_a_field_error(media_root):
    fake = fx.upload(fx.html_document(), "photo.jpg")
    response = Client().post(UPLOAD_URL, {"photo": fake}, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert response.json() == {"photo": ["Upload a JPEG, PNG or WebP image."], "code": "invalid"}
    assert stored_files(media_root) == []


@pytest.mark.urls(__name__)
def test_field_reports_a_pixel_bomb_as_a_field_error():
    bomb = fx.upload(fx.png_header_only(50_000, 50_000), "photo.png", "image/png")
    response = Client().post(UPLOAD_URL, {"photo": bomb}, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert response.json()["photo"] == ["The image has too many pixels. The maximum is 40 megapixels."]


@pytest.mark.urls(__name__)
def test_field_requires_a_file():
    response = Client().post(UPLOAD_URL, {"photo": "not a file"}, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert list(response.json()) == ["photo", "code"]


@pytest.mark.urls(__name__)
def test_oversize_upload_through_the_field_answers_413(settings, media_root):
    settings.IMAGE_MAX_UPLOAD_BYTES = MIB // 2
    big = fx.upload(fx.png_bytes(fx.noise((1000, 1000))), "photo.png", "image/png")
    response = Client().post(UPLOAD_URL, {"photo": big}, headers={"accept-language": "en"})
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The image is too large. The maximum size is 0.5 MB.",
        "code": "image_too_large",
        "max_bytes": MIB // 2,
    }
    assert stored_files(media_root) == []


@pytest.mark.urls(__name__)
def test_valid_upload_through_the_field_is_stored(media_root):
    photo = fx.upload(fx.jpeg_bytes(exif=fx.camera_exif()), "IMG_0001.jpeg")
    response = Client().post(UPLOAD_URL, {"photo": photo})
    assert response.status_code == 201
    body = response.json()
    assert stored_files(media_root) == sorted([body["name"], body["thumbnail_name"]])
