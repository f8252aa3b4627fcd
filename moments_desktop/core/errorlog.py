"""The one log file for unexpected errors.

Used by the app's crash reporter (exceptions nobody caught) and by the places that catch an
unexpected exception and show a short UnexpectedError instead: either way the traceback is
kept in the file, never shown. API keys never reach it: they live only in the keyring and in
the client's request headers, and no exception message is built from either.
"""

from __future__ import annotations

import datetime
import os
import traceback
from pathlib import Path

from . import paths
from .errors import UnexpectedError

LOG_FILE_NAME = "moments-desktop.log"


def log_path() -> Path:
    """$MOMENTS_DESKTOP_HOME/logs/moments-desktop.log, else in the platform's user log folder."""
    return paths.log_dir() / LOG_FILE_NAME


def write(details: str) -> Path | None:
    """Append ``details`` with a timestamp; the file's path, or None when it cannot be written."""
    from moments_desktop import APP_NAME, __version__

    try:
        path = log_path()
        stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        # 0600 from its creation: a traceback may quote a profile's endpoint or a reward URL.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, paths.PRIVATE_FILE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"=== {stamp} {APP_NAME} {__version__} ===\n{details}\n")
        paths.restrict_file(path)  # a log written by an older version may be 0644
    except OSError:
        return None
    return path


def log_exception(exc: BaseException, context: str = "") -> Path | None:
    """Append ``exc`` with its traceback (for errors that are shown to the user as a short message)."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return write(f"{context}\n{details}" if context else details)


def unexpected(exc: BaseException, context: str = "") -> UnexpectedError:
    """Log ``exc`` with its traceback and return the short error to show in its place."""
    written = log_exception(exc, context)
    where = f" Details are in {written}." if written else ""
    return UnexpectedError(type(exc).__name__, advice=UnexpectedError.advice + where)
