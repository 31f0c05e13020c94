"""QR code images (segno) and the printable A4 sheet (Pillow, multi-page PDF).

Every code encodes the guest landing URL `<PUBLIC_BASE_URL>/q/<token>`, so a printed code keeps
working when the API moves; only the web front end has to serve that path.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import segno
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from refuje.hotels.models import Hotel

from .models import QRCode, QRTargetType

logger = logging.getLogger(__name__)

DEFAULT_PUBLIC_BASE_URL: Final = "http://localhost:8000"
# Medium error correction survives a scuffed print; segno raises it for free when space allows.
ERROR_LEVEL: Final = "m"
QUIET_ZONE: Final = 4  # modules, as the QR standard requires around every code
IMAGE_SCALE: Final = 10  # pixels (PNG) or user units (SVG) per module

# The sheet: A4 at 200 dpi, 3 × 4 codes per page, each about 4.5 cm wide with two lines of text.
DPI: Final = 200
PAGE_SIZE: Final = (1654, 2339)
MARGIN: Final = 90
HEADER_HEIGHT: Final = 90
COLUMNS: Final = 3
ROWS: Final = 4
CODES_PER_PAGE: Final = COLUMNS * ROWS
QR_MAX_EDGE: Final = 360
LABEL_SIZE: Final = 36
DETAIL_SIZE: Final = 26
HEADER_SIZE: Final = 30
MIN_TEXT_SIZE: Final = 20
DEFAULT_SHEET_MAX_CODES: Final = 600
# Fonts with Arabic and Latin glyphs, looked up in the system font folders; Pillow's own font
# (Latin only) is the last resort. Set QR_SHEET_FONT to a .ttf path to choose another.
FONT_CANDIDATES: Final = ("DejaVuSans.ttf", "NotoSansArabic-Regular.ttf", "FreeSans.ttf")
BOLD_FONT_CANDIDATES: Final = ("DejaVuSans-Bold.ttf", "NotoSansArabic-Bold.ttf", "FreeSansBold.ttf")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def public_base_url() -> str:
    return str(getattr(settings, "PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL)).rstrip("/")


def landing_url(code: QRCode) -> str:
    return f"{public_base_url()}/q/{code.token}"


def make_qr(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_LEVEL, micro=False)


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    make_qr(url).save(buffer, kind="png", scale=IMAGE_SCALE, border=QUIET_ZONE)
    return buffer.getvalue()


def qr_svg(url: str, *, title: str = "") -> bytes:
    buffer = io.BytesIO()
    make_qr(url).save(buffer, kind="svg", scale=IMAGE_SCALE, border=QUIET_ZONE, title=title or None, xmldecl=True)
    return buffer.getvalue()


def sheet_max_codes() -> int:
    return int(getattr(settings, "QR_SHEET_MAX_CODES", DEFAULT_SHEET_MAX_CODES))


def sheet_page_count(code_count: int) -> int:
    return max(1, -(-code_count // CODES_PER_PAGE))


def target_text(code: QRCode) -> str:
    """One line saying what the code opens, in the active language."""
    if code.target_type == QRTargetType.ROOM:
        return _("Room %(number)s") % {"number": code.room_number}
    if code.target_type == QRTargetType.LOCATION:
        return code.location_label
    if code.target_type == QRTargetType.DEPARTMENT and code.department is not None:
        return code.department.name
    if code.target_type == QRTargetType.EXPERIENCE and code.experience is not None:
        return code.experience.title
    return ""


@dataclass(frozen=True)
class _Fonts:
    label: Font
    detail: Font
    header: Font


def qr_sheet_pdf(*, hotel: Hotel, codes: Sequence[QRCode]) -> bytes:
    """An A4 PDF with CODES_PER_PAGE codes a page, each with its label and target, cut lines between.

    Pages are drawn in 1-bit black and white: codes stay sharp, text renders without grey edges
    that printers dither, and the PDF stores them with lossless fax compression.
    """
    fonts = _Fonts(label=_font(LABEL_SIZE, bold=True), detail=_font(DETAIL_SIZE), header=_font(HEADER_SIZE))
    chunks = [codes[start : start + CODES_PER_PAGE] for start in range(0, len(codes), CODES_PER_PAGE)] or [[]]
    pages = [
        _render_page(hotel, chunk, fonts, number=index + 1, total=len(chunks)) for index, chunk in enumerate(chunks)
    ]
    buffer = io.BytesIO()
    pages[0].save(
        buffer,
        format="PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=float(DPI),
        title=_("QR codes: %(hotel)s") % {"hotel": hotel.name},
        creator="Refuje",
        producer="Refuje",
    )
    return buffer.getvalue()


def _render_page(hotel: Hotel, codes: Sequence[QRCode], fonts: _Fonts, *, number: int, total: int) -> Image.Image:
    page = Image.new("1", PAGE_SIZE, 1)
    draw = ImageDraw.Draw(page)
    width, height = PAGE_SIZE
    draw.text((MARGIN, MARGIN // 2), hotel.name, font=fonts.header, fill=0)
    page_text = f"{number} / {total}"
    draw.text(
        (width - MARGIN - draw.textlength(page_text, font=fonts.header), MARGIN // 2),
        page_text,
        font=fonts.header,
        fill=0,
    )

    top = MARGIN + HEADER_HEIGHT
    cell_width = (width - 2 * MARGIN) // COLUMNS
    cell_height = (height - top - MARGIN) // ROWS
    _cut_lines(draw, left=MARGIN, top=top, cell_width=cell_width, cell_height=cell_height)
    for index, code in enumerate(codes):
        row, column = divmod(index, COLUMNS)
        _draw_cell(
            page,
            draw,
            code,
            fonts,
            left=MARGIN + column * cell_width,
            top=top + row * cell_height,
            width=cell_width,
            height=cell_height,
        )
    return page


def _cut_lines(draw: ImageDraw.ImageDraw, *, left: int, top: int, cell_width: int, cell_height: int) -> None:
    dash, gap = 12, 10
    right, bottom = left + COLUMNS * cell_width, top + ROWS * cell_height
    for column in range(COLUMNS + 1):
        x = left + column * cell_width
        for y in range(top, bottom, dash + gap):
            draw.line([(x, y), (x, min(y + dash, bottom))], fill=0, width=1)
    for row in range(ROWS + 1):
        y = top + row * cell_height
        for x in range(left, right, dash + gap):
            draw.line([(x, y), (min(x + dash, right), y)], fill=0, width=1)


def _draw_cell(
    page: Image.Image,
    draw: ImageDraw.ImageDraw,
    code: QRCode,
    fonts: _Fonts,
    *,
    left: int,
    top: int,
    width: int,
    height: int,
) -> None:
    symbol = qr_bitmap(landing_url(code), max_edge=min(QR_MAX_EDGE, width - 40, height - 150))
    page.paste(symbol, (left + (width - symbol.width) // 2, top + 20))
    text_top = top + 20 + symbol.height + 12
    text_width = width - 40
    detail = target_text(code)
    lines = ((code.label, fonts.label, 10), (detail if detail != code.label else "", fonts.detail, 0))
    for text, font, gap in lines:
        if not text:
            continue
        fitted, fitted_font = _fit_text(draw, text, font, text_width)
        line_width = draw.textlength(fitted, font=fitted_font)
        draw.text((left + (width - line_width) / 2, text_top), fitted, font=fitted_font, fill=0)
        text_top += _line_height(fitted_font) + gap


def qr_bitmap(url: str, *, max_edge: int) -> Image.Image:
    """The code as a 1-bit image, quiet zone included, at the largest whole-pixel module size."""
    qr = make_qr(url)
    modules = qr.symbol_size(scale=1, border=QUIET_ZONE)[0]
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(1, max_edge // modules), border=QUIET_ZONE)
    buffer.seek(0)
    with Image.open(buffer) as image:
        return image.convert("1")


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> tuple[str, Font]:
    """Shrink the font down to MIN_TEXT_SIZE, then shorten with an ellipsis, until the text fits."""
    current = font
    while draw.textlength(text, font=current) > width and isinstance(current, ImageFont.FreeTypeFont):
        if current.size <= MIN_TEXT_SIZE:
            break
        current = current.font_variant(size=current.size - 2)
    if draw.textlength(text, font=current) <= width:
        return text, current
    shortened = text
    while shortened and draw.textlength(shortened + "…", font=current) > width:
        shortened = shortened[:-1]
    return shortened.rstrip() + "…", current


def _line_height(font: Font) -> int:
    box = font.getbbox("Ag")
    return int(box[3] - box[1]) + 8


def _font(size: int, *, bold: bool = False) -> Font:
    configured = str(getattr(settings, "QR_SHEET_FONT", "") or "")
    candidates = ((configured,) if configured else ()) + (BOLD_FONT_CANDIDATES if bold else FONT_CANDIDATES)
    return _load_font(candidates, size)


@lru_cache(maxsize=16)
def _load_font(candidates: tuple[str, ...], size: int) -> Font:
    for candidate in candidates:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    logger.warning("No TrueType font found for QR sheets (tried %s); Arabic labels will not render.", candidates)
    return ImageFont.load_default(size=size)
