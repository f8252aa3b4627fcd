"""Fetch and decode a reward image: its own GET of rewardImageUrl, capped in size and type.

No Qt widgets here. The bytes are decoded into a QImage on a worker thread (QImage,
unlike QPixmap, may be created off the UI thread), by a decoder that lets the UI thread run meanwhile and
at no more pixels than the image is ever shown at (ui/image_decode.py); the caller turns it into a QPixmap.
"""

from __future__ import annotations

import asyncio

import httpx
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from moments_desktop.core.deadlines import Deadlines
from moments_desktop.core.images import IMAGE_TIMEOUT, MAX_IMAGE_BYTES, ImageFetchError, fetch_image_bytes

from .image_decode import ImageDecodeError, ImageTooLargeError, decode_to_fit, display_bound

__all__ = ["IMAGE_DEADLINE_S", "IMAGE_TIMEOUT", "MAX_IMAGE_BYTES", "ImageLoadError", "fetch_image"]

# For the whole download (the app's default; a profile may set its own, see Session.image_deadline):
# a server that drips a byte every few seconds never trips a read timeout.
IMAGE_DEADLINE_S = Deadlines().image


class ImageLoadError(Exception):
    """Why the image could not be shown, in words for the placeholder."""


async def fetch_image(http: httpx.AsyncClient, url: str, *, max_bytes: int = MAX_IMAGE_BYTES,
                      deadline: float = IMAGE_DEADLINE_S, fit: QSize | None = None) -> QImage:
    """The GET is core's (core/images.py: capped, typed, deadlined, the stale-pool retry); here it is decoded,
    off the UI thread, to fit inside ``fit`` (default: the largest screen in device pixels, the most any view
    draws it at), aspect kept, never enlarged. Call it on the UI thread's loop (the default reads the screens)."""
    bound = display_bound() if fit is None else QSize(fit)
    try:
        data, _content_type = await fetch_image_bytes(http, url, max_bytes=max_bytes, deadline=deadline)
    except ImageFetchError as exc:
        raise ImageLoadError(exc.detail) from None  # the plain reason, as the placeholder has always shown it
    try:
        return await asyncio.to_thread(decode_to_fit, data, bound)
    except ImageTooLargeError as exc:
        raise ImageLoadError(f"The image is too large to show ({exc.reason}).") from None
    except ImageDecodeError:
        raise ImageLoadError("The image data could not be decoded.") from None
