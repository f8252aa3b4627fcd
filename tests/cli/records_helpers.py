"""Running ``moments`` as a real subprocess with a home of the test's own, for the records commands' tests
(history, export, profiles, key, sandbox).

Each call is ``python -m moments_desktop.cli …`` with ``MOMENTS_DESKTOP_HOME`` set to the test's folder, so
the profiles, journal and logs are the test's; the keychain is the one the test session runs (a private
gnome-keyring under ``scripts/dev.py test``), or the one ``PYTHON_KEYRING_BACKEND`` names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The keychain helpers are shared with the other CLI tests (tests/cli/cli_helpers.py): the Secret Service
# backend itself, never keyring's chainer.
from cli_helpers import forget_key, secret_service, stored_key  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 60
# A key no output may ever show: the tests store it (or type it) and grep every output for it.
SECRET_MARK = "SeCrEt-Do-Not-Print"


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def cli_env(home: Path, **extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MOMENTS_API_KEY", "PYTHON_KEYRING_BACKEND")}
    env["MOMENTS_DESKTOP_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("http_proxy", None), env.pop("HTTP_PROXY", None), env.pop("all_proxy", None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def moments(home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Ran:
    """Run ``moments ARGS`` to its end; stdin is ``stdin`` (or empty), never a terminal."""
    done = subprocess.run([sys.executable, "-m", "moments_desktop.cli", *args], input=stdin or "",
                          capture_output=True, text=True, env=env or cli_env(home), timeout=CLI_TIMEOUT_S,
                          cwd=home)
    return Ran(done.returncode, done.stdout, done.stderr)


def profile_entry(name: str, base_url: str, body: dict[str, str], *, live: bool = False,
                  profile_id: str | None = None, **settings: Any) -> dict[str, Any]:
    return {"id": profile_id or f"test-{uuid.uuid4().hex[:12]}", "name": name, "base_url": base_url,
            **body, "live": live, **settings}


def write_profiles_file(path: Path, *entries: dict[str, Any]) -> Path:
    """A profiles export as the window writes one (format, schema version, the profiles)."""
    path.write_text(json.dumps({"format": "moments-desktop-profiles", "schema_version": 1,
                                "profiles": list(entries)}, indent=2), encoding="utf-8")
    return path


def import_profiles(home: Path, tmp_path: Path, *entries: dict[str, Any]) -> None:
    path = write_profiles_file(tmp_path / f"import-{uuid.uuid4().hex[:6]}.json", *entries)
    ran = moments(home, "profiles", "import", str(path))
    assert ran.code == 0, ran.output


def journal_path(home: Path) -> Path:
    """Where the CLI (and the window) keep the journal under MOMENTS_DESKTOP_HOME."""
    code = ("from moments_desktop.core import startup; print(startup.journal_location())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(home),
                          timeout=CLI_TIMEOUT_S, check=True)
    return Path(done.stdout.strip())
