"""Build the one-folder bundle (dist/moments-desktop/) and, on Linux, the .deb.

    python packaging/build.py            # bundle only
    python packaging/build.py --deb      # bundle + dist/moments-desktop_<version>_<arch>.deb
    python packaging/build.py --deb-only # .deb from an existing bundle

The bundle is built from the locked versions: the running Python must have requirements.lock
installed (python3 scripts/dev.py package does that in .venv; CI runs the same two pip commands
as dev.py), or build.py stops before PyInstaller runs (--allow-unlocked builds anyway).

Works the same on Linux, Windows and macOS (the .deb step is Linux-only; see
packaging/windows/ and packaging/macos/ for the other installers).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
BUNDLE = DIST / "moments-desktop"
NAME = "moments-desktop"
LOCK = ROOT / "requirements.lock"
INSTALL_FROM_LOCK = (
    "python -m pip install --require-hashes -r requirements.lock\n"
    "    python -m pip install --no-deps --no-build-isolation -e ."
)


def version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def unlocked_packages() -> list[str]:
    """The lock's pins for this platform that the running Python does not have at exactly that version."""
    from importlib.metadata import PackageNotFoundError, version as installed_version

    try:
        from packaging.requirements import Requirement  # itself in the lock (PyInstaller needs it)
    except ImportError:
        return ["packaging: not installed, so nothing from the lock is"]
    problems = []
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in "# \t-":  # comments, hash and annotation lines, options
            continue
        requirement = Requirement(line.rstrip("\\ "))
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue  # another platform's package
        try:
            have = installed_version(requirement.name)
        except PackageNotFoundError:
            have = None
        if have is None or not requirement.specifier.contains(have, prereleases=True):
            problems.append(f"{requirement.name}: locked {requirement.specifier}, installed {have or 'nothing'}")
    return problems


def check_locked() -> None:
    problems = unlocked_packages()
    if problems:
        sys.exit(
            f"this Python ({sys.executable}) does not have {LOCK.name} installed:\n  " + "\n  ".join(problems)
            + f"\ninstall it with\n    {INSTALL_FROM_LOCK}\n(python3 scripts/dev.py package does this in .venv), "
            "or pass --allow-unlocked to build anyway"
        )
    print(f"{LOCK.name}: every locked package is installed at its locked version", flush=True)


def build_bundle() -> None:
    if not (ROOT / "resources" / "catalog.json").is_file():
        sys.exit("resources/catalog.json is missing")
    started = time.monotonic()
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
           "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyinstaller"),
           str(PACKAGING / "moments-desktop.spec")]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    elapsed = time.monotonic() - started
    if sys.platform.startswith("linux"):
        audit_linux_bundle()
    print(f"bundle: {BUNDLE}  size {dir_size(BUNDLE) / 1e6:.1f} MB  built in {elapsed:.0f} s", flush=True)


def _dropped_prefixes() -> tuple[str, ...]:
    """The spec's _DROP_LIB_PREFIXES, read without running the spec."""
    import ast

    tree = ast.parse((PACKAGING / "moments-desktop.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_DROP_LIB_PREFIXES":
            return tuple(ast.literal_eval(node.value))
    return ()


def audit_linux_bundle() -> None:
    """Fail if a bundled ELF needs a library the spec trimmed, or a library that is not found.

    The trimmed libraries would otherwise silently come from the host (and be missing on a
    machine without GTK, say).
    """
    prefixes = _dropped_prefixes()
    internal = BUNDLE / "_internal"
    lib_dirs = sorted({str(p.parent) for p in internal.rglob("*.so*")} | {str(internal)})
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(lib_dirs))
    problems = []
    for path in sorted(internal.rglob("*.so*")):
        if path.is_symlink() or not path.is_file():
            continue
        with open(path, "rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
        for line in out.splitlines():
            name = line.strip().split(" ", 1)[0]
            if "not found" in line:
                problems.append(f"{path.relative_to(BUNDLE)}: {name} not found")
            elif name.startswith(prefixes):
                problems.append(f"{path.relative_to(BUNDLE)}: needs trimmed {name}")
    if problems:
        sys.exit("bundle audit failed:\n  " + "\n  ".join(problems))
    print("bundle audit: no bundled library needs a trimmed or missing library", flush=True)


def deb_arch() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True,
                              text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


CLI_NAME = "moments"


def build_deb() -> Path:
    if not (BUNDLE / NAME).is_file():
        sys.exit(f"no bundle at {BUNDLE}; build it first")
    ver, arch = version(), deb_arch()
    stage = ROOT / "build" / "deb" / f"{NAME}_{ver}_{arch}"
    if stage.exists():
        shutil.rmtree(stage)
    opt = stage / "opt" / NAME
    shutil.copytree(BUNDLE, opt, symlinks=True)
    # /usr/bin/moments-desktop: a relative symlink into /opt (PyInstaller resolves its own path).
    (stage / "usr" / "bin").mkdir(parents=True)
    os.symlink(f"../../opt/{NAME}/{NAME}", stage / "usr" / "bin" / NAME)
    # /usr/bin/moments: the command line, the same binary started under another name (see launcher.py).
    os.symlink(f"../../opt/{NAME}/{NAME}", stage / "usr" / "bin" / CLI_NAME)
    apps = stage / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy2(PACKAGING / "deb" / f"{NAME}.desktop", apps / f"{NAME}.desktop")
    for size in (48, 256):
        target = stage / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copy2(ROOT / "resources" / "icons" / f"{NAME}-{size}.png", target / f"{NAME}.png")
    doc = stage / "usr" / "share" / "doc" / NAME
    doc.mkdir(parents=True)
    shutil.copy2(PACKAGING / "deb" / "copyright", doc / "copyright")

    debian = stage / "DEBIAN"
    debian.mkdir()
    installed_kb = dir_size(stage) // 1024
    control = (PACKAGING / "deb" / "control.in").read_text(encoding="utf-8")
    # The bundle needs at least the build host's glibc (build on the oldest supported distro).
    libc = os.confstr("CS_GNU_LIBC_VERSION").split()[-1] if hasattr(os, "confstr") else "2.31"
    control = control.replace("@LIBC@", libc)
    control = control.replace("@VERSION@", ver).replace("@ARCH@", arch).replace("@INSTALLED_SIZE@", str(installed_kb))
    (debian / "control").write_text(control, encoding="utf-8")
    for script in ("postinst", "postrm"):
        src = PACKAGING / "deb" / script
        shutil.copy2(src, debian / script)
        (debian / script).chmod(0o755)
    # Normalise permissions (umask on CI runners varies; dpkg-deb rejects group-writable DEBIAN).
    for path in stage.rglob("*"):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        if path.is_dir() or mode & stat.S_IXUSR:
            path.chmod(0o755)
        else:
            path.chmod(0o644)
    stage.chmod(0o755)
    out = DIST / f"{NAME}_{ver}_{arch}.deb"
    cmd = ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(stage), str(out)]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    print(f"deb: {out}  {out.stat().st_size / 1e6:.1f} MB  (installed {installed_kb / 1024:.1f} MB)")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", action="store_true", help="also build the .deb (Linux)")
    parser.add_argument("--deb-only", action="store_true", help="only build the .deb from dist/moments-desktop")
    parser.add_argument("--allow-unlocked", action="store_true",
                        help=f"build even if the installed packages differ from {LOCK.name}")
    args = parser.parse_args()
    if not args.deb_only:
        if not args.allow_unlocked:
            check_locked()
        build_bundle()
    if args.deb or args.deb_only:
        build_deb()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
