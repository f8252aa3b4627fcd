"""The one place that knows where resources/ lives.

Three layouts exist: a source checkout (resources/ beside the package), an installed
wheel (copied in as moments_desktop/_resources by setup.py) and a PyInstaller bundle
(collected as <bundle>/resources). Everything that needs a shipped file calls
resource_path() so the frozen build keeps working.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


class ResourceNotFound(FileNotFoundError):
    """A shipped file is missing: the installation is broken."""


@cache
def resources_dir() -> Path:
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / "resources")
    candidates.append(_PACKAGE_DIR / "_resources")
    candidates.append(_PACKAGE_DIR.parent / "resources")
    for candidate in candidates:
        if (candidate / "catalog.json").is_file():
            return candidate
    raise ResourceNotFound(
        "The app's resource files were not found (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "). Reinstall Moments Desktop."
    )


def resource_path(*parts: str) -> Path:
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise ResourceNotFound(f"Missing resource file {'/'.join(parts)} in {resources_dir()}. Reinstall Moments Desktop.")
    return path
