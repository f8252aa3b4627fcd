"""`moments_desktop.selftest` in source-tree mode, run as a user would: a subprocess.

The frozen bundle and the .deb are checked by packaging/ci-package-test.sh (needs root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CMD = [sys.executable, "-c", "import moments_desktop.selftest as s; raise SystemExit(s.main())"]
CHECKS = ("qt-platform", "image-formats", "resources", "sandbox-roundtrip", "keyring", "trust-store")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # selftest must pick offscreen itself when there is no display
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(extra)
    return env


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_selftest_passes_in_source_tree() -> None:
    proc = _run(CMD, _env())
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    for name in CHECKS:
        assert f"PASS {name}:" in out, out
    assert "FAIL" not in out
    assert "platform 'offscreen'" in out
    assert str(ROOT / "resources" / "catalog.json") in out
    assert "getRewardInfo OK" in out
    assert "jpeg, png, webp" in out
    assert "PASS message-preview: python-liquid" in out


def test_selftest_reports_failure_with_exit_1_and_keeps_going(tmp_path: Path) -> None:
    """A broken check prints FAIL with a reason, the others still run, and the exit code is 1."""
    script = (
        "import moments_desktop.selftest as s\n"
        "def broken(): raise FileNotFoundError('catalog.json went missing')\n"
        "s.CHECKS[2] = ('resources', broken)\n"
        "raise SystemExit(s.main())\n"
    )
    proc = _run([sys.executable, "-c", script], _env())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL resources: FileNotFoundError: catalog.json went missing" in proc.stdout
    assert "PASS keyring:" in proc.stdout  # later checks still ran
    assert "6/7 checks passed" in proc.stdout
    assert "Traceback" not in proc.stderr


_KEYRING_TOOLS = all(shutil.which(t) for t in ("dbus-run-session", "gnome-keyring-daemon"))


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _KEYRING_TOOLS,
                    reason="needs dbus-run-session and gnome-keyring-daemon (Linux)")
@pytest.mark.parametrize("forced_backend, expect_rc, expect", [
    (None, 0, "PASS keyring: Secret Service"),
    # What a frozen build without keyring's entry points looks like: must be a FAIL, not a shrug.
    ("keyring.backends.fail.Keyring", 1, "FAIL keyring: None (no keychain found)"),
])
def test_keyring_check_against_a_real_secret_service(tmp_path: Path, forced_backend, expect_rc, expect) -> None:
    extra = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    if forced_backend:
        extra["PYTHON_KEYRING_BACKEND"] = forced_backend
    inner = (
        "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "
        + " ".join(f"'{c}'" for c in CMD)
    )
    proc = _run(["dbus-run-session", "--", "sh", "-c", inner], _env(**extra))
    assert proc.returncode == expect_rc, proc.stdout + proc.stderr
    assert expect in proc.stdout, proc.stdout
