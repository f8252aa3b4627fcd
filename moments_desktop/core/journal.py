"""The exchange journal: every request the app sends, in SQLite.

Two jobs:
* History: each finished exchange is a row (record()); the history view pages, filters,
  searches and exports them without loading everything (100k rows stay fast).
* Money safety for getReward: the intent is committed (outcome 'pending') BEFORE the
  request leaves (begin_intent()), and the answer, with its reward URL, is committed
  (complete()) BEFORE the caller shows it. A 'pending' row found by a later run means the
  app stopped in between: recover() marks it 'unknown' and returns it so the user decides.
  Nothing here ever deletes or retries a row.
* One claim per profile in flight across processes (the window and the `moments` command, or two
  windows): begin_intent() checks for another running process's pending getReward row for the same
  profile and writes its own in one BEGIN IMMEDIATE transaction, so of two claims started at once
  exactly one gets its row; the other is refused (ClaimInFlightElsewhereError) before anything is sent.
* When an answer cannot be committed (the file locked by another process, the disk full, the
  file gone), it is appended to the rescue file next to the journal (rescue_answer(), see
  rescue.py) and shown anyway; the next Journal opened on the path merges it (merge_rescue()).

Writes fail loudly rather than vanish: before each one the path is checked to still be the file
this run opened (a journal deleted or replaced under the app raises JournalReplacedError), and
every JournalError says why in plain words (``reason``: locked, disk full, read-only).
The file, its -wal/-shm and its folder are owner-only (POSIX): they hold paid-for reward URLs.

API keys never reach the database: x-api-key / authorization header values are redacted
on the way in (even if a caller forgot), and any value passed as `secrets` is scrubbed
from every stored text.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import socket
import sqlite3
import time
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from ..api_schema import Endpoint, Outcome
from . import errorlog, paths
from .errors import MomentsError
from .exchange import redact_headers
from .exchange import scrub_secrets as _scrub  # the one rule for secrets in free text
from .render import PLAIN
from .rescue import RescueFile, rescue_path_for

UNKNOWN_AFTER_RESTART = (
    "The app stopped after this request was sent (or while sending it) and before the answer "
    "was recorded. A reward may have been consumed. Check the campaign or sandbox ledger before "
    "claiming again."
)

SCHEMA_VERSION = 1
_COLUMNS = (
    "id", "time", "profile_id", "profile_name", "endpoint", "request_url", "request_headers",
    "request_body", "status", "response_headers", "response_body", "duration_ms", "outcome",
    "error_message", "reward_url", "resolved_note", "resolved_at", "summary", "owner",
)
_SEARCHED = ("summary", "request_url", "request_body", "response_body", "reward_url", "error_message",
             "profile_name")


class JournalError(MomentsError):
    title = "The history journal could not be updated"
    advice = "Check that the disk is not full and the data folder is writable."

    @property
    def reason(self) -> str:
        """Why, in a few plain words (locked, disk full, read-only, ...), from SQLite's own message."""
        return write_failure_reason(self.detail)


class JournalReplacedError(JournalError):
    """The file at the journal's path is no longer the one this run opened (deleted, moved, replaced):
    SQLite would go on writing into the old, unlinked file, and everything would be gone at exit."""

    title = "The history file was moved or deleted while the app was running"
    advice = "Nothing more is written to it. Restart the app to open the history file again."

    @property
    def reason(self) -> str:
        return "the history file was moved or deleted while the app was running"


class ClaimInFlightElsewhereError(MomentsError):
    """A getReward for the same profile is in flight in another running process on this computer (its
    intent is committed, its answer not yet in): a second claim now would spend a second reward before
    anyone knows what the first one did. Nothing was written for this claim and nothing was sent.

    Not a JournalError: the journal works; it is what refuses. ``pid`` and ``host`` name the other
    process, ``since`` is when its intent was written (ISO UTC, as the journal stores it), ``entry_id``
    its history entry, ``profile_id`` the profile both claims are for."""

    title = "A claim for this profile is already in progress in another window or process"
    advice = "Nothing was sent and nothing was spent. Wait for its outcome (see History), then claim again."

    def __init__(self, *, profile_id: str, pid: int, host: str, since: str, entry_id: int):
        self.profile_id = profile_id
        self.pid = pid
        self.host = host
        self.since = since
        self.entry_id = entry_id
        super().__init__(f"process {pid} on this computer has been waiting for its answer since "
                         f"{_clock_text(since)} (history entry #{entry_id})")


def _clock_text(iso: str) -> str:
    """``2026-12-01T23:50:01.123456Z`` → ``2026-12-01 23:50:01 UTC`` (anything else as it is)."""
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def write_failure_reason(detail: str) -> str:
    text = (detail or "").lower()
    if "locked" in text or "busy" in text:
        return "the history file is locked by another program"
    if "full" in text:
        return "the disk is full"
    if "readonly" in text or "read-only" in text or "unable to open" in text or "permission" in text:
        return "the history file or its folder is read-only"
    return detail or "the history file could not be written"


