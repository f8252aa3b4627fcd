"""Opening the journal and the profiles at start-up, whatever state the disk is in. No Qt here.

Each start-up state is told apart here and decided by the caller (app.py asks the user):

- the journal is not a database (random bytes, a truncated copy): ``JournalCorrupt``; the caller may
  ``set_journal_aside`` (renamed with a timestamp, never deleted) and open a new one;
- another process holds its write lock: ``JournalLocked``; the caller probes again (each probe is
  short, so waiting never blocks a thread for long) or opens it read-only (``ReadOnlyJournal``) when
  it can be read;
- the data folder (or the file) cannot be written: ``JournalUnwritable``; the app runs with claims
  turned off (no intent could be written before a getReward), on the journal opened read-only when it
  can be read, else on a temporary one (``TemporaryJournal``) that keeps this session's previews.

Every call here blocks (SQLite, the disk): run it through a worker thread.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import paths
from .journal import Journal, JournalError, _identity
from .profiles import ProfileStore

JOURNAL_FILE_NAME = "journal.sqlite3"  # as paths.journal_path(), which creates the folder
# One probe waits this long for the lock; the caller probes again while the user waits.
PROBE_TIMEOUT_S = 0.25

READ_ONLY_HISTORY = "the history was opened read-only"
CLAIMS_OFF_UNWRITABLE = ("Claims are turned off: the data folder {folder} cannot be written, so the app "
                         "could not record a claim before sending it, and a reward URL could be lost. "
                         "Previews still work.")
CLAIMS_OFF_READ_ONLY = ("Claims are turned off: the history {file} is open read-only (another program "
                        "holds it), so the app could not record a claim before sending it. Previews "
                        "work but are not added to the history.")
CLAIMS_OFF_TEMPORARY = ("Claims are turned off: the history could not be opened ({why}), so nothing can "
                        "be recorded before a claim is sent. Previews are kept in a temporary history "
                        "until you quit.")


class JournalProblem(Exception):
    """Why the journal at ``path`` could not be opened for writing."""

    def __init__(self, path: Path, detail: str):
        self.path = Path(path)
        self.detail = detail
        super().__init__(f"{path}: {detail}")


class JournalCorrupt(JournalProblem):
    """The file is not an SQLite database (or is damaged beyond reading)."""


class JournalLocked(JournalProblem):
    """Another process holds the write lock; ``readable`` says whether a read-only open works."""

    def __init__(self, path: Path, detail: str, readable: bool):
        super().__init__(path, detail)
        self.readable = readable


class JournalUnwritable(JournalProblem):
    """The file or its folder cannot be created or written (read-only mount, permissions)."""


def _classify(path: Path, exc: BaseException) -> JournalProblem:
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in lowered or "malformed" in lowered
                                                   or "file is encrypted" in lowered):
        return JournalCorrupt(path, text)
    if "locked" in lowered or "busy" in lowered:
        return JournalLocked(path, text, readable=_readable(path))
    if isinstance(exc, JournalError) and ("not a database" in lowered or "malformed" in lowered):
        return JournalCorrupt(path, text)
    return JournalUnwritable(path, text)


def journal_location() -> Path:
    """The journal's path, without creating its folder (creating it may be what fails)."""
    return paths.data_location() / JOURNAL_FILE_NAME


