#!/usr/bin/env python3
"""Set up a development environment and run the app, the sandbox or the tests.

    python3 scripts/dev.py run [app args]       # launch Moments Desktop on the embedded sandbox
    python3 scripts/dev.py test [pytest args]   # run the whole test suite
    python3 scripts/dev.py bench [--quick] [names]  # every tests/bench/bench_*.py, one table (bench --help)
    python3 scripts/dev.py sandbox [args]       # serve the sandbox alone (moments-sandbox --port 0)
    python3 scripts/dev.py package [args]       # PyInstaller one-folder bundle (+ .deb on Linux)
    python3 scripts/dev.py lock [uv args]       # regenerate requirements.lock (e.g. --upgrade-package httpx)

Every command but lock first makes sure .venv exists (created with the Python running this
script, 3.11 or newer) and holds exactly the versions pinned in requirements.lock (hash-checked)
plus the project in editable mode. The install is repeated only when requirements.lock,
pyproject.toml or setup.py changed since the last one.

Standard library only: this runs before any dependency is installed, on Linux, macOS and Windows.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIN_PYTHON = (3, 11)
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".moments-dev-install"
IS_WINDOWS = os.name == "nt"
BIN = VENV / ("Scripts" if IS_WINDOWS else "bin")
EXE = ".exe" if IS_WINDOWS else ""
VENV_PYTHON = BIN / f"python{EXE}"
LOCK = ROOT / "requirements.lock"
# The lock tool, pinned, in its own venv so that .venv holds exactly what the lock lists.
UV_VERSION = "0.13.9"
LOCK_TOOL_VENV = ROOT / ".venv-lock"
LOCK_EXTRAS = ("test", "package")
# The project itself and pip (which the venv brings) are not in the lock.
NOT_LOCKED = {"moments-desktop", "pip"}

# Asks the venv's keyring stack whether a Secret Service answers on the session bus.
_SECRET_SERVICE_PROBE = """
import sys
try:
    import secretstorage
    connection = secretstorage.dbus_init()
    ok = secretstorage.check_service_availability(connection)
except Exception:
    ok = False
sys.exit(0 if ok else 1)
"""


def fail(message: str, code: int = 1) -> None:
    print(f"dev.py: {message}", file=sys.stderr)
    sys.exit(code)


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def check_python() -> None:
    if sys.version_info < MIN_PYTHON:
        found = ".".join(map(str, sys.version_info[:3]))
        wanted = ".".join(map(str, MIN_PYTHON))
        fail(
            f"Moments Desktop needs Python {wanted} or newer; this is Python {found} ({sys.executable}).\n"
            f"Run this script with a newer Python, e.g. 'python{wanted} scripts/dev.py ...'."
        )


def install_hash() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml", "setup.py"):
        path = ROOT / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def ensure_venv() -> None:
    if VENV.exists() and not VENV_PYTHON.exists():
        fail(f"{VENV} exists but has no {VENV_PYTHON.relative_to(VENV)}; delete {VENV} and run again.")
    if not VENV_PYTHON.exists():
        say(f"creating {VENV} with Python {sys.version.split()[0]} ...")
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if result.returncode != 0 or not VENV_PYTHON.exists():
            shutil.rmtree(VENV, ignore_errors=True)
            fail(
                "could not create the virtual environment. On Debian/Ubuntu install the venv module "
                f"first: sudo apt-get install python{sys.version_info[0]}.{sys.version_info[1]}-venv"
            )

    wanted = install_hash()
    installed = STAMP.read_text(encoding="utf-8").strip() if STAMP.exists() else ""
    entry_point = BIN / f"moments-desktop{EXE}"
    if installed == wanted and entry_point.exists():
        return
    if not LOCK.is_file():
        fail(f"{LOCK.name} is missing; regenerate it with 'python3 scripts/dev.py lock'.")
    say(f"installing {LOCK.name} and the project into .venv (the first time takes a minute) ...")
    STAMP.unlink(missing_ok=True)
    pip = [str(VENV_PYTHON), "-m", "pip"]
    quiet = ["--disable-pip-version-check", "-q"]
    # Exactly the locked versions, every file checked against its hash.
    run_pip([*pip, "install", *quiet, "--require-hashes", "-r", LOCK.name], f"installing {LOCK.name}")
    remove_unlocked(pip)
    # The project itself: editable, no dependencies (they all came from the lock) and built with the
    # locked setuptools (the lock includes pyproject.toml's build-system.requires), so nothing unpinned
    # is downloaded for the build.
    run_pip([*pip, "install", *quiet, "--no-deps", "--no-build-isolation", "-e", "."],
            "installing the project (editable)")
    # A lock that no longer satisfies pyproject.toml (a range or a dependency changed) shows up here.
    check = subprocess.run([*pip, "check", "--disable-pip-version-check"], cwd=ROOT, capture_output=True, text=True)
    if check.returncode != 0:
        fail(f"{LOCK.name} does not satisfy pyproject.toml; regenerate it with 'python3 scripts/dev.py lock'.\n"
             + check.stdout + check.stderr)
    STAMP.write_text(wanted + "\n", encoding="utf-8")


def run_pip(command: list[str], what: str) -> None:
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        fail(f"{what} failed (exit code {result.returncode}); see the messages above.")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_names() -> set[str]:
    """Every distribution pinned in the lock, whatever its environment marker."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", LOCK.read_text(encoding="utf-8"), re.MULTILINE)
    return {normalize(name) for name in pins}


