"""Click density grids and PNG overlays, built on collector's schema and store."""
