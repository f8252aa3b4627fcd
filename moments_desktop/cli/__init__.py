"""The ``moments`` command line: a second face of ``core/session.py``, for scripts and CI pipelines.

It parses, asks the Session, renders through ``core/render.py`` and maps the answer to an exit code; it
decides no rule of its own. Everything heavy is imported by the command that needs it, so ``moments info``
starts about as fast as a plain HTTP client (see tests/bench/bench_cli.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


INTERRUPTED = 130  # ExitCode.INTERRUPTED, before anything else is imported


def main(argv: Sequence[str] | None = None) -> int:
    try:
        _standard_streams_held()
        from .main import run

        return run(argv)
    except KeyboardInterrupt:  # Ctrl+C while importing, before run() could catch it
        try:
            sys.stderr.write("moments: interrupted\n")
        except (AttributeError, OSError, ValueError):
            pass
        return INTERRUPTED


def _standard_streams_held() -> None:
    """A descriptor 0-2 the process started without is pointed at /dev/null: else the next file opened (the
    history's SQLite database) would get it, and a stray write to stderr would land in that file."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if opened != fd:
                os.close(opened)
