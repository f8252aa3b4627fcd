"""The ``moments`` command line: a second face of ``core/session.py``, for scripts and CI pipelines.

It parses, asks the Session, renders through ``core/render.py`` and maps the answer to an exit code; it
decides no rule of its own. Everything heavy is imported by the command that needs it, so ``moments info``
starts about as fast as a plain HTTP client (see tests/bench/bench_cli.py).
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from .main import run

    return run(argv)
