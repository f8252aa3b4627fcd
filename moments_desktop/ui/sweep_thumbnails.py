"""A sweep card's thumbnail: the cached image file decoded at thumbnail size, and a small cache of them.

Decoding at the size shown (QImageReader.setScaledSize) is what keeps a worker thread's decode from freezing
the window (a full-size decode holds the GIL: see design.md) and what keeps 1,000 cards in a few megabytes:
the grid holds small QImages by URL, a bounded number of them, and asks again for one it dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader

THUMBNAIL_SIZE = QSize(64, 64)
MAX_THUMBNAILS = 256  # distinct image URLs kept decoded; a campaign has far fewer


class ThumbnailError(Exception):
    """Why a thumbnail could not be made, in words for the card's tooltip."""


def decode_thumbnail(path: Path | str, size: QSize = THUMBNAIL_SIZE) -> QImage:
    """Blocking (run it on a worker thread): the image at ``path`` decoded to fit ``size``, aspect kept."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    native = reader.size()
    if native.isValid() and (native.width() > size.width() or native.height() > size.height()):
        reader.setScaledSize(native.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ThumbnailError(f"The image could not be decoded ({reader.errorString()}).")
    if image.width() > size.width() or image.height() > size.height():  # a format that cannot scale on read
        image = image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio)
    return image


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
