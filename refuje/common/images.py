"""One pipeline for every uploaded image: experience images, request photos, hotel logos.

`image_prepare` checks and re-encodes an upload without storing anything, so a caller can reject
bad input before any database write; `image_store` then writes both files through Django's
default storage (local files or S3-compatible, chosen by settings); `image_ingest` does both.

Output is always JPEG (opaque images) or PNG (images that really use transparency). Both are
accepted by every consumer we hand images to (browsers, native apps, PDF sheets, e-mail and
WhatsApp media, which takes only JPEG and PNG); PNG keeps logo edges lossless where WebP would
trade that compatibility for size.
"""

from __future__ import annotations

import io
import logging
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError
from rest_framework import serializers, status

from refuje.common.errors import ApiError

logger = logging.getLogger(__name__)

MIB: Final = 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES: Final = 8 * MIB
DEFAULT_MAX_PIXELS: Final = 40_000_000
DEFAULT_MAX_EDGE: Final = 2048
DEFAULT_THUMBNAIL_EDGE: Final = 400

# Pillow chooses a decoder from this list only: neither the file name nor the client's content
# type is ever consulted. GIF, TIFF, BMP, SVG and the rest are refused by content.
ACCEPTED_FORMATS: Final = ("JPEG", "PNG", "WEBP")
JPEG_QUALITY: Final = 85
_READ_CHUNK: Final = 64 * 1024
_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_GREY_MODES: Final = frozenset({"1", "L", "I", "I;16", "I;16B", "I;16L", "I;16N"})
_SIXTEEN_BIT_MODES: Final = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})

# Malformed input surfaces from Pillow's parsers and decoders as any of these.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error, zlib.error)

ImageSource = UploadedFile | IO[bytes] | bytes


class ImageKind(StrEnum):
    """What an image is for; the value is its storage folder."""

    EXPERIENCE = "experiences"
    REQUEST_PHOTO = "requests"
    HOTEL_LOGO = "logos"


class ImageRejected(ApiError):
    default_detail = _("The image could not be used.")
    default_code = "image_invalid"


class ImageUnsupportedType(ImageRejected):
    default_detail = _("Upload a JPEG, PNG or WebP image.")
    default_code = "image_unsupported_type"


class ImageInvalid(ImageRejected):
    default_detail = _("The image file is damaged or incomplete.")
    default_code = "image_invalid"


class ImageTooManyPixels(ImageRejected):
    default_code = "image_too_many_pixels"

    def __init__(self, *, max_pixels: int) -> None:
        detail = _("The image has too many pixels. The maximum is %(megapixels)s megapixels.") % {
            "megapixels": _number(max_pixels / 1_000_000)
        }
        super().__init__(detail, extra={"max_pixels": max_pixels})


class ImageTooLarge(ImageRejected):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "image_too_large"

    def __init__(self, *, max_bytes: int) -> None:
        detail = _("The image is too large. The maximum size is %(megabytes)s MB.") % {
            "megabytes": _number(max_bytes / MIB)
        }
        super().__init__(detail, extra={"max_bytes": max_bytes})


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """A checked, re-encoded image and its thumbnail, not stored yet."""

    content_type: str
    extension: str
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    content: bytes = field(repr=False)
    thumbnail: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class StoredImage:
    """Models keep the storage names; URLs may be signed and short-lived, so render them fresh."""

    name: str
    url: str
    thumbnail_name: str
    thumbnail_url: str
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    content_type: str
    size: int


