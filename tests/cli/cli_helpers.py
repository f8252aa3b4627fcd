"""Helpers of the command-line tests (tests/cli/), importable as ``cli_helpers`` from any test in this folder.

The fixtures that use them are in tests/cli/conftest.py. Everything here drives the real thing: the CLI as a
subprocess (``python -m moments_desktop.cli``), a real home folder (``MOMENTS_DESKTOP_HOME``), the real
keyring, real files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
HOME_ENV = "MOMENTS_DESKTOP_HOME"
# Every subprocess gets this long at most; a CLI that hangs fails its test instead of the whole run.
CLI_TIMEOUT_S = 60.0
# Environment variables a test run must not pass to the CLI: none of them should matter, and a developer's
# own home or a CI variable must never make a test pass.
_DROPPED_ENV = (HOME_ENV, "PYTHONSTARTUP", "PYTHONWARNINGS")


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "moments_desktop.cli", *map(str, args)]


def cli_env(home: Path, env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The subprocess's environment: ours (the test D-Bus session, so the same keyring), with
    ``MOMENTS_DESKTOP_HOME`` set to ``home``; ``env`` adds to it (a value of None removes a variable)."""
    merged = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    merged[HOME_ENV] = str(home)
    merged["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    merged.setdefault("PYTHONIOENCODING", "utf-8")
    for name, value in (env or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def run_cli_in(home: Path, *args: str, input: str | None = None, env: Mapping[str, str | None] | None = None,
               timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run ``moments ARGS`` to its end with its own home; stdout/stderr captured as text; never raises
    for an exit code (tests assert ``returncode``). ``input`` is written to its stdin (else stdin is empty)."""
    return subprocess.run(cli_command(*args), cwd=REPO_ROOT, env=cli_env(home, env), input=input if input is not
                          None else "", capture_output=True, text=True, encoding="utf-8", timeout=timeout,
                          check=False)


def start_cli_in(home: Path, *args: str, env: Mapping[str, str | None] | None = None) -> subprocess.Popen[str]:
    """Start ``moments ARGS`` without waiting (to interrupt it, or to run it beside something else);
    pipes for stdin/stdout/stderr. The caller must end it: ``proc.communicate(timeout=CLI_TIMEOUT_S)``."""
    return subprocess.Popen(cli_command(*args), cwd=REPO_ROOT, env=cli_env(home, env), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")


def json_output(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The --json document a run printed on stdout (the whole of stdout must be that one document)."""
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"stdout is not one JSON document:\n{result.stdout}\nstderr:\n{result.stderr}") from None


def files_under(home: Path) -> Iterable[Path]:
    return (p for p in Path(home).rglob("*") if p.is_file())


def assert_secret_absent(secret: str, *results: subprocess.CompletedProcess[str] | str | bytes,
                         home: Path | None = None) -> None:
    """``secret`` (an API key) appears in none of ``results`` (completed runs: their stdout and stderr; or
    plain text), nor in the bytes of any file under ``home`` (the journal, the rescue file, the logs)."""
    assert secret, "assert_secret_absent needs the secret itself"
    for result in results:
        if isinstance(result, subprocess.CompletedProcess):
            texts = {"stdout": result.stdout or "", "stderr": result.stderr or ""}
        else:
            texts = {"text": result.decode("utf-8", "replace") if isinstance(result, bytes) else result}
        for where, text in texts.items():
            assert secret not in text, f"the API key appears in {where}:\n{text}"
    if home is not None:
        encoded = secret.encode()
        for path in files_under(home):
            assert encoded not in path.read_bytes(), f"the API key appears in {path}"
