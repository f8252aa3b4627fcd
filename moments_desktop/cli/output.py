"""Where the command line writes: results on stdout, one-line errors and progress on stderr.

``--json`` output is a versioned document (``"schema": 1``, then ``"command"``, then the command's own keys,
documented in the README's "Command line" section and pinned by golden files). Progress is written only when
stderr is a terminal: a pipeline's log gets nothing decorative.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

JSON_SCHEMA = 1
PROG = "moments"


class UsageError(Exception):
    """A wrong argument the parser could not see (an unknown profile, a claim not confirmed): exit 2."""


class Output:
    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    @property
    def interactive(self) -> bool:
        isatty = getattr(self.stderr, "isatty", None)
        return bool(isatty and isatty())

    def line(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def json(self, command: str, payload: dict[str, Any]) -> None:
        document = {"schema": JSON_SCHEMA, "command": command, **payload}
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")

    def progress(self, text: str) -> None:
        """A note while something takes time ("Sending getRewardInfo…"): only on a terminal."""
        if self.interactive:
            self.stderr.write(text + "\n")
            self.stderr.flush()

    def warning(self, text: str) -> None:
        self.stderr.write(f"{PROG}: warning: {_one_line(text)}\n")

    def error(self, text: str) -> None:
        self.stderr.write(f"{PROG}: {_one_line(text)}\n")
        self.stderr.flush()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
