"""Read the module grid back out of our PNG and SVG output, to compare with what a URL encodes."""

import io
import re

import segno
from PIL import Image

QUIET_ZONE = 4


def expected_matrix(url: str) -> list[list[bool]]:
    qr = segno.make(url, error="m", micro=False)
    return [[bool(dark) for dark in row] for row in qr.matrix_iter(scale=1, border=QUIET_ZONE)]


def png_matrix(content: bytes, modules: int) -> list[list[bool]]:
    """Sample the middle of every module of a PNG code drawn at a whole number of pixels per module."""
    with Image.open(io.BytesIO(content)) as image:
        image.load()
        grey = image.convert("L")
    assert grey.width == grey.height
    assert grey.width % modules == 0, "the image is not a whole number of pixels per module"
    step = grey.width // modules
    values = list(grey.tobytes())
    return [
        [values[(y * step + step // 2) * grey.width + x * step + step // 2] < 128 for x in range(modules)]
        for y in range(modules)
    ]


_TOKEN = re.compile(r"[MmHhVvZz]|-?\d+(?:\.\d+)?")


def svg_matrix(content: bytes, modules: int) -> list[list[bool]]:
    """Replay segno's path (`M x y`, `m dx dy`, `h n` runs of dark modules) onto a grid."""
    text = content.decode()
    paths = re.findall(r'<path[^>]*\sd="([^"]+)"', text)
    assert len(paths) == 1, "expected one path of dark modules"
    grid = [[False] * modules for _ in range(modules)]
    tokens = _TOKEN.findall(paths[0])
    x = y = 0.0
    index = 0
    while index < len(tokens):
        command = tokens[index]
        if command in ("M", "m"):
            dx, dy = float(tokens[index + 1]), float(tokens[index + 2])
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
            index += 3
        elif command == "h":
            run = int(float(tokens[index + 1]))
            for column in range(int(x), int(x) + run):
                grid[int(y)][column] = True
            x += run
            index += 2
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    return grid
