"""Click density grid -> PNG overlay: Gaussian kernel density, a perceptual colour ramp scaled to
a high percentile (so neither a tight cluster nor a diffuse one vanishes), faded where few clicks
stand behind the colour, composited over the page, with a legend that says what it shows."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageChops, ImageDraw, ImageFont

from heatmap.grid import GRID_COLUMNS, ROW_PX

KERNEL_PX = 40  # the kernel's full width at half maximum, in CSS pixels
TAIL_ROWS = 4  # grid rows drawn below the lowest click: 64 px, past 3 sigma of the kernel
SCALE_PERCENTILE = 99.5  # the colour ramp tops out here, not at the single hottest cell
MIN_SUPPORT_CLICKS = 3.0  # colour backed by fewer clicks than this is faded
OPACITY = 0.8
HEAT_LEVELS = 16  # colour bands of the heat layer
FADE_LEVELS = 4  # opacity steps between MIN_FADE (thin support) and full
MIN_FADE = 0.3
LEGEND_PX = 64
BAND_WIDTHS_PX = {"mobile": 390, "tablet": 820, "desktop": 1280}
# Bounds of one render, whatever is stored: the page is drawn at most this deep (the tallest
# stored picture too), and with at most MAX_DRAWN_PIXELS page pixels, before and after scaling
# to the asked width (about 300 MB of memory at the peak). Deeper data is cut and counted.
MAX_DRAWN_HEIGHT_PX = 20_000
MAX_DRAWN_PIXELS = 1280 * MAX_DRAWN_HEIGHT_PX

# transparent -> blue -> green -> yellow -> red; alpha climbs with heat
STOPS = (
    (0.00, (0, 0, 255, 0)),
    (0.10, (0, 64, 255, 120)),
    (0.40, (0, 220, 80, 190)),
    (0.70, (255, 230, 0, 220)),
    (1.00, (230, 20, 20, 240)),
)

FloatGrid = npt.NDArray[np.float64]
ByteGrid = npt.NDArray[np.uint8]


def colour_ramp(
    stops: tuple[tuple[float, tuple[int, int, int, int]], ...] = STOPS,
) -> npt.NDArray[np.uint8]:
    """256 RGBA entries interpolated between the stops; entry 0 fully transparent."""
    positions = np.array([p for p, _ in stops])
    colours = np.array([c for _, c in stops], dtype=np.float64)
    steps = np.linspace(0.0, 1.0, 256)
    ramp = np.stack([np.interp(steps, positions, colours[:, c]) for c in range(4)], axis=1)
    ramp[:, 3] *= OPACITY
    ramp[0] = 0
    return np.rint(ramp).astype(np.uint8)


RAMP = colour_ramp()


def gaussian_kernel(sigma: float) -> FloatGrid:
    radius = max(1, math.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel: FloatGrid = np.exp(-0.5 * (offsets / max(sigma, 1e-6)) ** 2)
    kernel /= kernel.sum()
    return kernel


def blur(grid: FloatGrid, sigma_rows: float, sigma_columns: float) -> FloatGrid:
    """Separable Gaussian blur, zero outside the grid."""
    out = grid
    for axis, sigma in ((0, sigma_rows), (1, sigma_columns)):
        kernel = gaussian_kernel(sigma)
        pad = [(0, 0), (0, 0)]
        pad[axis] = (len(kernel) // 2, len(kernel) // 2)
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(out, pad), len(kernel), axis=axis)
        out = np.asarray(windows @ kernel, dtype=np.float64)
    return out


def scale_heat(density: FloatGrid, mode: str = "sqrt") -> FloatGrid:
    """0..1, with the SCALE_PERCENTILE of the non-zero density at 1."""
    hot = density[density > 0]
    if hot.size == 0:
        return np.zeros_like(density)
    top = _percentile(hot, SCALE_PERCENTILE) or float(hot.max())
    share = np.clip(density / top, 0.0, 1.0)
    if mode == "sqrt":
        return np.sqrt(share)
    if mode == "log":
        return np.log1p(share * 99.0) / math.log(100.0)
    if mode == "linear":
        return share
    raise ValueError(f"scale must be sqrt, log or linear, not {mode!r}")


def _percentile(values: FloatGrid, percent: float) -> float:
    """np.percentile's linear interpolation by a partial sort: a fresh process pays several
    milliseconds for np.percentile's first call."""
    position = (values.size - 1) * percent / 100
    low = int(position)
    high = min(low + 1, values.size - 1)
    below, above = np.partition(values, [low, high])[[low, high]]
    return float(below + (above - below) * (position - low))