def remove_unlocked(pip: list[str]) -> None:
    """Uninstall what the lock does not list (left from an older lock, or installed by hand)."""
    listing = subprocess.run(
        [str(VENV_PYTHON), "-c", "import importlib.metadata as m\nfor d in m.distributions(): print(d.name)"],
        capture_output=True, text=True, check=True,
    )
    extra = sorted({normalize(n) for n in listing.stdout.split()} - locked_names() - NOT_LOCKED)
    if extra:
        say(f"removing packages {LOCK.name} does not list: {' '.join(extra)}")
        run_pip([*pip, "uninstall", "--disable-pip-version-check", "-q", "-y", *extra], "removing them")


def lock(uv_args: list[str]) -> int:
    """Regenerate requirements.lock from pyproject.toml with a pinned uv (pins already in the lock are kept).

    Universal (Linux, macOS, Windows; Python 3.11 and newer), with hashes, covering the runtime
    dependencies, the extras in LOCK_EXTRAS and pyproject.toml's build-system.requires.
    """
    tool_python = LOCK_TOOL_VENV / ("Scripts" if IS_WINDOWS else "bin") / f"python{EXE}"
    uv = tool_python.parent / f"uv{EXE}"
    if not tool_python.exists():
        say(f"creating {LOCK_TOOL_VENV.name} for the lock tool ...")
        if subprocess.run([sys.executable, "-m", "venv", str(LOCK_TOOL_VENV)]).returncode != 0:
            fail(f"could not create {LOCK_TOOL_VENV}")
    version = subprocess.run([str(uv), "--version"], capture_output=True, text=True).stdout if uv.exists() else ""
    if version.split()[1:2] != [UV_VERSION]:
        say(f"installing uv {UV_VERSION} into {LOCK_TOOL_VENV.name} ...")
        run_pip([str(tool_python), "-m", "pip", "install", "--disable-pip-version-check", "-q", f"uv=={UV_VERSION}"],
                f"installing uv {UV_VERSION}")
    import tomllib  # here, not at the top: on Python < 3.11 check_python() must get to say so

    with open(ROOT / "pyproject.toml", "rb") as handle:
        build_requires = tomllib.load(handle)["build-system"]["requires"]
    command = [
        str(uv), "pip", "compile", "--quiet", "--no-config",
        "--universal", "--python-version", ".".join(map(str, MIN_PYTHON)), "--generate-hashes",
        *(arg for extra in LOCK_EXTRAS for arg in ("--extra", extra)),
        "--custom-compile-command", "python3 scripts/dev.py lock",
        "--output-file", LOCK.name,
        "pyproject.toml", "-",  # "-": build-system.requires, read from standard input
        *uv_args,
    ]
    result = subprocess.run(command, cwd=ROOT, input="\n".join(build_requires) + "\n", text=True)
    if result.returncode != 0:
        fail(f"uv pip compile failed (exit code {result.returncode}); see the messages above.")
    say(f"wrote {LOCK.name}; the next run/test/package installs it into .venv")
    return 0


def venv_env() -> dict[str, str]:
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONHOME", None)
    return env


def run_tool(name: str, args: list[str]) -> int:
    command = [str(BIN / f"{name}{EXE}"), *args]
    try:
        return subprocess.call(command, cwd=ROOT, env=venv_env())
    except KeyboardInterrupt:
        return 130


def secret_service_reachable(env: dict[str, str]) -> bool:
    try:
        probe = subprocess.run([str(VENV_PYTHON), "-c", _SECRET_SERVICE_PROBE], env=env, timeout=20)
    except subprocess.TimeoutExpired:
        return False
    return probe.returncode == 0


# The keyring folders keyring_session made: only those are removed (a dev.py run inside another one's
# session inherits MOMENTS_TEST_KEYRING_HOME, the outer run's folder, which is not its to remove).
_KEYRING_HOMES: set[str] = set()


