"""A sweep card's thumbnail: the cached image file decoded at thumbnail size, and a small cache of them.

Decoding at the size shown (QImageReader.setScaledSize) is what keeps a worker thread's decode from freezing
the window (a full-size decode holds the GIL: see design.md) and what keeps 1,000 cards in a few megabytes:
the grid holds small QImages by URL, a bounded number of them, and asks again for one it dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from .image_decode import ImageDecodeError, decode_to_fit

THUMBNAIL_SIZE = QSize(64, 64)
MAX_THUMBNAILS = 256  # distinct image URLs kept decoded; a campaign has far fewer


class ThumbnailError(Exception):
    """Why a thumbnail could not be made, in words for the card's tooltip."""


def decode_thumbnail(path: Path | str, size: QSize = THUMBNAIL_SIZE) -> QImage:
    """Blocking (run it on a worker thread): the image at ``path`` decoded to fit ``size``, aspect kept
    (the one scaled decoder, ui/image_decode.py, shared with the reward image)."""
    try:
        return decode_to_fit(path, size)
    except ImageDecodeError as exc:
        raise ThumbnailError(f"The image could not be decoded ({exc.reason}).") from None


class ThumbnailCache:
    """URL → thumbnail (QImage) or the reason there is none (str); the least recently used go first."""

    def __init__(self, limit: int = MAX_THUMBNAILS):
        self.limit = limit
        self._items: OrderedDict[str, QImage | str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, url: str) -> QImage | str | None:
        item = self._items.get(url)
        if item is not None:
            self._items.move_to_end(url)
        return item

    def put(self, url: str, item: QImage | str) -> None:
        self._items[url] = item
        self._items.move_to_end(url)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
