"""Reward images without Qt: the capped, deadlined GET of a rewardImageUrl (shared with ui/image_loader.py,
which decodes it) and an on-disk cache, so a sweep of 1,000 cards keeps file names in memory, not pictures.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from .errors import MomentsError
from .http import explain_failure
from .paths import PRIVATE_FILE_MODE, ensure_private_dir

MAX_IMAGE_BYTES = 5 * 1024 * 1024
# The most pixels an image may say it has before it is decoded (ui/image_decode.py reads the header first):
# 64 million is what Qt's own 256 MB allocation limit lets a full-size decode have; decoding at the size
# shown would otherwise let a 5 MiB file that declares 60000×60000 pixels through that limit.
MAX_IMAGE_PIXELS = 64_000_000
IMAGE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # per connect / read; the deadline bounds the whole download
IMAGE_PREFIX = "image/"

RunBlocking = Callable[..., Awaitable[Any]]


class ImageFetchError(MomentsError):
    """Why a reward image could not be had, in words for a placeholder."""

    title = "The image could not be shown"


@dataclass(frozen=True)
class CachedImage:
    url: str
    path: Path  # the cached bytes, as downloaded
    content_type: str
    size: int


# --- the GET ----------------------------------------------------------------------------------


class _Attempt:
    """What one GET did on the wire (httpcore's trace events): whether it opened a connection of its own."""

    def __init__(self) -> None:
        self.connected = False

    async def trace(self, event: str, info: dict) -> None:
        if event.startswith("connection.connect_tcp."):
            self.connected = True


async def fetch_image_bytes(http: httpx.AsyncClient, url: str, *, max_bytes: int = MAX_IMAGE_BYTES,
                            deadline: float) -> tuple[bytes, str]:
    """(the body, its content type) of an image URL: 200 only, an image/* type, at most ``max_bytes``,
    all within ``deadline`` seconds (a server that drips a byte every few seconds never trips a read
    timeout). ImageFetchError says why not."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageFetchError("The image address is not an http(s) URL.")
    try:
        async with asyncio.timeout(deadline):
            attempt = _Attempt()
            try:
                return await _download(http, url, max_bytes, attempt)
            except httpx.RemoteProtocolError:
                # A pooled keep-alive connection the server had already closed: the request met the close
                # and no answer came. A GET is safe to send again, once, on a fresh connection. A failure
                # on a connection this GET opened itself is the server's answer, not a stale pool.
                if attempt.connected:
                    raise
                return await _download(http, url, max_bytes, _Attempt())
    except (httpx.TimeoutException, TimeoutError):
        raise ImageFetchError(f"The image server did not answer in time (the image did not arrive within "
                              f"{deadline:g} s).") from None
    except httpx.HTTPError as exc:
        explained = explain_failure(http, exc)  # a certificate refused, a proxy unreachable: in plain words
        if explained is not None:
            raise ImageFetchError(f"The image could not be downloaded. {explained.title}"
                                  + (f": {explained.detail}." if explained.detail else ".")) from None
        raise ImageFetchError(f"The image could not be downloaded ({type(exc).__name__}).") from None


def _too_large(max_bytes: int) -> ImageFetchError:
    return ImageFetchError(f"The image is larger than {max_bytes // (1024 * 1024)} MiB.")


async def _download(http: httpx.AsyncClient, url: str, max_bytes: int, attempt: _Attempt) -> tuple[bytes, str]:
    async with http.stream("GET", url, timeout=IMAGE_TIMEOUT, follow_redirects=True,
                           extensions={"trace": attempt.trace}) as response:
        if response.status_code != 200:
            raise ImageFetchError(f"The image server answered HTTP {response.status_code}.")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content_type.startswith(IMAGE_PREFIX):
            raise ImageFetchError(f"The address did not return an image ({content_type or 'no content type'}).")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(max_bytes)
        data = bytearray()
        # aclosing: leaving the loop by raising must close the body's iterator now, not leave it
        # for the loop's shutdown to finalise (an async generator still pending).
        async with contextlib.aclosing(response.aiter_bytes()) as body_chunks:
            async for chunk in body_chunks:
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise _too_large(max_bytes)
        return bytes(data), content_type


# --- the cache --------------------------------------------------------------------------------


@dataclass
class _Entry:
    name: str  # file name in the folder: <sha256 of the URL>.<the content type's subtype, quoted>
    size: int
    used_ns: int  # the file's mtime: set on write and on every hit (least recently used goes first)


def url_digest(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _file_name(digest: str, content_type: str) -> str:
    return f"{digest}.{quote(content_type[len(IMAGE_PREFIX):], safe='+-')}"


class ImageCache:
    """Downloaded images under one folder (paths.cache_dir() / "images"), by a digest of the URL; bounded
    in total size, oldest used first out. Concurrent requests for one URL share one download."""

    def __init__(self, folder: Path, *, max_total_bytes: int = 256 * 1024 * 1024):
        self.folder = Path(folder)
        self.max_total_bytes = max_total_bytes
        # What the folder holds, read from it once (by the first get) and kept in step by our writes and
        # evictions; a file removed behind our back is noticed on its next hit and downloaded again.
        self._index: dict[str, _Entry] | None = None
        self._lock = threading.Lock()  # the index is used from run_blocking's worker threads
        self._downloads: dict[str, asyncio.Future] = {}  # url -> the one running download
        self._waiters: dict[str, int] = {}  # url -> callers awaiting it
        self._all: set[asyncio.Future] = set()  # shared or given up, until they end: aclose awaits them

    # --- async API ------------------------------------------------------------------------

    async def get(self, http: httpx.AsyncClient, url: str, *, deadline: float, max_bytes: int = MAX_IMAGE_BYTES,
                  run_blocking: RunBlocking = asyncio.to_thread) -> CachedImage:
        """The image from disk if it is cached (no request), else downloaded once, written, and returned.
        A failure is not cached: the next get tries again. The download runs with the first caller's
        deadline and cap; a caller cancelled while others wait does not stop it for them (the last one
        cancelled does)."""
        hit = await self._disk(run_blocking, self._lookup, url)
        if hit is not None:
            return hit
        running = self._downloads.get(url)
        if running is None:
            running = asyncio.ensure_future(self._download_and_store(http, url, deadline, max_bytes, run_blocking))
            self._downloads[url] = running
            self._all.add(running)
            running.add_done_callback(lambda done: self._finished(url, done))
        self._waiters[url] = self._waiters.get(url, 0) + 1
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            if self._waiters.get(url) == 1 and not running.done():
                running.cancel()  # nobody else wants it: no download left running unowned
                if self._downloads.get(url) is running:
                    del self._downloads[url]  # a caller arriving now starts afresh, not on a cancelled one
            raise
        finally:
            left = self._waiters.get(url, 1) - 1
            if left:
                self._waiters[url] = left
            else:
                self._waiters.pop(url, None)

    async def aclose(self) -> None:
        """Cancel the downloads still running and wait for them to end (before the HTTP client closes)."""
        running = list(self._all)
        for download in running:
            download.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _finished(self, url: str, download: asyncio.Future) -> None:
        self._all.discard(download)
        if self._downloads.get(url) is download:
            del self._downloads[url]
        if not download.cancelled():
            download.exception()  # retrieved: a failure nobody waits for any more is not "never retrieved"

    async def _download_and_store(self, http: httpx.AsyncClient, url: str, deadline: float, max_bytes: int,
                                  run_blocking: RunBlocking) -> CachedImage:
        data, content_type = await fetch_image_bytes(http, url, max_bytes=max_bytes, deadline=deadline)
        return await self._disk(run_blocking, self._store, url, data, content_type)

    async def _disk(self, run_blocking: RunBlocking, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await run_blocking(fn, *args)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ImageFetchError(f"The image cache folder {self.folder} cannot be used ({reason})",
                                  advice="Check that the folder exists and that you may write in it.") from None

    # --- blocking: run through run_blocking -------------------------------------------------

    def _load_index(self) -> dict[str, _Entry]:
        """Under the lock. Reads the folder once (creating it, private, if need be)."""
        if self._index is None:
            ensure_private_dir(self.folder)
            index: dict[str, _Entry] = {}
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    digest, dot, _ = entry.name.partition(".")
                    if not dot or len(digest) != 64 or not entry.is_file(follow_symlinks=False):
                        continue  # our temp files start with a dot; anything else is not ours
                    info = entry.stat(follow_symlinks=False)
                    index[digest] = _Entry(entry.name, info.st_size, info.st_mtime_ns)
            self._index = index
        return self._index

    def _cached(self, entry: _Entry, url: str) -> CachedImage:
        subtype = unquote(entry.name.partition(".")[2])
        return CachedImage(url=url, path=self.folder / entry.name, content_type=IMAGE_PREFIX + subtype,
                           size=entry.size)

    def _lookup(self, url: str) -> CachedImage | None:
        digest = url_digest(url)
        with self._lock:
            entry = self._load_index().get(digest)
            if entry is None:
                return None
            now = time.time_ns()
            try:
                os.utime(self.folder / entry.name, ns=(now, now))  # used now: last in line for eviction
            except FileNotFoundError:
                del self._index[digest]  # removed behind our back: download it again
                return None
            except OSError:
                pass  # a file we cannot touch is still there to read
            entry.used_ns = now
            return self._cached(entry, url)

    def _store(self, url: str, data: bytes, content_type: str) -> CachedImage:
        digest = url_digest(url)
        name = _file_name(digest, content_type)
        with self._lock:
            index = self._load_index()
            fd, tmp_name = tempfile.mkstemp(prefix=f".{digest}.", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.chmod(tmp_name, PRIVATE_FILE_MODE)
                now = time.time_ns()
                os.utime(tmp_name, ns=(now, now))
                os.replace(tmp_name, self.folder / name)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
                raise
            old = index.get(digest)
            if old is not None and old.name != name:  # the same URL now answers another type
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / old.name)
            entry = index[digest] = _Entry(name, len(data), now)
            self._evict(keep=digest)
            return self._cached(entry, url)

    def _evict(self, *, keep: str) -> None:
        """Under the lock: remove the least recently used files until the total is within the bound
        (never the one just written: its caller is about to read it)."""
        index = self._index or {}
        total = sum(e.size for e in index.values())
        for digest, entry in sorted(index.items(), key=lambda item: item[1].used_ns):
            if total <= self.max_total_bytes:
                break
            if digest == keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.folder / entry.name)
            del index[digest]
            total -= entry.size