def keyring_session(env: dict[str, str], what: str) -> list[str]:
    """The prefix that runs a command in a private D-Bus session with gnome-keyring, when Linux has no
    Secret Service (``[]`` when one answers, off Linux, or when the tools are missing).

    The throwaway keyring lives in a temporary directory made here (never the user's own keyrings), named
    by ``env["MOMENTS_TEST_KEYRING_HOME"]`` (the caller removes it: ``remove_keyring_home``), is created and
    unlocked with a dummy password, and its daemon goes with the D-Bus session.
    """
    if not sys.platform.startswith("linux") or secret_service_reachable(env):
        return []
    dbus_run_session = shutil.which("dbus-run-session")
    keyring_daemon = shutil.which("gnome-keyring-daemon")
    if not (dbus_run_session and keyring_daemon):
        say(
            "no Secret Service is reachable and dbus-run-session/gnome-keyring-daemon are not installed: "
            f"{what} "
            "Install them with: sudo apt-get install dbus gnome-keyring"
        )
        return []
    keyring_home = tempfile.mkdtemp(prefix="moments-test-keyring-")
    _KEYRING_HOMES.add(keyring_home)
    env["MOMENTS_TEST_KEYRING_HOME"] = keyring_home
    script = (
        'echo -n pw | XDG_DATA_HOME="$MOMENTS_TEST_KEYRING_HOME" '
        f'"{keyring_daemon}" --unlock --components=secrets >/dev/null; exec "$@"'
    )
    return [dbus_run_session, "--", "sh", "-c", script, "sh"]


def remove_keyring_home(env: dict[str, str]) -> None:
    keyring_home = env.get("MOMENTS_TEST_KEYRING_HOME")
    if keyring_home in _KEYRING_HOMES:
        _KEYRING_HOMES.discard(keyring_home)
        shutil.rmtree(keyring_home, ignore_errors=True)


def test_command(pytest_args: list[str], env: dict[str, str]) -> list[str]:
    """pytest, wrapped in a private D-Bus session with gnome-keyring when Linux has no Secret Service."""
    pytest = [str(VENV_PYTHON), "-m", "pytest", *pytest_args]
    prefix = keyring_session(env, "tests marked secret_service will be skipped (in CI they fail).")
    if prefix:
        say("no Secret Service is reachable: running the tests in a private D-Bus session with gnome-keyring")
    return [*prefix, *pytest]


