"""How imported photos are stored: the policy alone, without Pillow.

The settings hold a policy, and a headless `fieldapp sync` reads the settings; keeping
the policy apart from `fieldapp.photos` keeps Pillow out of a process that handles no photo.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhotoPolicy:
    """How imported photos are stored; IT can preset every value in the site config."""

    long_edge: int = 2560
    quality: int = 85
    keep_gps: bool = True
    thumbnail_edge: int = 320
    max_source_pixels: int = 80_000_000  # beyond any phone or camera; below Pillow's own bomb limit
    max_file_bytes: int = 80 * 1024 * 1024
