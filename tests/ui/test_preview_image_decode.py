"""The reward image decoded at the size it is shown, off the UI thread, by a decoder that lets the UI run:
a huge JPEG comes back no larger than asked, its aspect kept and its picture right; an image that declares
more pixels than we decode is refused before decoding; the same decoder makes the sweep's thumbnails."""

from __future__ import annotations

import asyncio
import json
import struct
import threading
import zlib
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import QBuffer, QIODevice, QRect, QSize
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

import moments_desktop.ui.image_loader as image_loader
from moments_desktop.core.images import MAX_IMAGE_PIXELS
from moments_desktop.sandbox.catalog import default_catalog_path, parse_catalog
from moments_desktop.sandbox.server import SandboxServer
from moments_desktop.ui.image_decode import ImageTooLargeError, decode_to_fit, display_bound
from moments_desktop.ui.image_loader import ImageLoadError, fetch_image
from moments_desktop.ui.preview_panel import IMAGE_HEIGHT, IMAGE_WIDTH
from moments_desktop.ui.sweep_thumbnails import decode_thumbnail

pytestmark = pytest.mark.gui

RED, GREEN, BLUE, WHITE = QColor(220, 30, 30), QColor(30, 200, 40), QColor(30, 40, 220), QColor(240, 240, 240)


def quadrants(width: int, height: int, fmt: str) -> bytes:
    """Red, green / blue, white quadrants, encoded as ``fmt``."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    for n, colour in enumerate((RED, GREEN, BLUE, WHITE)):
        painter.fillRect(QRect((n % 2) * width // 2, (n // 2) * height // 2, width // 2, height // 2), colour)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, fmt, 90)
    return bytes(buffer.data())


def close_to(actual: QColor, expected: QColor, slack: int = 16) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual.getRgb()[:3], expected.getRgb()[:3], strict=True))


def assert_quadrants(image: QImage) -> None:
    w, h = image.width(), image.height()
    assert close_to(image.pixelColor(w // 4, h // 4), RED)
    assert close_to(image.pixelColor(3 * w // 4, h // 4), GREEN)
    assert close_to(image.pixelColor(w // 4, 3 * h // 4), BLUE)
    assert close_to(image.pixelColor(3 * w // 4, 3 * h // 4), WHITE)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header says ``width``×``height`` (and whose data is a few bytes): a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@contextmanager
def image_server(folder: Path, name: str):
    """The real sandbox on 127.0.0.1, every reward's image being ``folder/name``; yields the image's URL."""
    data = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    for reward in data["rewards"]:
        reward["image"] = name
    catalog = parse_catalog(data, image_dirs=[folder])
    with SandboxServer(catalog=catalog) as server:
        yield f"{server.base_url}/images/{name}"


def test_a_huge_jpeg_is_decoded_no_larger_than_asked_aspect_kept_picture_right(qapp):
    image = decode_to_fit(quadrants(4000, 3000, "JPEG"), QSize(400, 400))
    assert (image.width(), image.height()) == (400, 300)
    assert_quadrants(image)


def test_an_image_smaller_than_asked_is_not_enlarged(qapp):
    image = decode_to_fit(quadrants(120, 80, "PNG"), QSize(400, 400))
    assert (image.width(), image.height()) == (120, 80)
    assert_quadrants(image)


def test_the_loader_fetches_and_decodes_to_fit_off_the_ui_thread(qapp, tmp_path, monkeypatch):
    (tmp_path / "huge.jpg").write_bytes(quadrants(4000, 3000, "JPEG"))
    threads = []
    real = image_loader.decode_to_fit

    def watched(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(image_loader, "decode_to_fit", watched)

    async def run(url):
        async with httpx.AsyncClient() as http:
            return await fetch_image(http, url, fit=QSize(1000, 500))

    with image_server(tmp_path, "huge.jpg") as url:
        image = asyncio.run(run(url))
    assert (image.width(), image.height()) == (666, 500)  # 4000×3000 fitted in 1000×500 (Qt rounds down)
    assert_quadrants(image)
    assert threads and all(t is not threading.main_thread() for t in threads)


def test_by_default_the_image_is_bounded_by_the_screen_in_device_pixels(qapp, tmp_path):
    bound = display_bound()
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio()
    assert bound.width() >= round(screen.size().width() * ratio) >= IMAGE_WIDTH
    assert bound.height() >= round(screen.size().height() * ratio) >= IMAGE_HEIGHT
    (tmp_path / "huge.jpg").write_bytes(quadrants(8000, 6000, "JPEG"))

    async def run(url):
        async with httpx.AsyncClient() as http:
            return await fetch_image(http, url)

    with image_server(tmp_path, "huge.jpg") as url:
        image = asyncio.run(run(url))
    assert image.width() <= bound.width() and image.height() <= bound.height()
    assert max(image.width() / bound.width(), image.height() / bound.height()) > 0.99  # fitted, not shrunk further
    assert abs(image.width() / image.height() - 4 / 3) < 0.01
    assert_quadrants(image)


def test_an_image_declaring_too_many_pixels_is_refused_before_decoding(qapp, tmp_path):
    side = int(MAX_IMAGE_PIXELS ** 0.5) + 100
    bomb = png_declaring(side, side)
    assert len(bomb) < 200
    with pytest.raises(ImageTooLargeError):
        decode_to_fit(bomb, QSize(400, 400))
    (tmp_path / "bomb.png").write_bytes(bomb)

    async def run(url):
        async with httpx.AsyncClient() as http:
            return await fetch_image(http, url)

    with image_server(tmp_path, "bomb.png") as url, pytest.raises(ImageLoadError, match="too large to show"):
        asyncio.run(run(url))


def test_data_that_is_no_image_still_says_so(qapp, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)

    async def run(url):
        async with httpx.AsyncClient() as http:
            return await fetch_image(http, url)

    with image_server(tmp_path, "broken.png") as url, pytest.raises(ImageLoadError, match="could not be decoded"):
        asyncio.run(run(url))


def test_thumbnails_share_the_decoder_and_its_checks(qapp, tmp_path):
    (tmp_path / "huge.jpg").write_bytes(quadrants(4000, 3000, "JPEG"))
    thumbnail = decode_thumbnail(tmp_path / "huge.jpg")
    assert (thumbnail.width(), thumbnail.height()) == (64, 48)
    assert_quadrants(thumbnail)
    (tmp_path / "bomb.png").write_bytes(png_declaring(20_000, 20_000))
    with pytest.raises(Exception, match="could not be decoded"):
        decode_thumbnail(tmp_path / "bomb.png")