# Claims wait this long for a lock another process holds on the journal, per try (history writes
# keep the connection's own timeout): a claim must not hang on a busy file.
CLAIM_BUSY_TIMEOUT_S = 1.0
BUSY_TIMEOUT_S = 10.0
# Merging the rescue file at open: a journal another process holds keeps the file for the next start.
MERGE_BUSY_TIMEOUT_S = 2.0
# Owner-only: the journal holds paid-for reward URLs. (POSIX only; Windows profiles are per-user already.)
FILE_MODE = 0o600
DIR_MODE = 0o700
CANCELLED_PREVIEW = "The preview was cancelled after it was sent; its answer was not read."


def utc_now_iso() -> str:
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time_bound(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _iso(value)
    text = str(value).strip()
    try:
        return _iso(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _outcome(value: Any) -> Outcome:
    """An Outcome, or its value as text; anything else is refused."""
    try:
        return Outcome(_enum_value(value))
    except ValueError:
        raise ValueError(f"unknown outcome {value!r}") from None


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)


def _summary(endpoint: str, body: Any, status: int | None, outcome: str, reward_url: str | None) -> str:
    """The searchable one-line summary, rendered by the one renderer (never masked: it is stored)."""
    return PLAIN.journal_summary(str(_enum_value(endpoint)), body, status, str(_enum_value(outcome)), reward_url)


def _owner() -> str:
    """host:pid:nonce, and :start (the process's start time, where known) so that a pid reused by a later
    process is not taken for the writer. Owners written before the start time was added stay readable."""
    start = _process_start(os.getpid())
    tail = f":{start}" if start is not None else ""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}{tail}"


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux: /proc/<pid>/stat field 22); None elsewhere
    or when it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("ascii", "replace")
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 on
        start = fields[22 - 3]
    except (OSError, ValueError, IndexError):
        return None
    return start if start.isdigit() else None


def _live_owner_elsewhere(owner: str | None) -> int | None:
    """The pid of the process that wrote a row, when it is another process of this computer and still
    running: its pending rows are in flight (it is waiting for their answers). None otherwise: the writer is
    gone, or it is this process, or another computer's (a journal on a shared folder), or unknown. Pending
    rows of those are orphans, recover() calls them unknown. The one rule for both recover() (leave a
    live instance's rows alone) and begin_intent() (refuse a second claim while one is in flight).

    A row of this process's own (another Journal object on the same file) is not "elsewhere": within one
    process the Session and Operations refuse a second claim (ClaimInProgressError).

    A liveness check that fails (it raised) counts as alive: the safe side of both callers, begin_intent()
    refuses (nothing sent) and recover() leaves the row pending (never calls a live claim unknown)."""
    o_host, _, rest = (owner or "").partition(":")
    pid_text, _, after_pid = rest.partition(":")
    started = after_pid.partition(":")[2]  # "" in owners written before the start time was recorded
    if o_host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if pid == os.getpid():
        return None
    if started:
        now_started = _process_start(pid)
        if now_started is not None and now_started != started:
            return None  # the pid now belongs to a later process: the writer is gone
    try:
        alive = _pid_alive(pid)
    except Exception as exc:  # noqa: BLE001 - ctypes, odd platforms: unknown liveness, never a crash here
        errorlog.log_exception(exc, "journal: checking whether a claim's process is running")
        alive = True
    return pid if alive else None


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":
        return _windows_pid_alive(pid)
    if os.name != "posix":
        return False  # [assumed] no cheap check: treat as gone (the user is asked)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _windows_pid_alive(pid: int) -> bool:
    """[untested here: no Windows machine] OpenProcess + GetExitCodeProcess; a process we may not open
    (another user's) is running; any other failure counts as gone."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _tighten(path: Path, mode: int) -> None:
    """Owner-only access (POSIX), if the file or folder is ours and allows more; failing to is no error."""
    if os.name != "posix":
        return
    try:
        st = os.stat(path)
        if st.st_uid == os.geteuid() and st.st_mode & 0o777 & ~mode:
            os.chmod(path, (st.st_mode & 0o777) & mode)
    except OSError:
        pass


def _private_dir(directory: Path, *, tighten: bool) -> None:
    """Create the journal's folder owner-only; the app's own data folder (``tighten``) is made so
    even when an older version created it world-readable. A folder a caller chose is left as it is."""
    if not directory.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        tighten = True
    if tighten:
        _tighten(directory, DIR_MODE)


def _private_file(path: Path) -> None:
    """Create the journal file owner-only before SQLite does (it would follow the umask, 0644), and
    tighten one an older version left readable. SQLite gives -wal and -shm the database file's mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE))
    except FileExistsError:
        pass
    except OSError:
        return  # SQLite will say why it cannot open it
    if path.is_file():
        _tighten(path, FILE_MODE)


