"""Fetch and decode a reward image: its own GET of rewardImageUrl, capped in size and type.

No Qt widgets here. The bytes are decoded into a QImage on a worker thread (QImage,
unlike QPixmap, may be created off the UI thread); the caller turns it into a QPixmap.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import httpx
from PySide6.QtGui import QImage

from moments_desktop.core.deadlines import Deadlines

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # per connect / read
# For the whole download (the app's default; a profile may set its own, see Session.image_deadline):
# a server that drips a byte every few seconds never trips a read timeout.
IMAGE_DEADLINE_S = Deadlines().image


class ImageLoadError(Exception):
    """Why the image could not be shown, in words for the placeholder."""


class _Attempt:
    """What one GET did on the wire (httpcore's trace events): whether it opened a connection of its own."""

    def __init__(self) -> None:
        self.connected = False

    async def trace(self, event: str, info: dict) -> None:
        if event.startswith("connection.connect_tcp."):
            self.connected = True


async def fetch_image(http: httpx.AsyncClient, url: str, *, max_bytes: int = MAX_IMAGE_BYTES,
                      deadline: float = IMAGE_DEADLINE_S) -> QImage:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageLoadError("The image address is not an http(s) URL.")
    try:
        async with asyncio.timeout(deadline):
            attempt = _Attempt()
            try:
                data = await _download(http, url, max_bytes, attempt)
            except httpx.RemoteProtocolError:
                # A pooled keep-alive connection the server had already closed: the request met the close
                # and no answer came. A GET is safe to send again, once, on a fresh connection. A failure
                # on a connection this GET opened itself is the server's answer, not a stale pool.
                if attempt.connected:
                    raise
                data = await _download(http, url, max_bytes, _Attempt())
    except (httpx.TimeoutException, TimeoutError):
        raise ImageLoadError(f"The image server did not answer in time (the image did not arrive within "
                             f"{deadline:g} s).") from None
    except httpx.HTTPError as exc:
        raise ImageLoadError(f"The image could not be downloaded ({type(exc).__name__}).") from None
    image = await asyncio.to_thread(QImage.fromData, bytes(data))
    if image.isNull():
        raise ImageLoadError("The image data could not be decoded.")
    return image


async def _download(http: httpx.AsyncClient, url: str, max_bytes: int, attempt: _Attempt) -> bytes:
    async with http.stream("GET", url, timeout=IMAGE_TIMEOUT, follow_redirects=True,
                           extensions={"trace": attempt.trace}) as response:
        if response.status_code != 200:
            raise ImageLoadError(f"The image server answered HTTP {response.status_code}.")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content_type.startswith("image/"):
            raise ImageLoadError(f"The address did not return an image ({content_type or 'no content type'}).")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ImageLoadError(f"The image is larger than {max_bytes // (1024 * 1024)} MiB.")
        data = bytearray()
        # aclosing: leaving the loop by raising must close the body's iterator now, not leave it
        # for the loop's shutdown to finalise (an async generator still pending).
        async with contextlib.aclosing(response.aiter_bytes()) as body_chunks:
            async for chunk in body_chunks:
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise ImageLoadError(f"The image is larger than {max_bytes // (1024 * 1024)} MiB.")
        return bytes(data)