def layer_palette() -> npt.NDArray[np.uint8]:
    """RGBA of every (heat level, fade level) pair, index heat * FADE_LEVELS + fade."""
    heat = np.rint(np.arange(HEAT_LEVELS) * 255 / (HEAT_LEVELS - 1)).astype(np.intp)
    fade = np.linspace(MIN_FADE, 1.0, FADE_LEVELS)
    palette = RAMP[heat].astype(np.float64)[:, None, :].repeat(FADE_LEVELS, axis=1)
    palette[..., 3] *= fade[None, :]
    return np.rint(palette).astype(np.uint8).reshape(-1, 4)


PALETTE = layer_palette()


def heat_layer(grid: FloatGrid, size: tuple[int, int], mode: str = "sqrt") -> Image.Image:
    """The RGBA heat layer at `size` (page pixels), faded where support is thin.

    Heat and fade are upscaled as single channels, then looked up in a palette of
    HEAT_LEVELS x FADE_LEVELS colours: contour bands a designer reads as easily as a smooth
    ramp, a PNG 2-3x smaller and faster to encode, and 3x less work than resizing RGBA."""
    sigma_px = KERNEL_PX / 2.355  # FWHM -> sigma
    sigma_rows, sigma_columns = sigma_px / ROW_PX, sigma_px / (size[0] / GRID_COLUMNS)
    density = blur(grid, sigma_rows, sigma_columns)
    heat = scale_heat(density, mode)
    # clicks within the kernel's footprint that back each cell's colour
    support = density * 2 * math.pi * sigma_rows * sigma_columns
    fade = (np.clip(support / MIN_SUPPORT_CLICKS, MIN_FADE, 1.0) - MIN_FADE) / (1 - MIN_FADE)
    layer = palette_index(_bytes(heat), _bytes(fade), size)
    layer.putpalette(PALETTE.tobytes(), rawmode="RGBA")  # L -> P
    return layer.convert("RGBA")


def palette_index(
    heat: ByteGrid, fade: ByteGrid, size: tuple[int, int], shortcut: bool = True
) -> Image.Image:
    """heat level * FADE_LEVELS + fade level of every page pixel, from the channels upscaled.

    Where all that shows has one fade level (a map with plenty of clicks), the fade channel is
    not upscaled at all. The colours are the same: an upscaled bilinear pixel lies between its
    four cells, and a pixel whose heat level is 0 is transparent whatever its fade. (Shrinking
    reads more cells per pixel, so it takes the full path.)"""
    enlarged = size[0] >= heat.shape[1] and size[1] >= heat.shape[0]
    fade_level = _one_fade_level(heat, fade) if shortcut and enlarged else None
    if fade_level is not None:
        lut = [level + fade_level for level in HEAT_INDEX_LUT]
        return _upscaled(heat, size).point(lut)
    return ImageChops.add(
        _upscaled(heat, size).point(HEAT_INDEX_LUT), _upscaled(fade, size).point(FADE_INDEX_LUT)
    )


