"""What the report's charts are drawn with: a Pillow canvas addressed in output pixels and drawn
at SCALE times the size (downsampled with LANCZOS for crisp lines), the palette, the fonts, dashed
lines, text shortened to fit, and the PNG encoding of a finished chart."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from PIL import Image, ImageDraw, ImageFont

SCALE = 2  # drawn at this multiple of the output size, then downsampled
MIN_WIDTH_PX = 320
PAD_PX = 16  # white margin around everything

WHITE = (255, 255, 255)
ACCENT = (37, 99, 235)  # #2563eb
ACCENT_LIGHT = (191, 219, 254)  # #bfdbfe, ground of the hatched in-progress part
TRACK = (243, 244, 246)  # #f3f4f6, the full length (step 1) behind each funnel bar
GRID = (229, 231, 235)  # #e5e7eb
AXIS = (209, 213, 219)  # #d1d5db
TEXT = (17, 24, 39)  # #111827
MUTED = (107, 114, 128)  # #6b7280
PREVIOUS = (156, 163, 175)  # #9ca3af

BAR_RADIUS = 4
HATCH_EVERY_PX = 6
DASH_PX, DASH_GAP_PX = 6, 4
PALETTE_MAX_SOURCE_COLOURS = 4096  # png_bytes quantizes images with up to this many colours

Point = tuple[float, float]
Colour = tuple[int, int, int]


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size * SCALE)


class Canvas:
    """A white image addressed in output pixels, drawn at SCALE times their resolution."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.image = Image.new("RGB", (width * SCALE, height * SCALE), WHITE)
        self.draw = ImageDraw.Draw(self.image)

    def text(self, xy: Point, text: str, size: int, fill: Colour, anchor: str = "la") -> None:
        self.draw.text(scaled(xy), text, fill=fill, font=font(size), anchor=anchor)

    def text_width(self, text: str, size: int) -> float:
        return font(size).getlength(text) / SCALE

    def line(self, points: Sequence[Point], fill: Colour, width: float) -> None:
        self.draw.line(
            [scaled(p) for p in points], fill=fill, width=round(width * SCALE), joint="curve"
        )

    def box(self, left: float, top: float, right: float, bottom: float, fill: Colour) -> None:
        """A rectangle snapped to whole output pixels, so 1 px rules stay crisp and exact."""
        x0, y0 = math.floor(left + 0.5), math.floor(top + 0.5)
        x1, y1 = max(x0 + 1, math.floor(right + 0.5)), max(y0 + 1, math.floor(bottom + 0.5))
        self.draw.rectangle([x0 * SCALE, y0 * SCALE, x1 * SCALE - 1, y1 * SCALE - 1], fill=fill)

    def dot(self, xy: Point, radius: float, fill: Colour, ring: float = 0) -> None:
        # the white ring keeps a dot apart from the lines that cross it
        x, y = scaled(xy)
        outer, inner = (radius + ring) * SCALE, radius * SCALE
        if ring:
            self.draw.ellipse([x - outer, y - outer, x + outer, y + outer], fill=WHITE)
        self.draw.ellipse([x - inner, y - inner, x + inner, y + inner], fill=fill)

    def bar(
        self, xy: Point, solid: float, hatched: float, height: float, fill: Colour = ACCENT
    ) -> None:
        """A rounded bar: `solid` px of `fill`, then `hatched` px striped on light accent."""
        w, h = round((solid + hatched) * SCALE), round(height * SCALE)
        if w <= 0:
            return
        bar = Image.new("RGB", (w, h), fill)
        draw = ImageDraw.Draw(bar)
        if hatched > 0:
            split = round(solid * SCALE)
            draw.rectangle([split, 0, w, h], fill=ACCENT_LIGHT)
            for x in range(split - h, w, HATCH_EVERY_PX * SCALE):
                draw.line([(x, h), (x + h, 0)], fill=ACCENT, width=round(1.5 * SCALE))
        mask = Image.new("L", (w, h), 0)
        radius = min(BAR_RADIUS * SCALE, w // 2, h // 2)
        ImageDraw.Draw(mask).rounded_rectangle([0, 0, w - 1, h - 1], radius=radius, fill=255)
        self.image.paste(bar, scaled(xy), mask)

    def finish(self) -> Image.Image:
        return self.image.resize((self.width, self.height), Image.Resampling.LANCZOS)


def scaled(xy: Point) -> tuple[int, int]:
    return round(xy[0] * SCALE), round(xy[1] * SCALE)


def check_width(width: int) -> None:
    if width < MIN_WIDTH_PX:
        raise ValueError(f"charts are at least {MIN_WIDTH_PX} px wide, not {width}")


def shorten(canvas: Canvas, text: str, size: int, max_width: float) -> str:
    """The text, or its start and end around an ellipsis: paths differ most at their ends."""
    if canvas.text_width(text, size) <= max_width:
        return text
    low, high = 0, len(text)  # characters kept; `low` always fits
    while low < high:
        mid = (low + high + 1) // 2
        if canvas.text_width(middle_ellipsis(text, mid), size) <= max_width:
            low = mid
        else:
            high = mid - 1
    return middle_ellipsis(text, low)


def shorten_left(canvas: Canvas, text: str, size: int, max_width: float) -> str:
    """The text, or "…" and as much of its end as fits: a page's last segments say the most."""
    if canvas.text_width(text, size) <= max_width:
        return text
    low, high = 0, len(text)  # characters kept from the end; `low` always fits
    while low < high:
        mid = (low + high + 1) // 2
        if canvas.text_width("…" + text[len(text) - mid :], size) <= max_width:
            low = mid
        else:
            high = mid - 1
    return "…" + text[len(text) - low :] if low else ""


def days_text(first: str, last: str, time_zone: str) -> str:
    """ "2026-11-25 to 2026-12-01 (UTC)", or one day alone."""
    days = first if first == last else f"{first} to {last}"
    return f"{days} ({time_zone})"


def middle_ellipsis(text: str, keep: int) -> str:
    head = (keep + 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - head) :]


def dashed(canvas: Canvas, points: Sequence[Point], fill: Colour, width: float) -> None:
    """A polyline of dashes whose rhythm carries on across its corners."""
    period, travelled = DASH_PX + DASH_GAP_PX, 0.0
    for start, end in pairwise(points):
        length, at = math.dist(start, end), 0.0
        while at < length:
            phase = (travelled + at) % period
            stretch = min(DASH_PX - phase if phase < DASH_PX else period - phase, length - at)
            if phase < DASH_PX:
                dash = (
                    between(start, end, at / length),
                    between(start, end, (at + stretch) / length),
                )
                canvas.line(dash, fill, width)
            at += stretch
        travelled += length


def between(start: Point, end: Point, share: float) -> Point:
    return start[0] + (end[0] - start[0]) * share, start[1] + (end[1] - start[1]) * share


def png_bytes(image: Image.Image) -> bytes:
    """The image as an optimized PNG; a chart's as a 256-colour palette PNG.

    A chart has a few flat colours and a thousand or two antialiasing shades: median cut gives
    each big flat area its own entry, so those colours stay exact (the tests check it), and the
    PNG gets about 2.5x smaller for e-mail. Anything with more colours than a chart (a photo, a
    screenshot) is kept lossless."""
    if image.mode == "RGB" and image.getcolors(PALETTE_MAX_SOURCE_COLOURS) is not None:
        image = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
