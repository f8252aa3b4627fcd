""""The keychain is locked" and "the keychain is not available" are told apart.

Found by trying it: with the keychain daemon gone, D-Bus starts a fresh one whose collection is locked
and which cannot show its password prompt in a session without a display, so every call said
"locked" although no unlocking could ever succeed; and a backend's own exception was classified by
looking for "locked" anywhere in its text, so "the message bus security policy *blocked* the reply"
(libdbus's no-reply text) or "... unlocked ..." read as locked.

Against a REAL Secret Service: gnome-keyring on a private D-Bus bus of the test's own, one with no
service activation (so a stopped daemon stays stopped) and a short reply timeout (so a daemon that hangs
is given up on): locked with a display, locked without one, stopped, hung. And with fake backends raising
the real exception types of keyring and secretstorage.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import keyring.errors
import pytest
import secretstorage.exceptions as ss_errors
from keyring.backend import KeyringBackend

from moments_desktop.core.credentials import (
    LOCKED_DETAIL,
    NO_PROMPT_DETAIL,
    NOT_RUNNING_DETAIL,
    UNREACHABLE_DETAIL,
    CredentialStore,
    KeyringLockedError,
    KeyringUnavailableError,
)
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import Profile, ProfileStore
from moments_desktop.core.session import Session

REPO = Path(__file__).resolve().parents[2]
# libdbus's text for a call that got no answer (what a dbus-python backend sees from a hung daemon)
NO_REPLY_TEXT = ("Did not receive a reply. Possible causes include: the remote application did not send a "
                 "reply, the message bus security policy blocked the reply, the reply timeout expired, or the "
                 "network connection was broken.")

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="reply_timeout">1500</limit>
</busconfig>
"""

# Runs inside the private bus: the verdict of a get_key in each state, as JSON on stdout.
SCENARIO = textwrap.dedent('''
    import json, os, subprocess, sys, threading, time
    import secretstorage
    from keyring.backends.SecretService import Keyring
    from moments_desktop.core.credentials import CredentialStore

    def verdict(store):
        try:
            return {"value": store.get_key("p")}
        except Exception as exc:
            return {"type": type(exc).__name__, "title": exc.title, "detail": exc.detail}

    daemon_env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    daemon = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=daemon_env)
    daemon.stdin.write(b"test-password")
    daemon.stdin.close()
    for _ in range(200):
        connection = secretstorage.dbus_init()
        up = secretstorage.check_service_availability(connection)
        connection.close()
        if up:
            break
        time.sleep(0.05)
    store = CredentialStore(Keyring())
    store.set_key("p", "stored-key-0001")
    out = {"unlocked": verdict(store)}
    connection = secretstorage.dbus_init()
    secretstorage.get_default_collection(connection).lock()
    connection.close()
    os.environ["DISPLAY"] = ":97"  # a session with a display: the user could have dismissed a prompt
    out["locked, with a display"] = verdict(store)
    del os.environ["DISPLAY"]
    out["locked, no display"] = verdict(store)
    daemon.kill()
    daemon.wait()
    os.environ["DISPLAY"] = ":97"
    out["stopped"] = verdict(store)

    from jeepney import MessageType, HeaderFields, new_method_return
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    def hung_daemon(ready):
        conn = open_dbus_connection("SESSION")
        conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.secrets"))
        ready.set()
        while True:
            msg = conn.receive()
            if msg.header.message_type != MessageType.method_call:
                continue
            if msg.header.fields.get(HeaderFields.member) == "Get" and msg.body[1] == "Label":
                conn.send(new_method_return(msg, "v", (("s", "Login"),)))  # the collection is there...
            # ...and nothing else is ever answered

    ready = threading.Event()
    threading.Thread(target=hung_daemon, args=(ready,), daemon=True).start()
    ready.wait(10)
    out["hung"] = verdict(store)
    sys.stdout.write(json.dumps(out))
''')


