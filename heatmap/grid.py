"""Cell geometry of the click density grids: 100 columns (1 % of the width each) by 16 px rows,
fine enough for the 40 px kernel the renderer draws with."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from collector.bounds import MAX_DOC_HEIGHT_PX

GRID_COLUMNS = 100
ROW_PX = 16
MAX_ROWS = MAX_DOC_HEIGHT_PX // ROW_PX  # ingest clamps y to this; older, deeper data folds in

IntArray = npt.NDArray[np.int64]


def cells_of(x: npt.ArrayLike, y: npt.ArrayLike, width: npt.ArrayLike) -> IntArray:
    """Cell index (row * GRID_COLUMNS + column) of each point; x as a share of `width`."""
    x, y, width = (np.asarray(a, dtype=np.float64) for a in (x, y, width))
    share = np.divide(x, width, out=np.zeros_like(x), where=width > 0)
    columns = np.clip(np.floor(share * GRID_COLUMNS), 0, GRID_COLUMNS - 1).astype(np.int64)
    rows = np.clip(np.floor(y / ROW_PX), 0, MAX_ROWS - 1).astype(np.int64)
    cells: IntArray = rows * GRID_COLUMNS + columns
    return cells


def x_extent(vw: float, dw: float, fixed: bool) -> float:
    """The width a click's x is a share of: the document's (never less than the viewport's:
    scrollWidth leaves the scrollbar out; 0 from older snippets), or the viewport's for a
    fixed element, whose x is in viewport coordinates."""
    return vw if fixed else max(vw, dw)


def grid_from_cells(
    cells: npt.ArrayLike, counts: npt.ArrayLike | None = None, rows: int | None = None
) -> npt.NDArray[np.float64]:
    """A rows x GRID_COLUMNS array of counts (one per cell listed, without `counts`); rows
    defaults to the last row with a count, and is at most MAX_ROWS: deeper cells count in the
    last row, as the clamp at ingest would have put them."""
    ids = np.asarray(cells, dtype=np.int64)
    weights = None if counts is None else np.asarray(counts, dtype=np.float64)
    if ids.size and ids.max() >= MAX_ROWS * GRID_COLUMNS:  # stored before the clamp
        ids = np.minimum(ids // GRID_COLUMNS, MAX_ROWS - 1) * GRID_COLUMNS + ids % GRID_COLUMNS
    if rows is None:
        rows = int(ids.max()) // GRID_COLUMNS + 1 if ids.size else 1
    rows = min(rows, MAX_ROWS)
    flat = np.bincount(ids, weights=weights, minlength=rows * GRID_COLUMNS).astype(np.float64)
    return flat[: rows * GRID_COLUMNS].reshape(rows, GRID_COLUMNS)