def image_prepare(*, upload: ImageSource) -> PreparedImage:
    data = _read_capped(upload, limit=_setting("IMAGE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
    max_pixels = _setting("IMAGE_MAX_PIXELS", DEFAULT_MAX_PIXELS)
    try:
        source = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard runs inside open(). Its warning becomes an exception wherever
        # warnings are errors, so both forms get the same answer as our limit below.
        raise ImageTooManyPixels(max_pixels=max_pixels) from exc
    except UnidentifiedImageError as exc:
        raise ImageUnsupportedType() from exc
    except _DECODE_ERRORS as exc:
        raise ImageInvalid() from exc

    with source:
        width, height = source.size
        if width < 1 or height < 1:
            raise ImageInvalid()
        # The header alone gives the size: refuse before a single pixel is decoded.
        if width * height > max_pixels:
            raise ImageTooManyPixels(max_pixels=max_pixels)
        try:
            return _process(
                source,
                max_edge=_setting("IMAGE_MAX_EDGE", DEFAULT_MAX_EDGE),
                thumbnail_edge=_setting("IMAGE_THUMBNAIL_EDGE", DEFAULT_THUMBNAIL_EDGE),
            )
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooManyPixels(max_pixels=max_pixels) from exc
        except _DECODE_ERRORS as exc:
            raise ImageInvalid() from exc


def image_store(*, prepared: PreparedImage, kind: str) -> StoredImage:
    folder = ImageKind(kind).value
    stem = f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"
    name = default_storage.save(f"{stem}.{prepared.extension}", ContentFile(prepared.content))
    try:
        thumbnail_name = default_storage.save(f"{stem}-thumb.{prepared.extension}", ContentFile(prepared.thumbnail))
        return StoredImage(
            name=name,
            url=default_storage.url(name),
            thumbnail_name=thumbnail_name,
            thumbnail_url=default_storage.url(thumbnail_name),
            width=prepared.width,
            height=prepared.height,
            thumbnail_width=prepared.thumbnail_width,
            thumbnail_height=prepared.thumbnail_height,
            content_type=prepared.content_type,
            size=len(prepared.content),
        )
    except BaseException:
        # Half a stored image is an orphan nobody will ever reference or clean up.
        _delete_quietly(name)
        raise


def image_ingest(*, upload: ImageSource, kind: str) -> StoredImage:
    ImageKind(kind)  # an unknown kind is a programming error: fail before doing the work
    return image_store(prepared=image_prepare(upload=upload), kind=kind)


def image_delete(*, image: StoredImage) -> None:
    """Remove both files, e.g. when the database write that would reference them failed."""
    for name in (image.name, image.thumbnail_name):
        _delete_quietly(name)


@extend_schema_field(OpenApiTypes.BINARY)
class ImageUploadField(serializers.Field):
    """A multipart image whose validated value is a PreparedImage (checked, not stored yet).

    Unusable content becomes a field error; an oversize file keeps its 413 answer.
    """

    default_error_messages = {"invalid": serializers.FileField.default_error_messages["invalid"]}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("write_only", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> PreparedImage:
        if not isinstance(data, UploadedFile):
            self.fail("invalid")
        try:
            return image_prepare(upload=data)
        except ImageTooLarge:
            raise
        except ImageRejected as exc:
            raise serializers.ValidationError(exc.detail, code=exc.default_code) from exc


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _number(value: float) -> str:
    rounded = round(value, 1)
    return formats.number_format(int(rounded) if rounded.is_integer() else rounded)


def _read_capped(upload: ImageSource, *, limit: int) -> bytes:
    if isinstance(upload, bytes):
        if len(upload) > limit:
            raise ImageTooLarge(max_bytes=limit)
        return upload
    # Read from the start, and never more than one byte past the limit: the size a client
    # declares is not trusted and an endless stream must not be buffered.
    if upload.seekable():
        upload.seek(0)
    buffer = bytearray()
    while len(buffer) <= limit:
        chunk = upload.read(min(_READ_CHUNK, limit + 1 - len(buffer)))
        if not chunk:
            return bytes(buffer)
        buffer += chunk
    raise ImageTooLarge(max_bytes=limit)


def _process(source: ImageFile.ImageFile, *, max_edge: int, thumbnail_edge: int) -> PreparedImage:
    # JPEG decodes at 1/2, 1/4 or 1/8 scale when that still covers max_edge: less memory and time.
    source.draft(None, (max_edge, max_edge))
    source.load()  # the current frame only: animated images keep their first frame
    ImageOps.exif_transpose(source, in_place=True)
    full = _fit(_normalise(source), max_edge)
    thumbnail = _fit(full, thumbnail_edge)
    extension, content_type = ("png", "image/png") if full.mode == "RGBA" else ("jpg", "image/jpeg")
    return PreparedImage(
        content_type=content_type,
        extension=extension,
        width=full.width,
        height=full.height,
        thumbnail_width=thumbnail.width,
        thumbnail_height=thumbnail.height,
        content=_encode(full),
        thumbnail=_encode(thumbnail),
    )


def _normalise(image: Image.Image) -> Image.Image:
    """Return an sRGB image in L, RGB or RGBA; RGBA only when some pixel is not fully opaque."""
    icc_profile = image.info.get("icc_profile")
    alpha: Image.Image | None = None
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        channel = rgba.getchannel("A")
        extrema = channel.getextrema()
        if isinstance(extrema[0], int | float) and extrema[0] < 255:
            alpha = channel
        colour = rgba.convert("RGB")
    elif image.mode in _SIXTEEN_BIT_MODES:
        # A plain convert() clips 16-bit grey to white; scale it down instead.
        colour = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode in _GREY_MODES:
        colour = image.convert("L")
    elif image.mode in ("RGB", "CMYK"):
        colour = image
    else:
        colour = image.convert("RGB")

    if colour.mode in ("RGB", "CMYK"):
        colour = _to_srgb(colour, icc_profile) if isinstance(icc_profile, bytes) and icc_profile else colour
        if colour.mode != "RGB":
            colour = colour.convert("RGB")
    if alpha is not None:
        colour.putalpha(alpha)
    return colour


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image:
    # The embedded profile is about to be stripped; convert first so Display P3 photos and
    # CMYK prints keep their colours instead of shifting.
    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image, source_profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        converted = None
    return converted if converted is not None else image.convert("RGB")


def _fit(image: Image.Image, edge: int) -> Image.Image:
    longest = max(image.size)
    if longest <= edge:
        return image
    scale = edge / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image) -> bytes:
    # Encoders copy some metadata from `info` on their own (PNG: the ICC profile, JPEG: the
    # comment); an empty `info` guarantees nothing of the original file survives.
    image.info = {}
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, format="PNG")
    else:
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:
        logger.exception("Could not delete stored image %s", name)
