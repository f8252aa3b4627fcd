"""Where the app keeps its files.

platformdirs picks the per-user locations; MOMENTS_DESKTOP_HOME relocates everything
(config/, data/, logs/ under it) for tests and portable installs. Directories are
created on first use, never at import.
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


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    home = _home()
    return _ensure(home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)))


def data_dir() -> Path:
    home = _home()
    return _ensure(home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)))


def log_dir() -> Path:
    home = _home()
    return _ensure(home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)))


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
