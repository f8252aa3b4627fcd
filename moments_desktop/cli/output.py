"""Where the command line writes: results on stdout, one-line errors and progress on stderr.

``--json`` output is a versioned document (``"schema": 1``, then ``"command"``, then the command's own keys,
documented in the README's "Command line" section and pinned by golden files). Progress is written only when
stderr is a terminal: a pipeline's log gets nothing decorative.

Writing never fails a command: a result is already decided (a claim already sent) when it is printed, so a
stdout that cannot take it — closed (``>&-``), full (``>/dev/full``), a reader gone (``| head``), an encoding
without the reward text's characters — is noted (``stdout_problem``) and the command's own exit code stands.
A claim then names its journal entry and URL on stderr (cli/calls.py).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

JSON_SCHEMA = 1
PROG = "moments"


class UsageError(Exception):
    """A wrong argument the parser could not see (an unknown profile, a claim not confirmed): exit 2."""


class Output:
    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None):
        # sys.stdout is None when the process started with stdout closed: written to as to /dev/null.
        self.stdout: TextIO | None = stdout if stdout is not None else sys.stdout
        self.stderr: TextIO | None = stderr if stderr is not None else sys.stderr
        self.stdout_problem: str | None = None if self.stdout is not None else "stdout is closed"
        self._stderr_lost = self.stderr is None
        self._live_shown = False  # a ``live`` line is on stderr, not yet ended by a newline
        for stream in (self.stdout, self.stderr):
            _replace_unencodable(stream)

    @property
    def interactive(self) -> bool:
        isatty = getattr(self.stderr, "isatty", None)
        try:
            return bool(isatty and isatty())
        except (OSError, ValueError):
            return False

    def line(self, text: str = "") -> None:
        self._out(text + "\n")

    def json(self, command: str, payload: dict[str, Any]) -> None:
        document = {"schema": JSON_SCHEMA, "command": command, **payload}
        # UTF-8 when the stream takes it; else \u escapes, still the same JSON document.
        ascii_only = not _encodes(self.stdout, json.dumps(document, ensure_ascii=False))
        self._out(json.dumps(document, ensure_ascii=ascii_only, indent=2) + "\n")

    def progress(self, text: str) -> None:
        """A note while something takes time ("Sending getRewardInfo…"): only on a terminal."""
        if self.interactive:
            self._err(text + "\n")

    def note(self, text: str) -> None:
        """A line a log should keep ("48 combinations, about 11 s…", a sweep's progress every ~10 %): on
        stderr whether or not it is a terminal, never prefixed like an error."""
        self.end_live()
        self._err(_one_line(text) + "\n")

    def live(self, text: str) -> None:
        """A status line redrawn in place (a sweep's progress): only on a terminal; ``end_live`` ends it."""
        if self.interactive:
            self._err("\r" + _one_line(text) + "\x1b[K")
            self._live_shown = True

    def end_live(self) -> None:
        """End a ``live`` line, so that what follows starts on its own line."""
        if self._live_shown:
            self._live_shown = False
            self._err("\n")

    def warning(self, text: str) -> None:
        self.end_live()
        self._err(f"{PROG}: warning: {_one_line(text)}\n")

    def error(self, text: str) -> None:
        self.end_live()
        self._err(f"{PROG}: {_one_line(text)}\n")

    @property
    def stderr_works(self) -> bool:
        return not self._stderr_lost

    def _out(self, text: str) -> None:
        if self.stdout_problem is not None:
            return  # closed, full or gone: what follows would fail (or interleave) the same way
        try:
            self.stdout.write(text)
            self.stdout.flush()  # now, not at exit: a failure must be seen while the exit code can stand
        except BrokenPipeError:
            self.stdout_problem = "the program reading stdout went away"
            _silence(self.stdout)
        except (OSError, ValueError, UnicodeError) as exc:
            self.stdout_problem = f"stdout could not be written ({_one_line(exc) or type(exc).__name__})"
            _silence(self.stdout)

    def _err(self, text: str) -> None:
        if self._stderr_lost:
            return
        try:
            self.stderr.write(text)
            self.stderr.flush()
        except (OSError, ValueError, UnicodeError):
            self._stderr_lost = True
            _silence(self.stderr)


def _replace_unencodable(stream: TextIO | None) -> None:
    """Text the stream's encoding lacks comes out as \\N escapes instead of failing the write."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (OSError, ValueError, TypeError):
            pass


def _encodes(stream: TextIO | None, text: str) -> bool:
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return True  # a StringIO and the like take any text
    try:
        text.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def _silence(stream: TextIO | None) -> None:
    """Point the stream's descriptor at /dev/null, so that what its buffer still holds (flushed again at
    exit) cannot fail the process a second time."""
    try:
        fd = stream.fileno()  # type: ignore[union-attr]
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _one_line(text: object) -> str:
    return " ".join(str(text).split())
