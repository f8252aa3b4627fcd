"""Decode an image at the size it is shown: the one decoder behind the reward image, the Message tab's images
and the sweep's thumbnails.

Why a QImageReader and not ``QImage.fromData``: in PySide6 6.11 ``QImage.fromData`` holds the GIL for the
whole decode (about 200 ms for a 4000×3000 JPEG here), so decoding it "on a worker thread" still freezes the
window; ``QImageReader.read()`` lets the UI thread run meanwhile (measured: the UI thread's longest pause
during the same decode on a worker thread is a few milliseconds). Decoding at the size shown
(``setScaledSize``; a JPEG is then decoded scaled by libjpeg itself) also keeps the work and the memory
small, and leaves the UI thread only a small image to turn into a pixmap.

Blocking: call these on a worker thread (a QImage, unlike a QPixmap, may be made off the UI thread).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QImageIOHandler, QImageReader

from moments_desktop.core.images import MAX_IMAGE_PIXELS

# When there is no screen to ask (no QGuiApplication yet): a bound that covers a 4K display.
FALLBACK_DISPLAY_BOUND = QSize(3840, 2400)


class ImageDecodeError(Exception):
    """Why the data is no image we show; ``reason`` is Qt's own words (may be empty)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ImageTooLargeError(ImageDecodeError):
    """The image says it has more than MAX_IMAGE_PIXELS pixels: refused before anything is decoded."""


def display_bound() -> QSize:
    """The most pixels an image of the app is ever drawn at: the largest screen, in device pixels (no view
    draws an image wider or taller than the screen it is on: the reward card is 380×214, the Message tab's
    and the presenter stage's frames draw at most their own width). Call on the UI thread."""
    width = height = 0
    for screen in QGuiApplication.screens() if QGuiApplication.instance() is not None else ():
        ratio = screen.devicePixelRatio()
        size = screen.size()
        width = max(width, round(size.width() * ratio))
        height = max(height, round(size.height() * ratio))
    if width <= 0 or height <= 0:
        return QSize(FALLBACK_DISPLAY_BOUND)
    return QSize(width, height)


def fitted(native: QSize, bound: QSize) -> QSize:
    """``native`` scaled down to fit inside ``bound`` with its aspect ratio kept; never scaled up."""
    if native.width() <= bound.width() and native.height() <= bound.height():
        return QSize(native)
    scaled = native.scaled(bound, Qt.AspectRatioMode.KeepAspectRatio)
    return QSize(max(1, scaled.width()), max(1, scaled.height()))


def decode_to_fit(source: bytes | Path | str, bound: QSize) -> QImage:
    """The image in ``source`` (its bytes, or a file's path) decoded to fit inside ``bound``, aspect kept,
    never enlarged. Raises ImageDecodeError when it cannot be decoded, or when it says it has more pixels
    than MAX_IMAGE_PIXELS (a small file that would decode into gigabytes: refused before decoding)."""
    buffer: QBuffer | None = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        buffer = QBuffer()
        buffer.setData(QByteArray(bytes(source)))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer)
    else:
        reader = QImageReader(str(source))
    try:
        reader.setAutoTransform(True)
        native = reader.size()  # from the header: nothing decoded yet
        if native.isValid():
            if native.width() * native.height() > MAX_IMAGE_PIXELS:
                raise ImageTooLargeError(f"it is {native.width()}×{native.height()} pixels, more than "
                                       f"{MAX_IMAGE_PIXELS // 1_000_000} million")
            turned = bool(reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90)
            shown = native.transposed() if turned else native  # an EXIF-rotated photo: fit what is shown
            wanted = fitted(shown, bound)
            if wanted != shown:
                # setScaledSize applies before the EXIF rotation: a quarter turn swaps the size asked for.
                reader.setScaledSize(wanted.transposed() if turned else wanted)
        image = reader.read()
        if image.isNull():
            raise ImageDecodeError(reader.errorString())
        if image.width() > bound.width() or image.height() > bound.height():
            # A format whose header gave no size: scaled after the fact, still on this thread.
            image = image.scaled(bound, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        return image
    finally:
        if buffer is not None:
            buffer.close()

