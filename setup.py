"""Build hook: ship the top-level resources/ folder inside the wheel.

The repository keeps resources/ at the top (the layout the project asks for), but an
installed wheel has no repository around it, so the files are copied into the package
as moments_desktop/_resources at build time. moments_desktop.core.resources finds
either location (and the PyInstaller bundle's), so nothing else needs to know.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent


class BuildPyWithResources(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # editable installs read resources/ from the checkout
            return
        target = Path(self.build_lib) / "moments_desktop" / "_resources"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(HERE / "resources", target, ignore=shutil.ignore_patterns("*.xcf", "src", "screenshots"))


setup(cmdclass={"build_py": BuildPyWithResources})
