"""core/images.py against the real sandbox's /images/ route: the image cache downloads a URL once (concurrent
callers share it), serves it from disk afterwards without a request, keeps its total size bounded (least
recently used out), caches no failure, and says plainly when its folder cannot be written; Session.sweep_image
end to end, into $MOMENTS_DESKTOP_HOME/cache/images."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from read_only_folder import make_unwritable
from session_helpers import run_session

from moments_desktop.core import paths
from moments_desktop.core.http import make_client
from moments_desktop.core.images import ImageCache, ImageFetchError, fetch_image_bytes
from moments_desktop.core.profiles import DEMO_PROFILE_ID
from moments_desktop.sandbox.catalog import load_default_catalog

COUNTED = 10_000
IMAGES = {r.image: r for r in load_default_catalog().rewards}


def image_requests(sandbox, seconds: float = 0):
    """How many image GETs reached the sandbox: a fault that changes nothing (or only delays) counts them."""
    sandbox.admin.add_fault("images", "latency", seconds=seconds, times=COUNTED)

    def reached() -> int:
        return sum(f["times"] - f["remaining"] for f in sandbox.admin.faults() if f["times"] == COUNTED)
    return reached


def url(sandbox, name: str) -> str:
    return f"{sandbox.base_url}/images/{name}"


def files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def run(scenario):
    async def main():
        async with make_client() as http:
            return await scenario(http)
    return asyncio.run(main())


def test_a_url_is_downloaded_once_then_served_from_disk(sandbox, tmp_path):
    reached = image_requests(sandbox)
    folder = tmp_path / "images"
    cache = ImageCache(folder)

    async def scenario(http):
        first = await cache.get(http, url(sandbox, "e-reader.jpg"), deadline=5)
        after_first = reached()
        second = await cache.get(http, url(sandbox, "e-reader.jpg"), deadline=5)
        # A new cache on the same folder (the next start) finds it on disk too.
        third = await ImageCache(folder).get(http, url(sandbox, "e-reader.jpg"), deadline=5)
        return first, after_first, second, third

    first, after_first, second, third = run(scenario)
    assert after_first == 1 and reached() == 1
    reward = IMAGES["e-reader.jpg"]
    digest = hashlib.sha256(url(sandbox, "e-reader.jpg").encode()).hexdigest()
    assert first.path.parent == folder and first.path.name.startswith(digest)
    assert first.path.read_bytes() == reward.image_path.read_bytes()
    assert (first.content_type, first.size) == ("image/jpeg", reward.image_path.stat().st_size)
    assert second == first and third == first
    assert files(folder) == [first.path.name]  # no temp file left behind


def test_concurrent_requests_for_one_url_share_one_download(sandbox, tmp_path):
    reached = image_requests(sandbox, seconds=0.5)
    cache = ImageCache(tmp_path / "images")

    async def scenario(http):
        return await asyncio.gather(*[cache.get(http, url(sandbox, "headphones.png"), deadline=5)
                                      for _ in range(5)])

    results = run(scenario)
    assert reached() == 1
    assert len({r.path for r in results}) == 1 and results[0].size == IMAGES["headphones.png"].image_path.stat().st_size


def test_a_cancelled_caller_leaves_the_shared_download_to_the_others(sandbox, tmp_path):
    reached = image_requests(sandbox, seconds=0.5)
    cache = ImageCache(tmp_path / "images")

    async def scenario(http):
        target = url(sandbox, "gift-card.png")
        quitter = asyncio.ensure_future(cache.get(http, target, deadline=5))
        stayer = asyncio.ensure_future(cache.get(http, target, deadline=5))
        await asyncio.sleep(0.2)  # both are waiting on the one download
        quitter.cancel()
        image = await stayer
        with pytest.raises(asyncio.CancelledError):
            await quitter
        # Everyone cancelled: the download stops too (the leak guard sees no task left).
        alone = asyncio.ensure_future(cache.get(http, url(sandbox, "smart-speaker.png"), deadline=5))
        await asyncio.sleep(0.2)
        alone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await alone
        await cache.aclose()
        return image

    image = run(scenario)
    assert image.path.read_bytes() == IMAGES["gift-card.png"].image_path.read_bytes()
    assert reached() == 2


def test_the_total_size_is_bounded_least_recently_used_out(sandbox, tmp_path):
    reached = image_requests(sandbox)
    sizes = {name: IMAGES[name].image_path.stat().st_size for name in IMAGES}
    # Room for headphones + smart-speaker + gift-card, not one more of them.
    bound = sizes["headphones.png"] + sizes["smart-speaker.png"] + sizes["gift-card.png"] + 1000
    cache = ImageCache(tmp_path / "images", max_total_bytes=bound)

    async def scenario(http):
        got = {}
        for name in ("headphones.png", "smart-speaker.png", "gift-card.png"):
            got[name] = await cache.get(http, url(sandbox, name), deadline=5)
        await cache.get(http, url(sandbox, "headphones.png"), deadline=5)  # a hit: now the most recent
        assert reached() == 3
        # On disk too (the order the next start reads): the hit touched the file's mtime.
        mtimes = {n: got[n].path.stat().st_mtime_ns for n in got}
        assert mtimes["headphones.png"] > mtimes["gift-card.png"] > mtimes["smart-speaker.png"]
        got["e-reader.jpg"] = await cache.get(http, url(sandbox, "e-reader.jpg"), deadline=5)
        return got

    got = run(scenario)
    left = {p.name for p in (tmp_path / "images").iterdir()}
    assert got["smart-speaker.png"].path.name not in left  # the least recently used went
    assert {got[n].path.name for n in ("headphones.png", "gift-card.png", "e-reader.jpg")} == left
    assert sum((tmp_path / "images" / name).stat().st_size for name in left) <= bound

    async def again(http):
        await cache.get(http, url(sandbox, "headphones.png"), deadline=5)  # kept: no request
        before = reached()
        await cache.get(http, url(sandbox, "smart-speaker.png"), deadline=5)  # evicted: downloaded again
        return before

    assert run(again) == 4 and reached() == 5


@pytest.mark.parametrize("fault, name, deadline, message", [
    (None, "no-such-image.png", 5, "The image server answered HTTP 404."),
    (dict(kind="wrong_type"), "headphones.png", 5, "The address did not return an image (text/html)."),
    (dict(kind="oversized", bytes=6 * 1024 * 1024), "headphones.png", 5, "The image is larger than 5 MiB."),
    (dict(kind="latency", seconds=3), "headphones.png", 0.5,
     "The image server did not answer in time (the image did not arrive within 0.5 s)."),
], ids=["404", "not-an-image", "too-large", "deadline"])
def test_a_failure_says_why_and_is_not_cached(sandbox, tmp_path, fault, name, deadline, message):
    if fault:
        sandbox.admin.add_fault("images", fault.pop("kind"), times=1, **fault)
    folder = tmp_path / "images"
    cache = ImageCache(folder)

    async def scenario(http):
        with pytest.raises(ImageFetchError) as failed:
            await cache.get(http, url(sandbox, name), deadline=deadline)
        assert files(folder) == []
        if fault:  # the fault is spent: the next get downloads it (nothing was cached of the failure)
            return await cache.get(http, url(sandbox, name), deadline=5), failed.value
        return None, failed.value

    image, error = run(scenario)
    assert error.detail == message
    assert error.message == f"The image could not be shown: {message}"
    if fault:
        assert files(folder) == [image.path.name]


def test_the_bare_fetch_returns_the_bytes_and_their_type(sandbox):
    async def scenario(http):
        data, content_type = await fetch_image_bytes(http, url(sandbox, "streaming-stick.webp"), deadline=5)
        with pytest.raises(ImageFetchError, match="not an http"):
            await fetch_image_bytes(http, "file:///etc/passwd", deadline=5)
        return data, content_type

    data, content_type = run(scenario)
    assert data == IMAGES["streaming-stick.webp"].image_path.read_bytes() and content_type == "image/webp"


def test_an_unwritable_folder_is_named_in_a_plain_error(sandbox, tmp_path):
    folder = tmp_path / "images"
    undo = make_unwritable(folder)
    try:
        async def scenario(http):
            with pytest.raises(ImageFetchError) as failed:
                await ImageCache(folder).get(http, url(sandbox, "e-reader.jpg"), deadline=5)
            return failed.value

        error = run(scenario)
    finally:
        undo()
    assert str(folder) in error.message and "cannot be used" in error.message
    assert files(folder) == []  # no temp file left


def test_session_sweep_image_caches_under_the_home(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    reached = image_requests(sandbox)

    async def scenario(session):
        preview = await session.preview(DEMO_PROFILE_ID)
        image_url = preview.reward.image_url
        first = await session.sweep_image(DEMO_PROFILE_ID, image_url)
        second = await session.sweep_image(DEMO_PROFILE_ID, image_url)
        with pytest.raises(ImageFetchError, match="HTTP 404"):
            await session.sweep_image(DEMO_PROFILE_ID, f"{sandbox.base_url}/images/missing.png")
        return image_url, first, second

    image_url, first, second = run_session(sandbox, tmp_path, scenario)
    assert first == second and reached() == 2  # the image once, the missing one once
    assert first.path.parent == tmp_path / "home" / "cache" / "images"
    assert first.path.read_bytes() == IMAGES[image_url.rsplit("/", 1)[1]].image_path.read_bytes()
    assert sandbox.admin.ledger() == []  # a preview and images: nothing claimed
    if os.name == "posix":
        assert first.path.stat().st_mode & 0o777 == 0o600


def test_session_sweep_image_reports_an_unexpected_failure_plainly(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    from moments_desktop.core.errors import UnexpectedError

    async def broken(fn, *args):
        if getattr(fn, "__name__", "") == "_lookup":
            raise ValueError("a bug in a disk job")
        return await asyncio.to_thread(fn, *args)

    async def scenario(session):
        with pytest.raises(UnexpectedError):
            await session.sweep_image(DEMO_PROFILE_ID, f"{sandbox.base_url}/images/headphones.png")

    run_session(sandbox, tmp_path, scenario, run_blocking=broken)
