"""Cell geometry: 100 columns of 1 % of the width, 16 px rows."""

from __future__ import annotations

import numpy as np
import pytest

from heatmap.grid import GRID_COLUMNS, MAX_ROWS, cells_of, grid_from_cells, x_extent


def test_points_land_in_the_cells_of_their_share_of_the_width_and_their_row() -> None:
    cells = cells_of(
        [0, 12.79, 12.8, 1279.9, 640, 100],
        [0, 15.9, 16, 31, 1600, 20],
        [1280, 1280, 1280, 1280, 1280, 400],
    )
    assert cells.tolist() == [0, 0, 1 * 100 + 1, 1 * 100 + 99, 100 * 100 + 50, 1 * 100 + 25]


def test_points_outside_the_page_are_clamped_and_zero_width_is_column_zero() -> None:
    cells = cells_of([-5, 5000, 10], [-1, 2e7, 10], [1280, 1280, 0])
    assert cells.tolist() == [0, (MAX_ROWS - 1) * GRID_COLUMNS + 99, 0]


def test_grid_from_cells_sums_counts_into_rows_and_columns() -> None:
    grid = grid_from_cells([0, 0, 101, 250], [1, 2, 5, 7])
    assert grid.shape == (3, 100)
    assert (grid[0, 0], grid[1, 1], grid[2, 50], grid.sum()) == (3, 5, 7, 15)
    assert grid_from_cells([], []).shape == (1, 100)
    assert np.array_equal(grid_from_cells([5], [1], rows=2)[0, :6], [0, 0, 0, 0, 0, 1])


@pytest.mark.parametrize(
    ("vw", "dw", "fixed", "extent"),
    [
        (1280, 1265, False, 1280),  # scrollWidth leaves the scrollbar out: the viewport's
        (1280, 2560, False, 2560),  # the page scrolls sideways: the document's
        (1280, 2560, True, 1280),  # a fixed element: viewport coordinates
        (375, 0, False, 375),  # an older snippet sent no document width
    ],
)
def test_x_is_a_share_of_the_document_width_or_for_fixed_elements_the_viewport_s(
    vw: int, dw: float, fixed: bool, extent: float
) -> None:
    assert x_extent(vw, dw, fixed) == extent
