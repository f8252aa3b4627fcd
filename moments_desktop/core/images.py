"""Reward images without Qt: the capped, deadlined GET of a rewardImageUrl (shared with ui/image_loader.py,
which decodes it) and an on-disk cache, so a sweep of 1,000 cards keeps file names in memory, not pictures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import MomentsError


class ImageFetchError(MomentsError):
    """Why a reward image could not be had, in words for a placeholder."""

    title = "The image could not be shown"


@dataclass(frozen=True)
class CachedImage:
    url: str
    path: Path  # the cached bytes, as downloaded
    content_type: str
    size: int


class ImageCache:
    """Downloaded images under one folder (paths.cache_dir() / "images"), by a digest of the URL; bounded
    in total size, oldest used first out. Concurrent requests for one URL share one download."""

    def __init__(self, folder: Path, *, max_total_bytes: int = 256 * 1024 * 1024):
        raise NotImplementedError
