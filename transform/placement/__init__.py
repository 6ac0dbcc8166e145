"""Extracted grids → facts: tables cut into per-section grids, then cells placed on codebook codes."""
