"""What a `moments info` process imports: only what the call needs (issue 14, "Speed"; design.md, "Known
traps": start-up). Each check runs in a fresh interpreter, so nothing this test process imported counts.

Not imported on the info path: Qt (PySide6, shiboken6), the sandbox's server stack (uvicorn, Starlette),
python-liquid (the Message tab's), httpx's own command line (rich, click, pygments), keyring and its backends
(imported by the first key read); and no TLS context is built for a client that has made no https call."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The modules `moments info` goes through: core's, and the CLI's (those that exist yet).
INFO_PATH_MODULES = [
    "moments_desktop.core.session", "moments_desktop.core.startup", "moments_desktop.core.http",
    "moments_desktop.core.credentials", "moments_desktop.core.render",
]
CLI_MODULES = ["moments_desktop.cli", "moments_desktop.cli.main", "moments_desktop.cli.context",
               "moments_desktop.cli.calls", "moments_desktop.cli.output", "moments_desktop.cli.verdicts"]
NOT_ON_THE_INFO_PATH = ("PySide6", "shiboken6", "uvicorn", "starlette", "liquid", "rich", "click", "pygments",
                        "keyring", "secretstorage", "jeepney", "cryptography")
# Core's own modules that only other commands or the window use (imported by their first use).
CORE_NOT_ON_THE_INFO_PATH = ("moments_desktop.core.exports", "moments_desktop.core.message_outcomes",
                             "moments_desktop.core.message_preview", "moments_desktop.core.catalog_choices",
                             "moments_desktop.sandbox", "moments_desktop.ui", "moments_desktop.app")


def _present(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def run_fresh(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# Counts the SSL contexts made in the process, imports the modules, builds the client the CLI builds (and
# the CredentialStore), and says which of the packages above were imported.
# Both scripts below start by counting every SSL context the process makes.
_COUNT_SSL_CONTEXTS = """
import ssl
made = []
_new = ssl.SSLContext.__new__
def counting(cls, *args, **kwargs):
    made.append(cls.__name__)
    return _new(cls, *args, **kwargs)
ssl.SSLContext.__new__ = counting
"""
_IMPORTS_OF_THE_INFO_PATH = _COUNT_SSL_CONTEXTS + """
import asyncio, importlib, json, ssl, sys
for name in {modules!r}:
    importlib.import_module(name)
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
async def build():
    CredentialStore()
    async with make_client():
        pass
asyncio.run(build())
print(json.dumps({{"imported": sorted({{m.split(".")[0] for m in sys.modules}} & set({forbidden!r})),
                   "core": sorted(m for m in sys.modules if m.startswith({core!r})),
                   "ssl_contexts": made}}))
"""


def test_the_info_path_imports_no_qt_sandbox_liquid_httpx_cli_or_keyring_and_builds_no_tls_context():
    modules = INFO_PATH_MODULES + [name for name in CLI_MODULES if _present(name)]
    found = run_fresh(_IMPORTS_OF_THE_INFO_PATH.format(modules=modules, forbidden=NOT_ON_THE_INFO_PATH,
                                                       core=CORE_NOT_ON_THE_INFO_PATH))
    assert found == {"imported": [], "core": [], "ssl_contexts": []}


def test_httpx_keeps_a_main_and_a_process_that_imported_httpx_first_keeps_its_cli():
    ours = run_fresh("import json, sys, moments_desktop.core.http, httpx; "
                     "print(json.dumps({'main': callable(httpx.main), 'cli': sys.modules.get('httpx._main') is not None}))")
    assert ours == {"main": True, "cli": False}
    if not all(_present(name) for name in ("rich", "click", "pygments")):
        pytest.skip("httpx's command-line extras are not installed here")
    theirs = run_fresh("import json, sys, httpx, moments_desktop.core.http; "
                       "print(json.dumps({'cli': sys.modules.get('httpx._main') is not None}))")
    assert theirs == {"cli": True}


# keyring's own choice of backend, with and without the cut that skips its macOS backend's library search.
_KEYRING_CHOICE = """
import ctypes.util, json, sys
searched = []
_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: searched.append(name) or _find(name)
{prepare}
import keyring, keyring.backend
viable = sorted(type(k).__module__ + "." + type(k).__name__ for k in keyring.backend.get_all_keyring())
chosen = keyring.get_keyring()
print(json.dumps({{"viable": viable, "chosen": type(chosen).__module__ + "." + type(chosen).__name__,
                   "searched": searched}}))
"""


@pytest.mark.skipif(sys.platform == "darwin", reason="the cut applies off macOS only")
def test_keyring_chooses_the_same_backend_without_searching_for_the_macos_libraries():
    plain = run_fresh(_KEYRING_CHOICE.format(prepare=""))
    ours = run_fresh(_KEYRING_CHOICE.format(
        prepare="from moments_desktop.core.credentials import _keyring; _keyring()"))
    assert (ours["viable"], ours["chosen"]) == (plain["viable"], plain["chosen"])
    assert "Security" in plain["searched"]  # what the cut saves: keyring's macOS backend looking for its library
    assert ours["searched"] == []


# `moments info` itself, run to its end in a fresh interpreter: the CLI's own entry point with the given
# arguments, then what the process imported and the SSL contexts it made, written to the file named first
# (stdout is the command's).
_RUN_THE_COMMAND = _COUNT_SSL_CONTEXTS + """
import json, ssl, sys
from moments_desktop.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w", encoding="utf-8") as report:
    json.dump({"code": code, "modules": sorted(sys.modules), "ssl_contexts": made}, report)
"""
# What a whole `moments info` call must not import (keyring is on its path once it reads the key).
NOT_IMPORTED_BY_INFO = ("PySide6", "shiboken6", "uvicorn", "starlette", "liquid", "rich", "click", "pygments")


@pytest.mark.secret_service
def test_a_whole_moments_info_call_imports_no_qt_sandbox_liquid_or_httpx_cli_and_builds_no_tls_context(
        sandbox, tmp_path):
    from keyring.backends import SecretService  # the backend itself: keyring's chainer may hold test fakes

    from moments_desktop.core.credentials import SERVICE
    from moments_desktop.core.profiles import Profile, ProfileStore

    home = tmp_path / "home"
    profile = ProfileStore(home / "config" / "profiles.json").add(
        Profile(name="Imports", base_url=sandbox.base_url, **sandbox.demo_body))
    keychain = SecretService.Keyring()
    keychain.set_password(SERVICE, profile.id, sandbox.demo_key)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_KEYRING_BACKEND", "PYTHONSTARTUP")}
    env.update(MOMENTS_DESKTOP_HOME=str(home), PYTHONPATH=os.pathsep.join(filter(None, [str(REPO),
               env.get("PYTHONPATH")])), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    report = tmp_path / "report.json"
    try:
        done = subprocess.run([sys.executable, "-c", _RUN_THE_COMMAND, str(report), "info", "--profile", "Imports",
                               "--json"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    finally:
        keychain.delete_password(SERVICE, profile.id)
    assert done.returncode == 0, done.stderr
    found = json.loads(report.read_text(encoding="utf-8"))
    assert found["code"] == 0, done.stderr
    assert json.loads(done.stdout)["reward"]["remaining_count"] == 100  # the call was made, to its end
    assert "moments_desktop.core.session" in found["modules"] and "httpx" in found["modules"]
    imported = sorted({name.split(".")[0] for name in found["modules"]} & set(NOT_IMPORTED_BY_INFO))
    assert imported == []
    assert found["ssl_contexts"] == []  # plain http to the sandbox on 127.0.0.1: no TLS context built
