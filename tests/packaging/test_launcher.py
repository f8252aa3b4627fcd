"""The frozen bundle's entry script serves both faces: the window as ``moments-desktop`` and the command
line when started as ``moments`` (the .deb links /usr/bin/moments to the same binary). Run here through a
symlink to the script itself, which is what the symlink to the frozen binary gives it: argv[0]."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LAUNCHER = Path(__file__).resolve().parents[2] / "packaging" / "launcher.py"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlinks stand in for the installed link")


def _run(link: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MOMENTS_DESKTOP_HOME": str(home)}
    return subprocess.run([sys.executable, str(link), *args], capture_output=True, text=True, timeout=60, env=env)


def test_started_as_moments_it_is_the_command_line(tmp_path):
    link = tmp_path / "moments"
    link.symlink_to(LAUNCHER)
    version = _run(link, "--version", home=tmp_path / "home")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("moments ")
    unknown = _run(link, "info", "--profile", "no such profile", home=tmp_path / "home")
    assert unknown.returncode == 2
    assert "no profile named" in unknown.stderr


def test_started_under_its_own_name_it_is_the_app(tmp_path):
    link = tmp_path / "moments-desktop"
    link.symlink_to(LAUNCHER)
    version = _run(link, "--version", home=tmp_path / "home")
    assert version.returncode == 0, version.stderr
    assert not version.stdout.startswith("moments "), "the app answered as the command line"