def _one_fade_level(heat: ByteGrid, fade: ByteGrid) -> int | None:
    """The fade level of every cell within one cell of a cell with colour, if it is one."""
    coloured = np.pad(heat >= 256 // HEAT_LEVELS, 1)
    near = np.zeros_like(heat, dtype=bool)
    for dy in range(3):
        for dx in range(3):
            near |= coloured[dy : dy + heat.shape[0], dx : dx + heat.shape[1]]
    levels = np.unique(np.asarray(FADE_INDEX_LUT, dtype=np.uint8)[fade[near]])
    return int(levels[0]) if levels.size == 1 else 0 if levels.size == 0 else None


def _bytes(values: FloatGrid) -> ByteGrid:
    return np.rint(values * 255).astype(np.uint8)


def _upscaled(values: ByteGrid, size: tuple[int, int]) -> Image.Image:
    return Image.fromarray(values, "L").resize(size, Image.Resampling.BILINEAR)


# 0..255 -> its level's share of the palette index (Pillow applies them without NumPy copies)
HEAT_INDEX_LUT = [(v * HEAT_LEVELS >> 8) * FADE_LEVELS for v in range(256)]
FADE_INDEX_LUT = [v * FADE_LEVELS >> 8 for v in range(256)]


@dataclass(frozen=True)
class Legend:
    page: str
    band: str
    period: str
    clicks: int
    views: int
    kind: str = "click"
    below: int = 0  # clicks (page views, on a scroll map) below the drawn height: cut off


def page_width(background: Image.Image | None, band: str) -> int:
    """The width the page is drawn at: its picture's, or the band's."""
    return background.width if background else BAND_WIDTHS_PX.get(band, 1280)


def drawn_height_px(width: int, scaled_to: int | None = None) -> int:
    """How deep a page `width` px wide is drawn, scaled to `scaled_to` px after: within
    MAX_DRAWN_HEIGHT_PX and MAX_DRAWN_PIXELS at both widths."""
    out = max(width, 1)
    limits = [MAX_DRAWN_HEIGHT_PX, MAX_DRAWN_PIXELS // out]
    if scaled_to and scaled_to > out:
        limits.append(MAX_DRAWN_PIXELS * out // scaled_to**2)
    return max(ROW_PX, min(limits))


def backdrop(width: int, height: int, first: int = 0) -> Image.Image:
    """A neutral page with a pixel ruler, for when there is no screenshot: page rows `first` to
    `first + height` (below a screenshot that is too short, `first` is where it ends)."""
    page = Image.new("RGB", (width, height), (246, 246, 244))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=11)
    for y in range(-(-first // 100) * 100, first + height, 100):
        line = y - first
        draw.line([(0, line), (width, line)], fill=(228, 228, 224) if y % 500 else (205, 205, 200))
        draw.text((4, line + 2), f"{y} px", fill=(150, 150, 145), font=font)
    for x in range(0, width, 100):
        draw.line([(x, 0), (x, height)], fill=(236, 236, 232))
    return page


def render_heatmap(
    grid: FloatGrid,
    legend: Legend,
    background: Image.Image | None = None,
    width: int | None = None,
    mode: str = "sqrt",
) -> Image.Image:
    """The overlay over the background (or a ruler backdrop), with the legend strip on top;
    rows below the drawn height are cut, and the legend counts their clicks."""
    rows = drawn_height_px(page_width(background, legend.band), width) // ROW_PX
    grid = with_tail(grid)
    if grid.shape[0] > rows:
        legend = replace(legend, below=legend.below + round(float(grid[rows:].sum())))
        grid = grid[:rows]
    out = canvas(background, legend.band, grid.shape[0] * ROW_PX, width)
    layer = heat_layer(grid, (out.width, grid.shape[0] * ROW_PX), mode)
    out.paste(layer, (0, LEGEND_PX), layer)  # blends by the layer's alpha, straight onto RGB
    return finish(out, legend, width)


def with_tail(grid: FloatGrid) -> FloatGrid:
    """The grid with TAIL_ROWS of room below its lowest click, so the blur is not cut off."""
    busy = np.flatnonzero(grid.any(axis=1))
    needed = int(busy[-1]) + 1 + TAIL_ROWS if busy.size else 0
    return np.pad(grid, ((0, max(0, needed - grid.shape[0])), (0, 0)))


def canvas(
    background: Image.Image | None, band: str, content_px: int, scaled_to: int | None = None
) -> Image.Image:
    """The output image: the legend strip (LEGEND_PX, blank), then the page to draw on at
    y + LEGEND_PX: the screenshot, extended with the ruler backdrop where the data goes deeper
    than it, or the backdrop at the band's width; no deeper than drawn_height_px. Built with
    one full-size copy: a fresh process pays for every page-sized allocation."""
    width = page_width(background, band)
    height = max(background.height if background else 0, content_px, 200)
    height = min(height, drawn_height_px(width, scaled_to))
    if background:
        page = background if background.mode == "RGB" else background.convert("RGB")
        out = page.crop((0, -LEGEND_PX, width, height))  # black outside the screenshot
        ends = background.height
    else:
        out, ends = Image.new("RGB", (width, LEGEND_PX + height)), 0
    out.paste((255, 255, 255), (0, 0, width, LEGEND_PX))
    if ends < height:
        out.paste(backdrop(width, height - ends, first=ends), (0, LEGEND_PX + ends))
    return out


def finish(out: Image.Image, legend: Legend, width: int | None) -> Image.Image:
    """Scaled to the asked width, with the legend drawn in its strip."""
    if width and width != out.width:
        page = out.crop((0, LEGEND_PX, out.width, out.height))
        page = page.resize(
            (width, round(page.height * width / page.width)), Image.Resampling.LANCZOS
        )
        out = page.crop((0, -LEGEND_PX, page.width, page.height))
        out.paste((255, 255, 255), (0, 0, width, LEGEND_PX))
    draw_legend(out, legend)
    return out


def draw_legend(out: Image.Image, legend: Legend) -> None:
    """The legend strip: what the map shows, its counts, and the colour scale, which a narrow
    map keeps too (smaller, beside its second and third lines)."""
    draw = ImageDraw.Draw(out)
    narrow = out.width < NARROW_LEGEND_PX
    bar_w = max(60, min(100, out.width // 4)) if narrow else 160
    bar_x, bar_y = out.width - bar_w - 12, (26 if narrow else 14)
    for y, text, size, colour in _legend_lines(legend, out.width):
        font = ImageFont.load_default(size=size)
        room = (out.width if narrow and y < bar_y else bar_x) - 22
        draw.text((10, y), _fitted(text, font, room), fill=colour, font=font)
    small = ImageFont.load_default(size=11 if narrow else 12)
    scroll = legend.kind == "scroll"
    for i in range(bar_w):
        colour = RAMP[min(255, 1 + i * 254 // (bar_w - 1))]
        draw.line(
            [(bar_x + i, bar_y), (bar_x + i, bar_y + 12)], fill=tuple(int(c) for c in colour[:3])
        )
    low, high = ("0 %", "100 %") if scroll else ("fewer", "more")
    draw.text((bar_x, bar_y + 15), low, fill=(90, 90, 90), font=small)
    right = bar_x + bar_w - small.getlength(high)
    draw.text((right, bar_y + 15), high, fill=(90, 90, 90), font=small)
    draw.line([(0, LEGEND_PX - 1), (out.width, LEGEND_PX - 1)], fill=(200, 200, 200))


def _fitted(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, room: float) -> str:
    """The text cut with a trailing '…' to fit `room` px."""
    if font.getlength(text) <= room:
        return text
    while text and font.getlength(text + "…") > room:
        text = text[:-1]
    return text + "…"


NARROW_LEGEND_PX = 640  # below this width the legend takes three short lines


def _legend_lines(legend: Legend, width: int) -> list[tuple[int, str, int, tuple[int, int, int]]]:
    """(y, text, font size, colour) of each line of the legend strip."""
    dark, grey, red = (30, 30, 30), (90, 90, 90), (170, 20, 20)
    counts = f"{legend.clicks:,} {legend.kind} events  ·  {legend.views:,} page views"
    period = legend.period.replace(" ", "  ")  # the font's spaces are 2 px: dates ran together
    cut = cut_note(legend)
    if width < NARROW_LEGEND_PX:  # a phone-width map: short lines that fit
        second = (cut, red) if cut else (f"{legend.kind} map  ·  {period}", grey)
        return [
            (6, f"{legend.page}  ·  {legend.band}", 13, dark),
            (25, second[0], 11, second[1]),
            (42, counts, 11, grey),
        ]
    title = f"{legend.page}  ·  {legend.band}  ·  {legend.kind} map  ·  {period}"
    if cut:  # says more than the colour note, which it replaces
        return [(8, title, 15, dark), (32, f"{counts}  ·  {cut}", 12, red)]
    note = (
        "colour: share of page views that scrolled at least this far"
        if legend.kind == "scroll"
        else "faded where fewer than 3 clicks back the colour"
    )
    return [(8, title, 15, dark), (32, f"{counts}  ·  {note}", 12, grey)]


def cut_note(legend: Legend) -> str:
    """What the legend says when the map was cut at the drawn height, or ''."""
    if not legend.below:
        return ""
    if legend.kind == "scroll":
        return f"{legend.below:,} page views scrolled below the drawn height"
    noun = legend.kind if legend.kind.endswith("click") else f"{legend.kind} click"
    return f"{legend.below:,} {noun}s below the drawn height"


def save_png(image: Image.Image, path: str, compress_level: int = 6) -> None:
    image.save(path, format="PNG", compress_level=compress_level)


def draw_note(out: Image.Image, note: str) -> None:
    """`note` in a box at the top of the page area, where a map says why it has no picture."""
    font = ImageFont.load_default(size=12)
    lines = textwrap.wrap(note, width=max(20, (out.width - 36) // 7))[:4]
    height = 8 + 16 * len(lines)
    box = (8, LEGEND_PX + 24, out.width - 8, LEGEND_PX + 24 + height)
    ImageDraw.Draw(out).rectangle(box, fill=(255, 255, 255), outline=(190, 190, 185))
    for i, line in enumerate(lines):
        ImageDraw.Draw(out).text((16, box[1] + 4 + 16 * i), line, fill=(90, 90, 90), font=font)