@dataclass
class JournalEntry:
    id: int
    time: str
    profile_id: str | None
    profile_name: str | None
    endpoint: str
    request_url: str | None
    request_headers: dict
    request_body: Any
    status: int | None
    response_headers: dict
    response_body: str | None
    duration_ms: float | None
    outcome: Outcome
    error_message: str | None
    reward_url: str | None
    resolved_note: str | None
    resolved_at: str | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class JournalFilter:
    profile_id: str | None = None
    endpoint: str | None = None
    outcome: str | Iterable[str] | None = None
    since: datetime | str | None = None  # inclusive
    until: datetime | str | None = None  # exclusive
    text: str | None = None
    unresolved_only: bool = False

    @classmethod
    def of(cls, filters: JournalFilter | Mapping[str, Any] | None) -> JournalFilter:
        if filters is None:
            return cls()
        if isinstance(filters, JournalFilter):
            return filters
        return cls(**dict(filters))


def _loads(text: str | None, default: Any) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return text


def _entry(row: sqlite3.Row) -> JournalEntry:
    return JournalEntry(
        id=row["id"], time=row["time"], profile_id=row["profile_id"], profile_name=row["profile_name"],
        endpoint=row["endpoint"], request_url=row["request_url"],
        request_headers=_loads(row["request_headers"], {}), request_body=_loads(row["request_body"], None),
        status=row["status"], response_headers=_loads(row["response_headers"], {}),
        response_body=row["response_body"], duration_ms=row["duration_ms"], outcome=Outcome(row["outcome"]),
        error_message=row["error_message"], reward_url=row["reward_url"],
        resolved_note=row["resolved_note"], resolved_at=row["resolved_at"], summary=row["summary"] or "",
    )


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    profile_id TEXT,
    profile_name TEXT,
    endpoint TEXT NOT NULL,
    request_url TEXT,
    request_headers TEXT,
    request_body TEXT,
    status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    duration_ms REAL,
    outcome TEXT NOT NULL CHECK (outcome IN ({", ".join(f"'{o.value}'" for o in Outcome)})),
    error_message TEXT,
    reward_url TEXT,
    resolved_note TEXT,
    resolved_at TEXT,
    summary TEXT NOT NULL DEFAULT '',
    owner TEXT
);
CREATE INDEX IF NOT EXISTS ix_exchanges_time ON exchanges(time, id);
CREATE INDEX IF NOT EXISTS ix_exchanges_profile ON exchanges(profile_id, time, id);
CREATE INDEX IF NOT EXISTS ix_exchanges_endpoint ON exchanges(endpoint, time, id);
CREATE INDEX IF NOT EXISTS ix_exchanges_outcome ON exchanges(outcome, time, id);
CREATE INDEX IF NOT EXISTS ix_exchanges_profile_endpoint ON exchanges(profile_id, endpoint, time, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

_FTS_COLS = ", ".join(_SEARCHED)
_FTS_NEW = ", ".join(f"new.{c}" for c in _SEARCHED)
_FTS_OLD = ", ".join(f"old.{c}" for c in _SEARCHED)
_FTS_INSERT_TRIGGER = f"""CREATE TRIGGER IF NOT EXISTS exchanges_ai AFTER INSERT ON exchanges BEGIN
    INSERT INTO exchanges_fts(rowid, {_FTS_COLS}) VALUES (new.id, {_FTS_NEW});
END"""
_FTS_SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS exchanges_fts USING fts5(
    {_FTS_COLS}, content='exchanges', content_rowid='id', tokenize='trigram');
{_FTS_INSERT_TRIGGER};
CREATE TRIGGER IF NOT EXISTS exchanges_ad AFTER DELETE ON exchanges BEGIN
    INSERT INTO exchanges_fts(exchanges_fts, rowid, {_FTS_COLS}) VALUES ('delete', old.id, {_FTS_OLD});
END;
CREATE TRIGGER IF NOT EXISTS exchanges_au AFTER UPDATE ON exchanges BEGIN
    INSERT INTO exchanges_fts(exchanges_fts, rowid, {_FTS_COLS}) VALUES ('delete', old.id, {_FTS_OLD});
    INSERT INTO exchanges_fts(rowid, {_FTS_COLS}) VALUES (new.id, {_FTS_NEW});
END;
"""

# Trigram needs at least three characters; shorter searches fall back to LIKE.
_FTS_MIN = 3
# From this many rows on, record_many() indexes the batch in one statement after inserting it:
# the per-row trigger makes a 100k-row import about three times slower.
_BULK_INDEX_MIN = 1000


class Journal:
    """One SQLite file (WAL, synchronous=FULL). Thread-safe through one lock."""

    def __init__(self, path: Path | None = None, *, recover: bool = False):
        self._init_state(Path(path) if path is not None else paths.journal_path())
        _private_dir(self.path.parent, tighten=path is None)
        _private_file(self.path)
        self._conn = self._connect(self.path)
        # Which file this run writes to: a journal deleted or replaced under the app is noticed at the
        # next write (SQLite would go on writing into the unlinked file, lost at exit).
        self._identity = _identity(self.path)
        self.fts = False
        with self._lock, self._conn:
            self._conn.executescript(_SCHEMA)
            try:
                self._conn.executescript(_FTS_SCHEMA)
                self.fts = True
            except sqlite3.OperationalError:
                self.fts = False  # SQLite without FTS5/trigram: LIKE search
            self._conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))
        for sidecar in ("-wal", "-shm"):
            _tighten(Path(f"{self.path}{sidecar}"), FILE_MODE)
        self._fix_unknown_summaries()
        # Answers an earlier run could not write (the journal locked, the disk full): merged now, before
        # recover() would call their rows unknown. A failure keeps the file for the next start.
        try:
            self.rescued = self.merge_rescue()
        except JournalError as exc:
            self.rescue_error = exc
        if recover:
            self.recovered = self.recover()

    def _init_state(self, path: Path) -> None:
        """What every journal holds before its connection opens (the read-only one of start-up included)."""
        self.path = path
        self._lock = threading.RLock()
        self._owner = _owner()
        self.rescue = RescueFile(rescue_path_for(path))
        self.rescued: list[JournalEntry] = []  # merged from the rescue file when this journal opened
        self.rescue_error: JournalError | None = None  # why that merge could not be done yet
        self.recovered: list[JournalEntry] = []  # intents of earlier runs marked unknown (recover=True)

    def _fix_unknown_summaries(self) -> None:
        """Rows an older version recovered kept the summary "... pending" while their outcome says unknown."""
        with self._lock:
            rows = self._conn.execute("SELECT id, endpoint, request_body, status, reward_url FROM exchanges "
                                      "WHERE outcome=? AND summary LIKE '% pending%'",
                                      (Outcome.UNKNOWN.value,)).fetchall()
            for row in rows:
                try:
                    self._write("UPDATE exchanges SET summary=? WHERE id=?", (_summary(
                        row["endpoint"], _loads(row["request_body"], None), row["status"], Outcome.UNKNOWN,
                        row["reward_url"]), row["id"]))
                except JournalError:
                    return  # cosmetic: tried again at the next start

    @staticmethod
    def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
            deadline = time.monotonic() + BUSY_TIMEOUT_S
            while True:
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as exc:
                    # Another process opening a new journal at the same moment (the window and `moments`)
                    # holds the lock the switch to WAL needs, and SQLite answers "locked" at once instead of
                    # through the busy timeout: wait for it as the timeout would.
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        conn.close()
                        raise
                    time.sleep(0.01)
            # FULL: an intent is on disk before getReward is sent, a reward URL before it is shown.
            conn.execute("PRAGMA synchronous=FULL")
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_same_file(self) -> None:
        """Raise JournalReplacedError when the path no longer names the file this run opened."""
        try:
            now = _identity(self.path)
        except OSError:
            now = None
        if now != self._identity:
            raise JournalReplacedError(str(self.path))

    @contextlib.contextmanager
    def _busy_timeout(self, seconds: float | None) -> Iterator[None]:
        """Wait at most ``seconds`` for another process's lock (None: the connection's own timeout)."""
        if seconds is None:
            yield
            return
        self._conn.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")
        try:
            yield
        finally:
            self._conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")

    def _write(self, sql: str, params: Iterable[Any], *, busy_timeout_s: float | None = None) -> sqlite3.Cursor:
        try:
            with self._lock:
                self._check_same_file()
                with self._busy_timeout(busy_timeout_s), self._conn:
                    return self._conn.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            raise JournalError(str(exc)) from exc

    # --- writing -------------------------------------------------------------------

    def _row(self, *, profile_id, profile_name, endpoint, url, headers, body, status, response_headers,
             response_body, duration_ms, outcome, error_message, reward_url, time, secrets,
             summary_outcome: str | None = None) -> dict[str, Any]:
        endpoint = str(_enum_value(endpoint))
        outcome = _outcome(outcome)
        secrets = [s for s in secrets if s]
        return {
            "time": _time_bound(time) if time is not None else utc_now_iso(),
            "profile_id": profile_id,
            "profile_name": profile_name,
            "endpoint": endpoint,
            "request_url": _scrub(url, secrets),
            "request_headers": _scrub(_dump(redact_headers(headers)), secrets),
            "request_body": _scrub(_dump(body), secrets),
            "status": status,
            "response_headers": _scrub(_dump(redact_headers(response_headers)), secrets),
            "response_body": _scrub(_dump(response_body), secrets),
            "duration_ms": duration_ms,
            "outcome": outcome.value,
            "error_message": _scrub(error_message, secrets),
            "reward_url": reward_url,
            "summary": _summary(endpoint, body, status, summary_outcome or outcome, reward_url),
            "owner": self._owner,
        }

    def _insert(self, row: dict[str, Any], *, busy_timeout_s: float | None = None,
                one_claim_per_profile: bool = False) -> int:
        """Insert ``row``; with ``one_claim_per_profile``, only if no other running process has a claim
        for the same profile in flight (else ClaimInFlightElsewhereError), checked and inserted in one
        BEGIN IMMEDIATE transaction: a second process's check waits for this one's commit."""
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        sql = f"INSERT INTO exchanges ({names}) VALUES ({marks})"
        if not one_claim_per_profile:
            return int(self._write(sql, row.values(), busy_timeout_s=busy_timeout_s).lastrowid)
        with self._lock:
            self._check_same_file()
            with self._immediate_transaction(busy_timeout_s) as conn:
                self._refuse_claim_in_flight_elsewhere(conn, row["profile_id"])
                return int(conn.execute(sql, tuple(row.values())).lastrowid)

    def _refuse_claim_in_flight_elsewhere(self, conn: sqlite3.Connection, profile_id: str) -> None:
        # By the outcome index (the unary + keeps SQLite off the profile's): pending rows are a handful, a
        # profile's claims may be 100k (20 ms to scan, in a transaction that holds every other writer off).
        rows = conn.execute(
            "SELECT id, time, owner FROM exchanges WHERE outcome=? AND +profile_id=? AND +endpoint=? "
            "AND (owner IS NULL OR owner != ?) ORDER BY id",
            (Outcome.PENDING.value, profile_id, Endpoint.GET_REWARD.value, self._owner)).fetchall()
        for row in rows:
            pid = _live_owner_elsewhere(row["owner"])
            if pid is not None:
                raise ClaimInFlightElsewhereError(profile_id=profile_id, pid=pid, host=socket.gethostname(),
                                                  since=row["time"], entry_id=int(row["id"]))

    def record(self, *, endpoint: str, url: str | None, headers: Mapping[str, Any] | None = None,
               body: Any = None, status: int | None = None, response_headers: Mapping[str, Any] | None = None,
               response_body: str | bytes | None = None, duration_ms: float | None = None,
               outcome: Outcome | str, error_message: str | None = None, reward_url: str | None = None,
               profile_id: str | None = None, profile_name: str | None = None,
               time: datetime | str | None = None, secrets: Iterable[str] = (),
               summary_outcome: str | None = None) -> int:
        """Store one finished exchange; returns its id. ``summary_outcome`` words the summary's outcome
        when the stored one says too little (a preview cancelled after sending is stored as an error)."""
        return self._insert(self._row(
            profile_id=profile_id, profile_name=profile_name, endpoint=endpoint, url=url, headers=headers,
            body=body, status=status, response_headers=response_headers, response_body=response_body,
            duration_ms=duration_ms, outcome=outcome, error_message=error_message, reward_url=reward_url,
            time=time, secrets=secrets, summary_outcome=summary_outcome))

    def record_exchange(self, exchange: Any, *, profile_id: str | None = None, profile_name: str | None = None,
                        reward_url: str | None = None, secrets: Iterable[str] = (),
                        outcome: Outcome | str | None = None, error_message: str | None = None,
                        summary_outcome: str | None = None) -> int:
        """Store a finished client Exchange record (duck-typed: endpoint, url, request_headers, ...);
        ``outcome`` / ``error_message`` replace the exchange's own when given."""
        get = lambda *names: next((getattr(exchange, n) for n in names if hasattr(exchange, n)), None)
        return self.record(
            endpoint=get("endpoint"), url=get("url", "request_url"), headers=get("request_headers"),
            body=get("request_body"), status=get("status"), response_headers=get("response_headers"),
            response_body=get("response_body"), duration_ms=get("duration_ms"),
            outcome=outcome if outcome is not None else get("outcome"),
            error_message=error_message if error_message is not None else get("error_message", "error"),
            reward_url=reward_url or get("reward_url"), profile_id=profile_id, profile_name=profile_name,
            time=get("started_at"), secrets=secrets, summary_outcome=summary_outcome)

    def record_many(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Bulk insert (one transaction) of record() keyword dicts; for imports and benchmarks."""
        built = [self._row(**{
            "profile_id": None, "profile_name": None, "url": None, "headers": None, "body": None,
            "status": None, "response_headers": None, "response_body": None, "duration_ms": None,
            "error_message": None, "reward_url": None, "time": None, "secrets": (), **r}) for r in rows]
        if not built:
            return 0
        names = list(built[0])
        sql = f"INSERT INTO exchanges ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        bulk_index = self.fts and len(built) >= _BULK_INDEX_MIN
        with self._lock:
            self._check_same_file()
            # One IMMEDIATE transaction: no other writer can slip a row in while the insert
            # trigger is away, and a failure leaves neither rows nor a missing trigger behind.
            with self._immediate_transaction() as conn:
                if bulk_index:
                    conn.execute("DROP TRIGGER exchanges_ai")
                    last_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM exchanges").fetchone()[0]
                conn.executemany(sql, ([r[n] for n in names] for r in built))
                if bulk_index:
                    conn.execute(f"INSERT INTO exchanges_fts(rowid, {_FTS_COLS}) "
                                 f"SELECT id, {_FTS_COLS} FROM exchanges WHERE id > ?", (last_id,))
                    conn.execute(_FTS_INSERT_TRIGGER)
        return len(built)

    @contextlib.contextmanager
    def _immediate_transaction(self, busy_timeout_s: float | None = None) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE (waiting at most ``busy_timeout_s`` for another process's lock), the body, COMMIT;
        rolled back on any exception. SQLite's errors come out as JournalError. Call with the lock held."""
        conn = self._conn
        try:
            with self._busy_timeout(busy_timeout_s):
                conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        except sqlite3.Error as exc:
            raise JournalError(str(exc)) from exc

    def begin_intent(self, profile_id: str | None, profile_name: str | None, endpoint: str, url: str,
                     headers: Mapping[str, Any] | None, body: Any, *, secrets: Iterable[str] = (),
                     busy_timeout_s: float | None = None) -> int:
        """Commit a 'pending' row (fsynced) BEFORE the request is sent. Returns its id.

        A getReward intent is refused with ClaimInFlightElsewhereError (nothing written) while another
        running process on this computer has a getReward for the same profile pending; a pending row of a
        process that is gone does not count (it is an orphan: recover() calls it unknown at the next
        start). An intent with no profile (``profile_id`` None: no Session claim is made so; tools and
        tests may) has no "same profile": it is neither refused nor does it refuse others.

        A pending row whose answer is in the rescue file (its journal could not take it) is no longer in
        flight: when only such a row stands in the way, the rescue file is merged and the check made again."""
        row = self._row(
            profile_id=profile_id, profile_name=profile_name, endpoint=endpoint, url=url, headers=headers,
            body=body, status=None, response_headers=None, response_body=None, duration_ms=None,
            outcome=Outcome.PENDING, error_message=None, reward_url=None, time=None, secrets=secrets)
        guarded = row["endpoint"] == Endpoint.GET_REWARD.value and profile_id is not None
        try:
            try:
                return self._insert(row, busy_timeout_s=busy_timeout_s, one_claim_per_profile=guarded)
            except ClaimInFlightElsewhereError:
                if not self._merged_rescued_answers():
                    raise
            return self._insert(row, busy_timeout_s=busy_timeout_s, one_claim_per_profile=guarded)
        except (JournalError, ClaimInFlightElsewhereError):
            raise
        except Exception as exc:  # noqa: BLE001 - the caller must know nothing was sent, not "maybe sent"
            errorlog.log_exception(exc, "journal: writing a claim's intent")
            raise JournalError(f"{type(exc).__name__}: {exc}") from exc

    def _merged_rescued_answers(self) -> bool:
        """Merge the rescue file now, if there is one; whether any answer came in."""
        if not self.rescue.exists():
            return False
        try:
            return bool(self.merge_rescue())
        except JournalError:
            return False

    def complete(self, entry_id: int, status: int | None, response_headers: Mapping[str, Any] | None,
                 response_body: str | bytes | None, duration_ms: float | None, outcome: Outcome | str,
                 error_message: str | None = None, reward_url: str | None = None, *,
                 secrets: Iterable[str] = (), busy_timeout_s: float | None = None) -> JournalEntry:
        """Commit the answer of an intent. Returns only once it is on disk: show the reward after."""
        outcome = _outcome(outcome)
        if outcome is Outcome.PENDING:
            raise ValueError(f"cannot complete with outcome {outcome.value!r}")
        secrets = [s for s in secrets if s]
        with self._lock:
            self._check_same_file()  # a replaced file has no such row: say what happened, not "does not exist"
            current = self.get(entry_id)
            if current.outcome not in (Outcome.PENDING, Outcome.UNKNOWN):
                raise JournalError(f"entry {entry_id} is already complete ({current.outcome})")
            self._write(
                "UPDATE exchanges SET status=?, response_headers=?, response_body=?, duration_ms=?, outcome=?,"
                " error_message=?, reward_url=?, summary=? WHERE id=?",
                (status, _scrub(_dump(redact_headers(response_headers)), secrets),
                 _scrub(_dump(response_body), secrets), duration_ms, outcome.value, _scrub(error_message, secrets),
                 reward_url, _summary(current.endpoint, current.request_body, status, outcome, reward_url),
                 entry_id), busy_timeout_s=busy_timeout_s)
            return self.get(entry_id)

    def resolve(self, entry_id: int, note: str) -> JournalEntry:
        """Record what the user found out about an unknown outcome (the row is kept)."""
        with self._lock:
            self.get(entry_id)
            self._write("UPDATE exchanges SET resolved_note=?, resolved_at=? WHERE id=?",
                        (note, utc_now_iso(), entry_id))
            return self.get(entry_id)

    # --- answers the journal could not take: the rescue file ------------------------------

    def rescue_answer(self, intent_id: int | None, exchange: Any, *, profile_id: str | None,
                      profile_name: str | None, reward_url: str | None, failure: str,
                      secrets: Iterable[str] = ()) -> Path:
        """Append an answer the journal could not commit to the rescue file (fsynced, owner-only), as
        the row it should have become (the key scrubbed, headers redacted). Raises OSError when even
        that fails. Takes no journal lock of SQLite's: it must work while another process holds one."""
        get = lambda *names: next((getattr(exchange, n) for n in names if hasattr(exchange, n)), None)
        row = self._row(
            profile_id=profile_id, profile_name=profile_name, endpoint=get("endpoint"), url=get("url"),
            headers=get("request_headers"), body=get("request_body"), status=get("status"),
            response_headers=get("response_headers"), response_body=get("response_body"),
            duration_ms=get("duration_ms"), outcome=get("outcome"), error_message=get("error_message"),
            reward_url=reward_url, time=get("started_at"), secrets=secrets)
        record = {"rescue_id": uuid.uuid4().hex, "intent_id": intent_id, "journal": str(self.path),
                  "rescued_at": utc_now_iso(), "journal_failure": _scrub(failure, [s for s in secrets if s]),
                  "row": row}
        return self.rescue.append(record)

    def merge_rescue(self) -> list[JournalEntry]:
        """Bring the rescue file's answers into the journal: each completes its intent row (when this
        journal has it, still open) or becomes a row of its own. One transaction; the file is removed
        only after it committed, and a record already merged (its rescue_id is in meta) is skipped, so
        merging twice never duplicates. Returns the rows written."""
        try:
            return self._merge_rescue()
        except OSError as exc:  # the rescue file itself cannot be read or removed: it stays, and says so
            raise JournalError(f"{self.rescue.path}: {exc.strerror or exc}") from exc

    def _merge_rescue(self) -> list[JournalEntry]:
        with self._lock, self.rescue.reading() as records:
            if not records:
                if records is not None:
                    self.rescue.remove()
                return []
            ids: list[int] = []
            self._check_same_file()
            with self._immediate_transaction(MERGE_BUSY_TIMEOUT_S) as conn:
                for record in records:
                    entry_id = self._merge_one(conn, record)
                    if entry_id is not None:
                        ids.append(entry_id)
            self.rescue.remove()
        return [self.get(i) for i in ids]

    def _merge_one(self, conn: sqlite3.Connection, record: Mapping[str, Any]) -> int | None:
        row = record.get("row")
        rescue_id = str(record.get("rescue_id") or "")
        if not isinstance(row, dict) or not rescue_id:
            return None
        key = f"rescued:{rescue_id}"
        if conn.execute("SELECT 1 FROM meta WHERE key=?", (key,)).fetchone():
            return None
        try:
            outcome = _outcome(row.get("outcome")).value
        except ValueError:
            outcome = Outcome.UNKNOWN.value
        values = {name: row.get(name) for name in _COLUMNS if name not in ("id", "resolved_note", "resolved_at")}
        values["outcome"] = outcome
        values["endpoint"] = str(values.get("endpoint") or "")
        values["time"] = values.get("time") or utc_now_iso()
        values["summary"] = _summary(values["endpoint"], _loads(values.get("request_body"), None),
                                     values.get("status"), outcome, values.get("reward_url"))
        intent = record.get("intent_id")
        target = None
        if isinstance(intent, int):
            # The same row only: same id, written by the same run (a replaced journal reuses ids).
            target = conn.execute("SELECT id FROM exchanges WHERE id=? AND owner IS ? AND outcome IN (?, ?)",
                                  (intent, row.get("owner"), Outcome.PENDING.value, Outcome.UNKNOWN.value)
                                  ).fetchone()
        answer = ("status", "response_headers", "response_body", "duration_ms", "outcome", "error_message",
                  "reward_url", "summary")
        if target is not None:
            conn.execute(f"UPDATE exchanges SET {', '.join(f'{n}=?' for n in answer)} WHERE id=?",
                         [*(values[n] for n in answer), target[0]])
            entry_id = int(target[0])
        else:
            names = list(values)
            entry_id = int(conn.execute(f"INSERT INTO exchanges ({', '.join(names)}) VALUES "
                                        f"({', '.join('?' for _ in names)})", [values[n] for n in names]).lastrowid)
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (key, str(entry_id)))
        return entry_id

    # --- intents left by an earlier run -------------------------------------------------

    def _orphaned(self) -> list[JournalEntry]:
        rows = self._conn.execute(
            "SELECT * FROM exchanges WHERE outcome=? AND (owner IS NULL OR owner != ?) ORDER BY id",
            (Outcome.PENDING.value, self._owner)).fetchall()
        # Another running instance is waiting for the answers of its own rows: they are not orphans.
        return [_entry(row) for row in rows if _live_owner_elsewhere(row["owner"]) is None]

    def open_intents(self) -> list[JournalEntry]:
        """Pending rows left by an earlier run (this instance's own in-flight intents excluded)."""
        with self._lock:
            return self._orphaned()

    def recover(self) -> list[JournalEntry]:
        """Mark pending rows of earlier runs 'unknown' and return them. Never deletes or retries."""
        with self._lock:
            orphans = self._orphaned()
            for entry in orphans:
                self._write("UPDATE exchanges SET outcome=?, error_message=?, summary=? WHERE id=? AND outcome=?",
                            (Outcome.UNKNOWN.value, UNKNOWN_AFTER_RESTART,
                             _summary(entry.endpoint, entry.request_body, entry.status, Outcome.UNKNOWN,
                                      entry.reward_url), entry.id, Outcome.PENDING.value))
            return [self.get(e.id) for e in orphans]

    def unresolved(self) -> list[JournalEntry]:
        """Unknown outcomes nobody has resolved yet (for a reminder banner)."""
        return self.query(JournalFilter(outcome=Outcome.UNKNOWN, unresolved_only=True), 0, 1000)

    # --- reading -------------------------------------------------------------------

    def get(self, entry_id: int) -> JournalEntry:
        with self._lock:
            row = self._conn.execute("SELECT * FROM exchanges WHERE id=?", (entry_id,)).fetchone()
        if row is None:
            raise JournalError(f"entry {entry_id} does not exist")
        return _entry(row)

    def _where(self, filters: JournalFilter | Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        f = JournalFilter.of(filters)
        clauses: list[str] = []
        params: list[Any] = []
        if f.profile_id:
            clauses.append("profile_id = ?")
            params.append(f.profile_id)
        if f.endpoint:
            clauses.append("endpoint = ?")
            params.append(str(_enum_value(f.endpoint)))
        if f.outcome:
            outcomes = [f.outcome] if isinstance(f.outcome, str) else [str(_enum_value(o)) for o in f.outcome]
            clauses.append(f"outcome IN ({', '.join('?' for _ in outcomes)})")
            params.extend(outcomes)
        if f.since is not None:
            clauses.append("time >= ?")
            params.append(_time_bound(f.since))
        if f.until is not None:
            clauses.append("time < ?")
            params.append(_time_bound(f.until))
        if f.unresolved_only:
            clauses.append("resolved_note IS NULL")
        text = (f.text or "").strip()
        if text:
            if self.fts and len(text) >= _FTS_MIN:
                clauses.append("id IN (SELECT rowid FROM exchanges_fts WHERE exchanges_fts MATCH ?)")
                params.append('"' + text.replace('"', '""') + '"')
            else:
                pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                clauses.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in _SEARCHED) + ")")
                params.extend([pattern] * len(_SEARCHED))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def count(self, filters: JournalFilter | Mapping[str, Any] | None = None) -> int:
        where, params = self._where(filters)
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM exchanges{where}", params).fetchone()[0])

    def query(self, filters: JournalFilter | Mapping[str, Any] | None = None, offset: int = 0,
              limit: int = 100) -> list[JournalEntry]:
        """Newest first (by the exchange's time, then id)."""
        where, params = self._where(filters)
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM exchanges{where} ORDER BY time DESC, id DESC LIMIT ? OFFSET ?",
                                      [*params, max(0, int(limit)), max(0, int(offset))]).fetchall()
        return [_entry(r) for r in rows]

    def profiles(self) -> list[tuple[str, str]]:
        """(profile_id, name) of every profile with rows, by name; a renamed profile shows its latest name."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT profile_id, profile_name FROM exchanges WHERE id IN "
                "(SELECT MAX(id) FROM exchanges WHERE profile_id IS NOT NULL GROUP BY profile_id)").fetchall()
        return sorted(((r[0], r[1] or r[0]) for r in rows), key=lambda p: (p[1].casefold(), p[0]))

    def _stream(self, filters) -> Iterator[JournalEntry]:
        """Rows oldest first through a separate read-only connection (WAL: writers are not blocked)."""
        where, params = self._where(filters)
        conn = self._connect(self.path, readonly=True)
        try:
            cursor = conn.execute(f"SELECT * FROM exchanges{where} ORDER BY time, id", params)
            while batch := cursor.fetchmany(500):
                for row in batch:
                    yield _entry(row)
        finally:
            conn.close()

    # --- export --------------------------------------------------------------------

    _EXPORT_FIELDS = tuple(c for c in _COLUMNS if c != "owner")

    def export_csv(self, path: Path, filters: JournalFilter | Mapping[str, Any] | None = None) -> int:
        """Stream matching rows to CSV (UTF-8 with BOM for spreadsheets). Returns the row count."""
        count = 0

        def write(handle) -> None:
            nonlocal count
            writer = csv.writer(handle)
            writer.writerow(self._EXPORT_FIELDS)
            for entry in self._stream(filters):
                data = entry.to_dict()
                data["request_headers"] = json.dumps(redact_headers(entry.request_headers), ensure_ascii=False)
                data["response_headers"] = json.dumps(redact_headers(entry.response_headers), ensure_ascii=False)
                data["request_body"] = _dump(entry.request_body)
                writer.writerow([_csv_safe(data[name]) for name in self._EXPORT_FIELDS])
                count += 1

        paths.atomic_write(Path(path), write, newline="", encoding="utf-8-sig")
        return count

    def export_json(self, path: Path, filters: JournalFilter | Mapping[str, Any] | None = None) -> int:
        """Stream matching rows as a JSON array. Returns the row count."""
        count = 0

        def write(handle) -> None:
            nonlocal count
            handle.write("[")
            for entry in self._stream(filters):
                data = entry.to_dict()
                data["request_headers"] = redact_headers(entry.request_headers)
                data["response_headers"] = redact_headers(entry.response_headers)
                handle.write(("\n  " if count == 0 else ",\n  ") + json.dumps(data, ensure_ascii=False))
                count += 1
            handle.write("\n]\n")

        paths.atomic_write(Path(path), write, newline="", encoding="utf-8")
        return count


def _csv_safe(value: Any) -> Any:
    """Keep spreadsheets from running formulas a hostile endpoint put in a response."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
