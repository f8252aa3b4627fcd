"""Sweep thumbnails: decoded at thumbnail size from the cached file, and a cache that stays bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage, QImageReader

from moments_desktop.ui.sweep_thumbnails import THUMBNAIL_SIZE, ThumbnailCache, ThumbnailError, decode_thumbnail

REWARDS = Path(__file__).resolve().parents[2] / "resources" / "rewards"

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("name", ["e-reader.jpg", "gift-card.png"])
def test_a_reward_image_is_decoded_at_thumbnail_size(qapp, name):
    path = REWARDS / name
    native = QImageReader(str(path)).size()
    assert native.width() > THUMBNAIL_SIZE.width()  # the shipped images are larger than a thumbnail
    image = decode_thumbnail(path)
    assert not image.isNull()
    assert image.width() <= THUMBNAIL_SIZE.width() and image.height() <= THUMBNAIL_SIZE.height()
    assert max(image.width(), image.height()) == THUMBNAIL_SIZE.width()  # fitted, not shrunk further
    # the aspect ratio is kept (to a pixel of rounding)
    assert abs(image.width() / image.height() - native.width() / native.height()) < 0.05


def test_a_file_that_is_no_image_is_a_reason_not_a_crash(qapp, tmp_path):
    bogus = tmp_path / "not-an-image.png"
    bogus.write_bytes(b"<html>gateway error</html>")
    with pytest.raises(ThumbnailError, match="could not be decoded"):
        decode_thumbnail(bogus)


def test_the_cache_keeps_the_most_recently_used_up_to_its_limit(qapp):
    cache = ThumbnailCache(limit=3)
    for n in range(3):
        cache.put(f"u{n}", QImage(4, 4, QImage.Format.Format_ARGB32))
    assert cache.get("u0") is not None  # used: now the newest
    cache.put("u3", "why there is none")
    assert len(cache) == 3
    assert cache.get("u1") is None  # the least recently used went
    assert cache.get("u0") is not None and cache.get("u3") == "why there is none"
