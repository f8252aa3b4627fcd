"""Where the app keeps its files.

platformdirs picks the per-user locations; MOMENTS_DESKTOP_HOME relocates everything
(config/, data/, logs/, cache/ under it) for tests and portable installs. Directories are
created on first use, never at import, and are private to the user (0700 on POSIX; an existing
one is tightened to 0700): the journal holds paid-for reward URLs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import platformdirs

APP_NAME = "moments-desktop"
APP_AUTHOR = "MomentsDesktop"
HOME_ENV = "MOMENTS_DESKTOP_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else None


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def restrict_dir(path: Path) -> None:
    """Make ``path`` (a directory of ours) 0700 on POSIX; a failure to tighten it is not fatal."""
    if os.name != "posix":
        return
    try:
        if path.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
            os.chmod(path, PRIVATE_DIR_MODE)
    except OSError:
        pass


def restrict_file(path: Path) -> None:
    """Make ``path`` (a file of ours) 0600 on POSIX; a failure to tighten it is not fatal."""
    if os.name != "posix":
        return
    try:
        if Path(path).stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
            os.chmod(path, PRIVATE_FILE_MODE)
    except OSError:
        pass


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; raises OSError when it cannot be a directory."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    restrict_dir(path)
    return path


_ensure = ensure_private_dir


def config_location() -> Path:
    """Where config_dir() is, without creating it (for messages, and when it cannot be created)."""
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def data_location() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def log_location() -> Path:
    home = _home()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def cache_location() -> Path:
    """Downloaded files we can fetch again (reward images): safe to delete."""
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))


def config_dir() -> Path:
    return _ensure(config_location())


def data_dir() -> Path:
    return _ensure(data_location())


def log_dir() -> Path:
    return _ensure(log_location())


def cache_dir() -> Path:
    return _ensure(cache_location())


def profiles_path() -> Path:
    return config_dir() / "profiles.json"


def journal_path() -> Path:
    return data_dir() / "journal.sqlite3"


def atomic_write(path: Path, write: Callable[[TextIO], object], *, encoding: str = "utf-8",
                 newline: str = "\n") -> None:
    """Write through `write(handle)` so a crash leaves either the old file or the new one.

    Temp file in the same directory, fsync, os.replace, then fsync the directory where
    the platform allows it (not on Windows).
    """
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write(path, lambda handle: handle.write(text), encoding=encoding)


def fsync_dir(directory: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
