"""Resource files are found from the source checkout and from an installed wheel."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import moments_desktop
from moments_desktop.core.resources import resource_path

ROOT = Path(__file__).resolve().parent.parent
# What the wheel build needs from the checkout (copied so the build leaves no build/ or egg-info here).
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "moments_desktop", "resources")

PROBE = """
import json, sys
import moments_desktop
from moments_desktop.core.resources import resource_path
print(json.dumps({
    "package": moments_desktop.__file__,
    "catalog": str(resource_path("catalog.json")),
    "image": str(resource_path("rewards", "headphones.png")),
}))
"""


def test_resources_found_in_source_checkout():
    if Path(moments_desktop.__file__).resolve().parent != ROOT / "moments_desktop":
        pytest.skip("moments_desktop is not imported from this checkout (installed non-editable?)")
    assert resource_path("catalog.json") == ROOT / "resources" / "catalog.json"
    assert resource_path("rewards", "headphones.png").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, source / name)
    out = tmp_path_factory.mktemp("wheelhouse")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--disable-pip-version-check", "-q", "-w", str(out)],
        cwd=source, capture_output=True, text=True,
    )
    assert build.returncode == 0, f"pip wheel failed:\n{build.stdout}\n{build.stderr}"
    (built,) = out.glob("moments_desktop-*.whl")
    return built


@pytest.mark.slow
def test_wheel_ships_resources(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "moments_desktop/_resources/catalog.json" in names
    assert "moments_desktop/_resources/rewards/headphones.png" in names
    assert not [n for n in names if n.startswith("moments_desktop/_resources/src/")], "artwork sources leaked"


@pytest.mark.slow
def test_resources_found_in_installed_wheel(wheel, tmp_path):
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q",
         "--target", str(target), str(wheel)],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, f"pip install failed:\n{install.stdout}\n{install.stderr}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(target), "PATH": "", "SYSTEMROOT": os.environ.get("SYSTEMROOT", "")}
    probe = subprocess.run(
        [sys.executable, "-s", "-c", PROBE], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert probe.returncode == 0, probe.stderr
    found = {k: Path(v).resolve() for k, v in json.loads(probe.stdout).items()}
    site = target.resolve()
    for what, path in found.items():
        assert path.is_relative_to(site), f"{what} came from {path}, not from the installed wheel in {site}"
    assert found["catalog"] == site / "moments_desktop" / "_resources" / "catalog.json"
