"""Helpers of the command-line tests (tests/cli/), importable as ``cli_helpers`` from any test in this folder.

The fixtures that use them are in tests/cli/conftest.py. Everything here drives the real thing: the CLI as a
subprocess (``python -m moments_desktop.cli``), a real home folder (``MOMENTS_DESKTOP_HOME``), the real
keyring, real files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from read_only_folder import make_unwritable  # noqa: F401 - tests/read_only_folder.py, shared with the window's tests

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


# --- the keychain, as the tests themselves read and write it ------------------------------------------
# Always the Secret Service backend itself, never keyring's default (``keyring.get_password``,
# ``CredentialStore()``): that chainer uses every KeyringBackend subclass imported in this process, and other
# test modules define fake ones (tests/core/test_keychain_states.py has one that blocks until released), which
# a whole-suite run has imported by the time the CLI tests run. The CLI subprocesses choose their own backend.

def secret_service():
    """The Secret Service backend itself (keyring's ``SecretService.Keyring``), for the tests' own reads,
    writes and clean-ups."""
    from keyring.backends import SecretService

    return SecretService.Keyring()


def secret_service_credentials():
    """The app's CredentialStore over the Secret Service backend: a key stored through it is stored exactly as
    the app stores one (same service name, same username), with no chainer in between."""
    from moments_desktop.core.credentials import CredentialStore

    return CredentialStore(secret_service())


def stored_key(profile_id: str) -> str | None:
    """The key the keychain holds for ``profile_id`` (None when there is none)."""
    from moments_desktop.core.credentials import SERVICE

    return secret_service().get_password(SERVICE, profile_id)


def forget_key(profile_id: str) -> None:
    """Delete the key of ``profile_id`` from the keychain; nothing to delete is fine."""
    import keyring.errors

    from moments_desktop.core.credentials import SERVICE

    try:
        secret_service().delete_password(SERVICE, profile_id)
    except keyring.errors.PasswordDeleteError:
        pass


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


# --- more helpers of the info/claim tests ------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("MOMENTS_REGENERATE_GOLDEN") == "1"
_LOOPBACK_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
_REDEEM_CODE = re.compile(r"/redeem/[A-Za-z0-9-]+")
_USER_AGENT = re.compile(r"MomentsDesktop/[^\s\"]+")
# Keys whose values vary from run to run: replaced by a word saying what they were.
_VARYING = {"duration_ms": "DURATION", "journal_id": "JOURNAL_ID", "rescue_path": "RESCUE_PATH"}


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released: the kernel does not hand it out again soon)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def normalised(value: Any, *, profile_ids: Iterable[str] = ()) -> Any:
    """A --json document with what varies between runs made constant: loopback ports, redeem codes, the
    app's version in the User-Agent, the profile's random id, and the values of duration_ms, journal_id and rescue_path (kept None when None)."""
    ids = tuple(profile_ids)

    def walk(item: Any, key: str | None = None) -> Any:
        if key in _VARYING and item is not None:
            return _VARYING[key]
        if isinstance(item, dict):
            return {k: walk(v, k) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, str):
            text = _REDEEM_CODE.sub("/redeem/CODE", _LOOPBACK_PORT.sub(r"\1:PORT", item))
            text = _USER_AGENT.sub("MomentsDesktop/VERSION", text)
            for profile_id in ids:
                text = text.replace(profile_id, "PROFILE_ID")
            return text
        return item
    return walk(value)


def check_golden(name: str, document: dict[str, Any], *, profile_ids: Iterable[str] = ()) -> None:
    """Compare a --json document, normalised, with tests/cli/golden/NAME.json; MOMENTS_REGENERATE_GOLDEN=1
    rewrites the file instead (read its diff before committing it)."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(normalised(document, profile_ids=profile_ids), ensure_ascii=False, indent=2) + "\n"
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert path.is_file(), f"{path.name} is missing: regenerate with MOMENTS_REGENERATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs:\n{text}"


def wait_for(predicate: Callable[[], Any], timeout_s: float = 20.0, what: str = "the condition") -> Any:
    """Poll ``predicate`` until it returns something true (returned), failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:g} s")
        time.sleep(0.02)


def journal_path(home: Path) -> Path:
    return Path(home) / "data" / "journal.sqlite3"


def journal_entries(home: Path, **filters: Any) -> list:
    """The journal's rows (JournalEntry, newest first), read with the app's own Journal class."""
    from moments_desktop.core.journal import Journal

    path = journal_path(home)
    if not path.exists():
        return []
    with Journal(path) as journal:
        return journal.query(filters or None)


