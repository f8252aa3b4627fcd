"""A second process that holds ``BEGIN EXCLUSIVE`` on a journal file, as another program (a second app
instance, a backup tool, a sqlite3 shell) would: every write of ours then meets "database is locked".
Reads still work (the journal is in WAL mode). Works as root too, unlike a chmod."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


class JournalLock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._proc: subprocess.Popen | None = None

    def acquire(self) -> JournalLock:
        self._proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(self.path)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
        line = self._proc.stdout.readline().strip()
        if line != "locked":
            self.release()
            raise AssertionError(f"the lock holder did not take the lock (said {line!r})")
        return self

    @property
    def held(self) -> bool:
        return self._proc is not None

    def release(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.write("\n")
            proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass
        proc.stdin.close()
        proc.wait(timeout=20)
        proc.stdout.close()

    def __enter__(self) -> JournalLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
