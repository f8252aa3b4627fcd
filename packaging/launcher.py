"""Entry script for the frozen (PyInstaller) build: `moments-desktop [--self-test] [app args]`, and the
`moments` command line when started under that name (the .deb links /usr/bin/moments to the same binary,
so one bundle serves both, busybox-style).

--self-test is handled here, before the GUI app is imported, so an installation can be
checked even when the app module itself is broken (and before app.py wires the flag).
In a windowed build (Windows, console=False) there is no stdout: the report then goes to
%MOMENTS_SELFTEST_LOG% or <temp>/moments-desktop-selftest.txt; the exit code is the same.
"""

import os
import sys


def _self_test() -> int:
    from moments_desktop import selftest

    if sys.stdout is not None:
        return selftest.main()
    import tempfile

    path = os.environ.get("MOMENTS_SELFTEST_LOG") or os.path.join(tempfile.gettempdir(), "moments-desktop-selftest.txt")
    with open(path, "w", encoding="utf-8") as log:
        sys.stdout = sys.stderr = log
        return selftest.main()


# The names the command line is started under (a symlink to this binary; ".exe" on Windows).
CLI_NAMES = {"moments", "moments.exe"}


def _started_as_cli() -> bool:
    return os.path.basename(sys.argv[0] if sys.argv else "").lower() in CLI_NAMES


def _run() -> int:
    argv = sys.argv[1:]
    if _started_as_cli():
        from moments_desktop.cli import main as cli_main

        return cli_main(argv)
    if "--self-test" in argv:
        return _self_test()
    from moments_desktop.app import main

    return main(argv)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    raise SystemExit(_run())
