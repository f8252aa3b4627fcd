"""The rescue file: where a claim's answer goes when the journal cannot take it.

A getReward that was sent and answered has spent a reward; its URL must survive a journal that is
locked by another program, on a full disk or gone. The answer is then appended, as one JSON line,
to ``journal-rescue.jsonl`` next to the journal (owner-only, fsynced), and the next Journal opened on
that path merges it in (journal.py) and only then removes the file.

Plain JSON lines, so a person can read the URL out of it with any editor if everything else failed.
Records hold what the journal would have stored: headers redacted, the API key scrubbed (journal.py
builds them with the same rules). One record is one os.write() on an O_APPEND descriptor, under an
exclusive lock on POSIX, so the lines of two processes never interleave and the merge never removes a
line it did not read.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import paths

RESCUE_SUFFIX = "-rescue.jsonl"
FILE_MODE = 0o600

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock; appends are still one write each
    fcntl = None  # type: ignore[assignment]


def rescue_path_for(journal_path: Path) -> Path:
    """``journal.sqlite3`` → ``journal-rescue.jsonl`` in the same folder."""
    journal_path = Path(journal_path)
    return journal_path.with_name(journal_path.stem + RESCUE_SUFFIX)


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _still_linked(fd: int, path: Path) -> bool:
    """The descriptor is still the file at ``path`` (a merge may have removed it while we waited)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


class RescueFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._damaged = False

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, record: dict[str, Any]) -> Path:
        """Append one record and fsync it; returns the file's path. Raises OSError when it cannot."""
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        for _ in range(5):  # a merge removing the file between our open and our lock: open again
            created = not self.path.exists()
            fd = os.open(self.path, flags, FILE_MODE)
            try:
                with _locked(fd):
                    if not _still_linked(fd, self.path):
                        continue
                    if os.name == "posix":
                        os.fchmod(fd, FILE_MODE)  # an older file, or a umask, may have left it wider
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                paths.fsync_dir(self.path.parent)
            return self.path
        raise OSError(f"{self.path} kept being replaced while it was written")

    @contextlib.contextmanager
    def reading(self) -> Iterator[list[dict[str, Any]] | None]:
        """Hold the file (locked) and yield its records, or None when there is none. The caller
        merges them; ``remove()`` inside the block then deletes exactly what was read."""
        try:
            fd = os.open(self.path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            yield None
            return
        try:
            with _locked(fd):
                chunks = []
                while chunk := os.read(fd, 1 << 16):
                    chunks.append(chunk)
                records, self._damaged = _records(b"".join(chunks))
                yield records
        finally:
            os.close(fd)

    def remove(self) -> Path | None:
        """Inside ``reading()``, after the records were committed elsewhere: delete the file. One with a
        damaged line is renamed aside instead (returned), so a person can still read what it holds."""
        kept = None
        if self._damaged:
            kept = self.path.with_name(f"{self.path.name}.damaged-{os.getpid()}-{time.time_ns()}")
            os.replace(self.path, kept)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        paths.fsync_dir(self.path.parent)
        return kept


def _records(data: bytes) -> tuple[list[dict[str, Any]], bool]:
    """(every readable record, whether any line was not one). A damaged line does not block the rest."""
    records, damaged = [], False
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, dict):
            records.append(value)
        else:
            damaged = True
    return records, damaged