@pytest.fixture(scope="module")
def real_states(tmp_path_factory):
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(f"CI needs {tool}")
            pytest.skip(f"{tool} is not installed")
    folder = tmp_path_factory.mktemp("keychain")
    (folder / "bus.conf").write_text(BUS_CONFIG)
    (folder / "scenario.py").write_text(SCENARIO)
    env = {**os.environ, "XDG_DATA_HOME": str(folder / "data"), "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    (folder / "data").mkdir()
    done = subprocess.run(["dbus-run-session", f"--config-file={folder / 'bus.conf'}", "--",
                           sys.executable, str(folder / "scenario.py")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=folder)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_a_real_keychain_that_is_locked_is_called_locked(real_states):
    assert real_states["unlocked"] == {"value": "stored-key-0001"}
    assert real_states["locked, with a display"] == {
        "type": "KeyringLockedError", "title": KeyringLockedError.title, "detail": LOCKED_DETAIL}


def test_a_locked_keychain_that_cannot_prompt_is_not_available(real_states):
    assert real_states["locked, no display"] == {
        "type": "KeyringUnavailableError", "title": KeyringUnavailableError.title, "detail": NO_PROMPT_DETAIL}


def test_a_real_keychain_that_stopped_or_hangs_is_not_available(real_states):
    assert real_states["stopped"] == {
        "type": "KeyringUnavailableError", "title": KeyringUnavailableError.title, "detail": NOT_RUNNING_DETAIL}
    assert real_states["hung"]["type"] == "KeyringUnavailableError"
    assert real_states["hung"]["detail"] == UNREACHABLE_DETAIL


class RaisingKeyring(KeyringBackend):
    priority = 1

    def __init__(self, exc):
        super().__init__()
        self.exc = exc

    def get_password(self, service, username):
        raise self.exc

    set_password = delete_password = get_password


def _caused(exc, cause):
    exc.__cause__ = cause
    return exc


GONE = [
    ss_errors.SecretServiceNotAvailableException(NO_REPLY_TEXT),  # used to be "locked": "b-locked the reply"
    RuntimeError(f"org.freedesktop.DBus.Error.NoReply: {NO_REPLY_TEXT}"),
    ss_errors.SecretServiceNotAvailableException("Environment variable DBUS_SESSION_BUS_ADDRESS is unset"),
    FileNotFoundError(2, "No such file or directory"),  # the bus socket is gone
    ConnectionResetError(104, "Connection reset by peer"),
    _caused(RuntimeError("the wallet could not be unlocked"),  # a wrapper whose cause says "gone"
            ss_errors.SecretServiceNotAvailableException("The name org.freedesktop.secrets was not provided")),
    keyring.errors.InitError("Failed to create the collection: The name org.freedesktop.secrets was not "
                             "provided by any .service files."),
]
LOCKED = [
    keyring.errors.KeyringLocked("Failed to unlock the collection!"),
    ss_errors.LockedException("Collection is locked!"),
    ss_errors.PromptDismissedException("Prompt dismissed."),
    RuntimeError("The collection is locked"),
]


@pytest.mark.parametrize("exc", GONE, ids=lambda e: type(e).__name__)
def test_a_keychain_that_is_gone_is_never_called_locked(exc, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    with pytest.raises(KeyringUnavailableError) as caught:
        CredentialStore(RaisingKeyring(exc)).get_key("p")
    assert type(caught.value) is KeyringUnavailableError
    assert caught.value.detail in (UNREACHABLE_DETAIL, NOT_RUNNING_DETAIL)


@pytest.mark.parametrize("exc", LOCKED, ids=lambda e: type(e).__name__)
def test_a_locked_keychain_is_called_locked_where_it_can_ask_for_its_password(exc, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    with pytest.raises(KeyringLockedError) as caught:
        CredentialStore(RaisingKeyring(exc)).get_key("p")
    assert caught.value.title == "The system keychain is locked"
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(KeyringUnavailableError) as caught:
        CredentialStore(RaisingKeyring(exc)).get_key("p")
    assert type(caught.value) is KeyringUnavailableError and caught.value.detail == NO_PROMPT_DETAIL


# --- quitting while a keychain call waits on an unanswered unlock prompt ----------------------------------

# A keychain whose every call waits on an unlock prompt nobody answers; the first call asks the app to close
# its windows (as the user would, while the prompt is still open) and marks that it was reached.
NEVER_ANSWERED = textwrap.dedent('''
    import os
    import threading

    from keyring.backend import KeyringBackend
    from PySide6.QtCore import QMetaObject, Qt
    from PySide6.QtWidgets import QApplication


    class PromptNeverAnswered(KeyringBackend):
        priority = 1

        def _wait_forever(self, *args):
            with open(os.environ["KEYCHAIN_REACHED"], "a") as marker:
                marker.write(threading.current_thread().name + "\\n")
            QMetaObject.invokeMethod(QApplication.instance(), "closeAllWindows",
                                     Qt.ConnectionType.QueuedConnection)
            threading.Event().wait()  # the unlock prompt stays open

        get_password = set_password = delete_password = _wait_forever
''')


def test_closing_the_window_ends_the_app_while_a_keychain_call_waits_on_an_unlock_prompt(tmp_path):
    """The real app, started as a person starts it, on a profile with a key in the keychain: the key check
    blocks on the keychain; the window is closed; the process must end (it used to live on, awaiting the
    keychain's worker thread, until killed)."""
    (tmp_path / "never_answered.py").write_text(NEVER_ANSWERED)
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    profile = {"id": "stagingprofile", "name": "Staging", "base_url": "https://moments.example.com/prod",
               "appId": "APP1", "momentId": "M1", "deviceType": "Android", "campaignId": "C1",
               "rewardGroupId": "US", "live": True}
    (home / "config" / "profiles.json").write_text(json.dumps({"schema_version": 1, "profiles": [profile]}))
    (home / "config" / "window.ini").write_text("[General]\nlastProfile=stagingprofile\n")
    reached = tmp_path / "reached.txt"
    env = {**os.environ, "MOMENTS_DESKTOP_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "PYTHON_KEYRING_BACKEND": "never_answered.PromptNeverAnswered",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]), "KEYCHAIN_REACHED": str(reached)}
    app = subprocess.Popen([sys.executable, "-m", "moments_desktop", "--no-sandbox"], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # A hang detector, not a speed goal: closing takes about KEYCHAIN_CLOSE_WAIT_S; a hang is forever.
        _out, err = app.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        app.kill()
        app.communicate()
        pytest.fail("the app was still running 60 s after its window closed: the keychain call held the exit")
    assert reached.exists(), f"the keychain was never called: {err[-2000:]}"
    assert app.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]


class BlockingKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def get_password(self, service, username):
        self.entered.set()
        self.release.wait()
        return None

    set_password = delete_password = get_password


def test_a_session_closes_while_a_keychain_call_blocks_and_still_awaits_its_disk_work(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))
    backend = BlockingKeyring()

    async def main():
        profiles = ProfileStore(tmp_path / "profiles.json")
        journal = Journal(tmp_path / "journal.sqlite3")
        session = Session(profiles, CredentialStore(backend), journal, make_client())
        mine = profiles.add(Profile(name="Staging", base_url="https://moments.example.com/prod", appId="A",
                                    momentId="M", deviceType="Android", campaignId="C", rewardGroupId="US"))
        check = asyncio.ensure_future(session.has_key(mine.id))
        await asyncio.to_thread(backend.entered.wait, 10)
        rename = asyncio.ensure_future(session.rename_profile(mine.id, "Renamed"))  # a disk job, awaited
        check.cancel()  # what the window's task owner does on close
        await asyncio.gather(check, return_exceptions=True)
        try:
            await asyncio.wait_for(session.aclose(), 30)  # used to wait for the keychain forever
        finally:
            backend.release.set()  # only now: what was abandoned may end (and a failure ends the test)
        assert rename.done() and (await rename).name == "Renamed"

    try:
        asyncio.run(main())
        assert ProfileStore(tmp_path / "profiles.json").find_by_name("Renamed") is not None
    finally:
        backend.release.set()  # let the abandoned daemon thread end with the test