def session_env() -> dict[str, str]:
    """The venv's environment, with Qt's offscreen platform when Linux has no display (tests, benchmarks)."""
    env = venv_env()
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def run_tests(pytest_args: list[str]) -> int:
    env = session_env()
    command = test_command(pytest_args, env)
    try:
        return subprocess.call(command, cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        remove_keyring_home(env)


BENCH_DIR = ROOT / "tests" / "bench"
# Hidden, for tests/test_dev_bench_command.py: run the bench_*.py of another folder.
BENCH_DIR_ENV = "MOMENTS_DEV_BENCH_DIR"
BENCH_QUICK_ENV = "MOMENTS_BENCH_QUICK"
BENCH_ROWS_ENV = "MOMENTS_BENCH_ROWS"  # benchtable.ROWS_ENV
BENCH_HELP = f"""usage: python3 scripts/dev.py bench [--quick] [NAME ...]

Runs every benchmark in tests/bench/ (bench_*.py, in name order), each as its own process with the
venv's Python, the offscreen Qt platform when there is no display, and a private D-Bus session with
gnome-keyring when no Secret Service answers (as the tests). Each benchmark's own output streams
through; each reports its rows (figure, baseline measured in the same run, ratio, goal) through
tests/bench/benchtable.py, and at the end one combined table and a one-line summary are printed.

  NAME      run only these benchmarks: 'startup' or 'bench_startup' or 'bench_startup.py'
  --quick   small sizes and few rounds (sets {BENCH_QUICK_ENV}=1, which each benchmark reads):
            the whole run takes a few minutes; the figures are rougher

Exit code: 0 when every benchmark ran and reported rows, even when goals are not met (a goal not
met is a row that says NO, not a failure); 1 when a benchmark crashed (non-zero exit code) or
reported no rows (it shows in the table as FAILED, and the others still run); 2 for a bad argument.
Nothing here is part of the test suite: timings are never asserted."""


def bench_name(path: Path) -> str:
    return path.stem[len("bench_"):]


def load_benchtable():
    """tests/bench/benchtable.py (standard library only), imported from this checkout."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchtable", BENCH_DIR / "benchtable.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("benchtable", module)
    spec.loader.exec_module(module)
    return module


def parse_bench_args(args: list[str]) -> tuple[bool, list[str]] | int:
    quick = False
    names: list[str] = []
    for arg in args:
        if arg in ("-h", "--help"):
            print(BENCH_HELP)
            return 0
        if arg == "--quick":
            quick = True
        elif arg.startswith("-"):
            print(f"dev.py bench: unknown option {arg!r}\n\n{BENCH_HELP}", file=sys.stderr)
            return 2
        else:
            name = arg.removesuffix(".py")
            names.append(name.removeprefix("bench_"))
    return quick, names


def run_benches(args: list[str]) -> int:
    parsed = parse_bench_args(args)
    if isinstance(parsed, int):
        return parsed
    quick, names = parsed
    folder = Path(os.environ.get(BENCH_DIR_ENV) or BENCH_DIR)
    found = {bench_name(path): path for path in sorted(folder.glob("bench_*.py"))}
    unknown = [name for name in names if name not in found]
    if unknown:
        print(f"dev.py bench: no benchmark named {', '.join(unknown)} in {folder}; there are: "
              f"{', '.join(found) or 'none'}", file=sys.stderr)
        return 2
    chosen = [(name, found[name]) for name in dict.fromkeys(names)] if names else list(found.items())
    if not chosen:
        print(f"dev.py bench: no bench_*.py in {folder}", file=sys.stderr)
        return 2
    benchtable = load_benchtable()
    env = session_env()
    if quick:
        env[BENCH_QUICK_ENV] = "1"
    else:
        env.pop(BENCH_QUICK_ENV, None)
    rows = []
    failed: list[str] = []
    try:
        prefix = keyring_session(env, "benchmarks that need a keyring (cli) may fail.")
        if prefix:
            say("no Secret Service is reachable: each benchmark runs in a private D-Bus session with gnome-keyring")
        with tempfile.TemporaryDirectory(prefix="moments-bench-") as tmp:
            for name, path in chosen:
                rows_file = Path(tmp) / f"{name}.jsonl"
                env[BENCH_ROWS_ENV] = str(rows_file)
                say(f"bench {name} ({path.name}{', quick' if quick else ''}) ...")
                started = time.perf_counter()
                try:
                    code = subprocess.call([*prefix, str(VENV_PYTHON), str(path)], cwd=ROOT, env=env)
                except KeyboardInterrupt:
                    say(f"bench {name} interrupted")
                    return 130
                elapsed = time.perf_counter() - started
                reported = benchtable.read_rows(str(rows_file)) if rows_file.exists() else []
                rows.extend(reported)
                outcome = f"{len(reported)} rows"
                if code != 0 or not reported:
                    reason = f"exit code {code}" if code != 0 else "no rows reported"
                    rows.append(benchtable.Row.failure(name, reason))
                    failed.append(f"{name} ({reason})")
                    outcome = f"FAILED ({reason}), {outcome}"
                say(f"bench {name}: {outcome} in {elapsed:.1f} s")
    finally:
        remove_keyring_home(env)
    print()
    print(benchtable.table(rows), flush=True)
    measured = [row for row in rows if not row.failed]
    met = sum(1 for row in measured if row.met is True)
    not_met = sum(1 for row in measured if row.met is False)
    summary = (f"{len(measured)} rows from {len(chosen) - len(failed)} of {len(chosen)} benchmarks: "
               f"{met} goals met, {not_met} not met, {len(measured) - met - not_met} without a goal; ")
    summary += f"failed: {', '.join(failed)}" if failed else "no benchmark failed"
    print("\n" + summary + (" (quick: rough figures)" if quick else ""), flush=True)
    return 1 if failed else 0


USAGE = __doc__.split("\n\n")[1]


def main(argv: list[str]) -> int:
    check_python()
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage:\n" + USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in ("run", "test", "bench", "sandbox", "package", "lock"):
        print(f"dev.py: unknown command {command!r}\nusage:\n{USAGE}", file=sys.stderr)
        return 2
    if command == "lock":
        return lock(rest)
    if command == "bench" and any(arg in ("-h", "--help") for arg in rest):
        return run_benches(rest)  # the help, before any install
    ensure_venv()
    if command == "run":
        return run_tool("moments-desktop", rest)
    if command == "sandbox":
        return run_tool("moments-sandbox", rest or ["--port", "0"])
    if command == "package":
        build = [str(VENV_PYTHON), str(ROOT / "packaging" / "build.py"), *(rest or ["--deb"])]
        return subprocess.call(build, cwd=ROOT, env=venv_env())
    if command == "bench":
        return run_benches(rest)
    return run_tests(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