def probe_journal(path: Path) -> None:
    """Raise the JournalProblem that opening ``path`` for writing would meet, within PROBE_TIMEOUT_S.

    Creates the folder (0700) when missing. A missing file is fine (the journal creates it)."""
    try:
        paths.ensure_private_dir(path.parent)
    except OSError as exc:
        raise JournalUnwritable(
            path, f"the folder {path.parent} cannot be created ({exc.strerror or exc})") from exc
    if not path.exists():
        try:  # can a file be created there? (a read-only folder, a full disk)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".probe-"):
                pass
        except OSError as exc:
            raise JournalUnwritable(
                path, f"the folder {path.parent} cannot be written ({exc.strerror or exc})") from exc
        return
    try:
        conn = sqlite3.connect(path, timeout=PROBE_TIMEOUT_S, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _classify(path, exc) from exc
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("BEGIN IMMEDIATE")  # the write lock: what a claim's intent needs
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise _classify(path, exc) from exc
    finally:
        conn.close()


def open_journal(path: Path, *, recover: bool = False) -> Journal:
    """Probe, then open the journal for writing; a JournalProblem says why not."""
    probe_journal(path)
    try:
        return Journal(path, recover=recover)
    except (sqlite3.Error, JournalError, OSError) as exc:  # e.g. locked between the probe and the open
        raise _classify(path, exc) from exc


def rescue_notice(journal: Journal) -> str | None:
    """What the banner says when this start brought answers in from the rescue file (claims whose answers
    the history could not take last time), or could not yet."""
    if journal.rescue_error is not None:
        return (f"Some reward answers are still waiting in {journal.rescue.path} to be added to the history "
                f"({journal.rescue_error.reason}). They are safe there; the app adds them as soon as it can.")
    rescued = [entry for entry in journal.rescued if entry.endpoint == "GetReward"] or journal.rescued
    if not rescued:
        return None
    count = len(rescued)
    answers = "1 reward answer" if count == 1 else f"{count} reward answers"
    return (f"{answers} that the history could not record when {'it' if count == 1 else 'they'} arrived "
            f"{'was' if count == 1 else 'were'} added to it now. Open the History tab to see "
            f"{'its' if count == 1 else 'their'} reward URL{'' if count == 1 else 's'}.")


def _readable(path: Path) -> bool:
    try:
        journal = ReadOnlyJournal(path)
    except (sqlite3.Error, OSError):
        return False
    journal.close()
    return True


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def set_journal_aside(path: Path) -> Path:
    """Rename a damaged journal (and its -wal/-shm files) to ``<name>.corrupt-<time>``; return the new path.
    Nothing is deleted: whoever wants to try to rescue rows from it still can."""
    target = path.with_name(f"{path.name}.corrupt-{_stamp()}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{_stamp()}-{n}")
        n += 1
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    return target


class ReadOnlyJournal(Journal):
    """The journal opened read-only (another process holds its write lock, or its folder is read-only).

    History can be read and exported. An intent cannot be written, so the Session refuses claims
    (``claims_disabled_reason``); a preview's exchange is not added (previews are free, and the app says
    so in its banner) rather than failing the preview."""

    read_only = True

    def __init__(self, path: Path):
        self._init_state(Path(path))
        # "ro" first; in a read-only folder a WAL database without its -shm file opens only as immutable.
        self._uri_options = "mode=ro"
        try:
            self._conn = self._checked_connection()
        except sqlite3.OperationalError:
            self._uri_options = "mode=ro&immutable=1"
            self._conn = self._checked_connection()
        self.fts = self._conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'exchanges_fts'").fetchone()[0] > 0
        self._identity = _identity(self.path)
        # The rescue file is merged by the next run that can write the journal: it stays where it is.

    def _checked_connection(self) -> sqlite3.Connection:
        conn = self._connect(self.path, readonly=True)
        try:
            conn.execute("SELECT count(*) FROM exchanges").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect(self, path: Path, *, readonly: bool = True) -> sqlite3.Connection:  # type: ignore[override]
        """Every connection read-only (history pages and exports open their own)."""
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?{self._uri_options}", uri=True,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        return conn

    def _insert(self, row, **_options) -> int:  # noqa: ANN001 - Journal's row dict (and its busy timeout)
        return 0  # not recorded: see the class docstring

    def recover(self):  # noqa: ANN201 - nothing can be marked unknown in a file we may not write
        return []

    def merge_rescue(self):  # noqa: ANN201 - nor can a rescued answer be written into it
        return []


class TemporaryJournal(Journal):
    """A journal in a temporary folder, removed on close: the history of this session only."""

    temporary = True

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="moments-desktop-journal-"))
        super().__init__(self._folder / "journal.sqlite3")

    def close(self) -> None:
        super().close()
        shutil.rmtree(self._folder, ignore_errors=True)


@dataclass
class OpenedJournal:
    journal: Journal
    claims_disabled_reason: str | None = None
    notice: str | None = None  # what the banner says about it


def fallback_journal(problem: JournalProblem) -> OpenedJournal:
    """The journal to run on when the real one cannot be written: read-only when it can be read, else a
    temporary one. Claims are turned off either way."""
    if isinstance(problem, JournalUnwritable):
        reason = CLAIMS_OFF_UNWRITABLE.format(folder=problem.path.parent)
    else:
        reason = CLAIMS_OFF_READ_ONLY.format(file=problem.path)
    if problem.path.exists() and not isinstance(problem, JournalCorrupt):
        try:
            journal = ReadOnlyJournal(problem.path)
        except (sqlite3.Error, OSError):
            pass
        else:
            if isinstance(problem, JournalUnwritable):
                reason += " The history is shown read-only; previews are not added to it."
            return OpenedJournal(journal, reason, reason)
    if isinstance(problem, JournalUnwritable):
        reason += " This session's previews are kept in a temporary history until you quit."
    else:
        reason = CLAIMS_OFF_TEMPORARY.format(why=problem.detail)
    return OpenedJournal(TemporaryJournal(), reason, reason)


def profiles_location() -> Path:
    return paths.config_location() / "profiles.json"


def load_profiles(path: Path | None = None) -> ProfileStore:
    """ProfileStore of ``path`` (default: the config folder's profiles.json); blocking, linear in its size.

    The store sets a damaged file aside itself; a config folder that cannot be created is said in a
    load warning and the app starts with the built-in profile (saving then fails with its own message)."""
    if path is None:
        try:
            path = paths.profiles_path()
        except OSError as exc:
            path = profiles_location()
            store = ProfileStore(path)
            store.load_warnings.append(
                f"The settings folder {path.parent} cannot be created ({exc.strerror or exc}): profiles "
                "cannot be saved in this session.")
            return store
    return ProfileStore(path)
