"""A folder that refuses new files, for the tests of a data folder the app cannot write (the window's and the
command line's)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


def make_unwritable(folder: Path) -> Callable[[], None]:
    """Make ``folder`` refuse new files (chmod, or chattr +i as root); returns the undo. Skips if impossible."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o500)
        undo = lambda: folder.chmod(0o700)  # noqa: E731
    elif shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        undo = lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)  # noqa: E731
    else:
        pytest.skip("running as root without chattr +i: no way to make a folder read-only here")
    try:
        (folder / "probe").touch()
    except OSError:
        return undo
    (folder / "probe").unlink()
    undo()
    pytest.skip(f"{folder} is still writable after chmod/chattr on this file system")
