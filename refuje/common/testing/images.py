"""Image files for tests, built in memory: real encodings, hostile headers, metadata to strip."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RIYADH_GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (24.0, 42.0, 50.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (46.0, 40.0, 30.0),
}


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **params)
    return buffer.getvalue()


def solid(size: tuple[int, int] = (64, 48), color: Any = "red", mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, color)


def noise(size: tuple[int, int] = (256, 256)) -> Image.Image:
    """Incompressible content, so encoded files have a realistic size and truncation is visible."""
    bands = [Image.effect_noise(size, 80) for _ in range(3)]
    return Image.merge("RGB", bands)


def two_tone(size: tuple[int, int] = (40, 20), left: Any = "red", right: Any = "blue") -> Image.Image:
    """Left half one colour, right half another: shows which way an image was turned."""
    image = Image.new("RGB", size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def jpeg_bytes(image: Image.Image | None = None, **params: Any) -> bytes:
    return encode(image if image is not None else solid(), "JPEG", **params)


def png_bytes(image: Image.Image | None = None, **params: Any) -> bytes:
    return encode(image if image is not None else solid(), "PNG", **params)


def webp_bytes(image: Image.Image | None = None, **params: Any) -> bytes:
    return encode(image if image is not None else solid(), "WEBP", **params)


def srgb_icc_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _s15fixed16(*values: float) -> bytes:
    return b"".join(struct.pack(">i", round(value * 65536)) for value in values)


def swapped_primaries_icc_profile() -> bytes:
    """An RGB display profile whose red and green primaries are sRGB's green and red.

    Pure red under this profile is sRGB green, so colour management is visible in one pixel.
    """
    xyz = {  # sRGB colorants adapted to D50, as in the sRGB profile itself
        "red": (0.4361, 0.2225, 0.0139),
        "green": (0.3851, 0.7169, 0.0971),
        "blue": (0.1431, 0.0606, 0.7141),
    }
    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [
        (b"wtpt", b"XYZ " + b"\0" * 4 + _s15fixed16(0.9642, 1.0, 0.8249)),
        (b"rXYZ", b"XYZ " + b"\0" * 4 + _s15fixed16(*xyz["green"])),
        (b"gXYZ", b"XYZ " + b"\0" * 4 + _s15fixed16(*xyz["red"])),
        (b"bXYZ", b"XYZ " + b"\0" * 4 + _s15fixed16(*xyz["blue"])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + _s15fixed16(0.9642, 1.0, 0.8249)
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + data


def camera_exif(*, orientation: int = 1, gps: bool = True) -> Image.Exif:
    """EXIF as a phone writes it: camera identity, orientation and (by default) a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Refuje Test Camera"
    exif[ExifTags.Base.Model] = "Model 7"
    exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = dict(RIYADH_GPS)
    return exif


def png_chunk(chunk_type: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", zlib.crc32(chunk_type + data))


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG header declaring any size, with no pixel data behind it.

    Decoding it would fail, so a "too many pixels" answer proves the size was refused first.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def animated_png(colors: tuple[Any, ...] = ("red", "blue"), size: tuple[int, int] = (32, 32)) -> bytes:
    first, *rest = (solid(size, color) for color in colors)
    return encode(first, "PNG", save_all=True, append_images=rest)


def html_document() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
