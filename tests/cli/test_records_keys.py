"""``moments key set|delete|test``: the API key from a hidden prompt or stdin only, into the real keychain.

Against a real Secret Service (gnome-keyring, marker ``secret_service``) and the real sandbox. A key is never
taken from an argument, and never printed: not the one stored, not one typed on the command line by mistake.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from records_helpers import (
    SECRET_MARK,
    cli_env,
    forget_key,
    import_profiles,
    journal_path,
    moments,
    profile_entry,
    stored_key,
)

from moments_desktop.core.journal import Journal

STRAY_KEY = f"sk-live-123-{SECRET_MARK}"
TAKE_TERMINAL = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                 "os.execv(sys.argv[1], sys.argv[1:])")


@pytest.fixture
def profile(tmp_path, sandbox):
    """A fresh home with one test-mode profile on the real sandbox (the demo request); its key removed after."""
    home = tmp_path / "home"
    home.mkdir()
    profile_id = f"test-{uuid.uuid4().hex[:12]}"
    import_profiles(home, tmp_path, profile_entry("Sandbox copy", sandbox.base_url, sandbox.demo_body,
                                                  profile_id=profile_id))
    yield home, profile_id
    forget_key(profile_id)


def no_key_in(ran, *keys):
    for key in (SECRET_MARK, *keys):
        assert key not in ran.output, ran.output


@pytest.mark.secret_service
def test_key_set_from_stdin_then_key_test_is_accepted(profile, sandbox):
    home, profile_id = profile
    ran = moments(home, "key", "set", "--profile", "Sandbox copy", stdin=sandbox.demo_key + "\n")
    assert ran.code == 0, ran.output
    assert ran.stdout.startswith("The API key of “Sandbox copy” is stored in Secret Service")
    no_key_in(ran, sandbox.demo_key)
    assert stored_key(profile_id) == sandbox.demo_key  # the newline stripped
    listed = moments(home, "profiles", "list", "--json").json()["profiles"]
    assert [p["key_stored"] for p in listed] == [None, True]
    tested = moments(home, "key", "test", "--profile", "Sandbox copy")
    assert (tested.code, tested.stdout) == (0, "The API key of “Sandbox copy” was accepted.\n"), tested.output
    no_key_in(tested, sandbox.demo_key)
    # journaled like the window's Test key, with the key redacted
    with Journal(journal_path(home)) as journal:
        (entry,) = journal.query()
    assert (entry.endpoint, entry.outcome.value, entry.profile_id) == ("GetRewardInfo", "success", profile_id)
    assert sandbox.demo_key.encode() not in journal_path(home).read_bytes()
    history = moments(home, "history", "--json")
    (row,) = history.json()["entries"]
    assert (row["endpoint"], row["outcome"], row["status"], row["profile_name"]) == ("info", "success", 200,
                                                                                    "Sandbox copy")
    no_key_in(history, sandbox.demo_key)


@pytest.mark.secret_service
def test_key_test_with_a_wrong_key_is_refused_with_the_apis_words(profile, sandbox):
    home, _ = profile
    assert moments(home, "key", "set", "--profile", "Sandbox copy", stdin=f"wrong-{SECRET_MARK}").code == 0
    ran = moments(home, "key", "test", "--profile", "Sandbox copy")
    assert ran.code == 4 and ran.stdout == ""
    assert ran.stderr.startswith("moments: ") and ran.stderr.count("\n") == 1
    no_key_in(ran)


@pytest.mark.secret_service
def test_key_test_without_a_key_is_a_local_problem(profile):
    home, _ = profile
    ran = moments(home, "key", "test", "--profile", "Sandbox copy")
    assert ran.code == 6 and ran.stderr.startswith("moments: No API key"), ran.stderr


@pytest.mark.secret_service
def test_key_test_of_an_unreachable_endpoint_is_a_network_error(profile, sandbox):
    home, _ = profile
    assert moments(home, "key", "set", "--profile", "Sandbox copy", stdin=sandbox.demo_key).code == 0
    ran = moments(home, "key", "test", "--profile", "Sandbox copy", "--endpoint-url", "http://127.0.0.1:9")
    assert ran.code == 7, ran.output
    no_key_in(ran, sandbox.demo_key)


@pytest.mark.secret_service
def test_key_test_of_the_built_in_profile_with_sandbox(tmp_path):
    ran = moments(tmp_path, "key", "test", "--profile", "Sandbox demo", "--sandbox")
    assert ran.code == 0 and ran.stdout == "The API key of “Sandbox demo” was accepted.\n", ran.output
    ran = moments(tmp_path, "key", "test", "--profile", "Sandbox demo")
    assert ran.code == 6 and "sandbox" in ran.stderr.lower()


@pytest.mark.secret_service
def test_key_delete_then_delete_again(profile, sandbox):
    home, profile_id = profile
    assert moments(home, "key", "set", "--profile", "Sandbox copy", stdin=sandbox.demo_key).code == 0
    ran = moments(home, "key", "delete", "--profile", "Sandbox copy")
    assert ran.code == 0 and ran.stdout.startswith("The API key of “Sandbox copy” was deleted from Secret Service")
    assert stored_key(profile_id) is None
    again = moments(home, "key", "delete", "--profile", "Sandbox copy")
    assert again.code == 0 and again.stdout.startswith("No API key was stored for “Sandbox copy” in Secret Service")


@pytest.mark.secret_service
@pytest.mark.parametrize("argv", [
    ["key", "set", "--profile", "Sandbox copy", STRAY_KEY],
    ["key", "set", STRAY_KEY, "--profile", "Sandbox copy"],
    ["key", "set", "--profile", "Sandbox copy", "--key", STRAY_KEY],
    ["key", "set", "--profile", "Sandbox copy", f"--key={STRAY_KEY}"],
    ["key", "set", "--profile", "Sandbox copy", "--", STRAY_KEY],
    ["key", STRAY_KEY],
    ["key", "set", "--profile", STRAY_KEY],  # the key typed in place of the profile's name
    ["key", "test", "--profile", "Sandbox copy", STRAY_KEY],
    ["key", "delete", "--profile", "Sandbox copy", STRAY_KEY],
])
def test_a_key_on_the_command_line_is_refused_without_repeating_it(profile, argv):
    home, profile_id = profile
    ran = moments(home, *argv, stdin="")
    assert ran.code == 2 and ran.stdout == "", ran.output
    assert ran.stderr.startswith("moments: ") and ran.stderr.count("\n") == 1
    assert STRAY_KEY not in ran.output and "sk-live-123" not in ran.output, ran.stderr
    assert stored_key(profile_id) is None


def test_the_refusal_names_the_right_way(tmp_path):
    ran = moments(tmp_path, "key", "set", "--profile", "Sandbox demo", STRAY_KEY)
    assert "the API key is never taken from the command line" in ran.stderr
    assert "type it at the prompt, or pipe it on stdin" in ran.stderr


def test_the_key_is_not_read_from_the_environment(tmp_path, sandbox):
    """MOMENTS_API_KEY (the exports' variable) is not a way in: with stdin empty the key is refused."""
    import_profiles(tmp_path, tmp_path, profile_entry("Env", sandbox.base_url, sandbox.demo_body))
    env = cli_env(tmp_path, MOMENTS_API_KEY=sandbox.demo_key, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    ran = moments(tmp_path, "key", "set", "--profile", "Env", stdin="", env=env)
    assert ran.code == 2 and ran.stderr.startswith("moments: no API key was given")
    no_key_in(ran, sandbox.demo_key)


@pytest.mark.parametrize("stdin", ["", "\n", "   \n", "\nsecond-line-key\n"])
def test_an_empty_first_line_is_refused(tmp_path, sandbox, stdin):
    import_profiles(tmp_path, tmp_path, profile_entry("Empty", sandbox.base_url, sandbox.demo_body))
    ran = moments(tmp_path, "key", "set", "--profile", "Empty", stdin=stdin,
                  env=cli_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"))
    assert ran.code == 2 and "no API key was given" in ran.stderr


def test_the_built_in_profile_takes_no_key(tmp_path):
    ran = moments(tmp_path, "key", "set", "--profile", "Sandbox demo", stdin=f"k-{SECRET_MARK}")
    assert ran.code == 2 and "uses the built-in sandbox's own key" in ran.stderr
    ran = moments(tmp_path, "key", "delete", "--profile", "Sandbox demo")
    assert ran.code == 2 and "uses the built-in sandbox's own key" in ran.stderr


@pytest.mark.parametrize("command", [["set"], ["delete"], ["test"]])
def test_no_keychain_is_exit_6_with_the_windows_words(tmp_path, sandbox, command):
    import_profiles(tmp_path, tmp_path, profile_entry("Nokeychain", sandbox.base_url, sandbox.demo_body))
    ran = moments(tmp_path, "key", *command, "--profile", "Nokeychain", stdin=f"k-{SECRET_MARK}\n",
                  env=cli_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"))
    assert ran.code == 6, ran.output
    assert ran.stderr == ("moments: The system keychain is not available: no keychain was found on this computer. "
                          "The app keeps API keys only in your system's keychain and could not use it. Make sure "
                          "your keychain (for example GNOME Keyring, KWallet, macOS Keychain or Windows Credential "
                          "Manager) is installed and unlocked, then try again - or keep keys in memory for this "
                          "session only.\n")
    no_key_in(ran)


@pytest.mark.parametrize("command", [["set"], ["delete"], ["test"]])
def test_a_locked_keychain_is_exit_6_with_the_windows_words(tmp_path, sandbox, command):
    """With a display the user could unlock it (locked); without one no prompt can show (not available)."""
    import_profiles(tmp_path, tmp_path, profile_entry("Locked", sandbox.base_url, sandbox.demo_body))
    locked = {"PYTHON_KEYRING_BACKEND": "records_keyrings.LockedKeyring",
              "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), cli_env(tmp_path)["PYTHONPATH"]])}
    ran = moments(tmp_path, "key", *command, "--profile", "Locked", stdin=f"k-{SECRET_MARK}\n",
                  env=cli_env(tmp_path, DISPLAY=":99", WAYLAND_DISPLAY=None, **locked))
    assert ran.code == 6, ran.output
    assert ran.stderr == ("moments: The system keychain is locked: the keychain refused access because it is locked. "
                          "Unlock your keychain (you may have dismissed its password prompt) and try again, or keep "
                          "keys in memory for this session only.\n")
    no_key_in(ran)
    ran = moments(tmp_path, "key", *command, "--profile", "Locked", stdin=f"k-{SECRET_MARK}\n",
                  env=cli_env(tmp_path, DISPLAY=None, WAYLAND_DISPLAY=None, **locked))
    assert ran.code == 6 and ran.stderr.startswith(
        "moments: The system keychain is not available: the keychain is locked and cannot show its password prompt")


def test_a_key_that_is_not_plain_ascii_is_refused_in_words(tmp_path, sandbox):
    import_profiles(tmp_path, tmp_path, profile_entry("Typo", sandbox.base_url, sandbox.demo_body))
    ran = moments(tmp_path, "key", "set", "--profile", "Typo", stdin=f"k\u2013{SECRET_MARK}\n",
                  env=cli_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"))
    assert ran.code == 6 and "may only contain plain ASCII characters" in ran.stderr
    no_key_in(ran)


@pytest.mark.secret_service
def test_on_a_terminal_the_key_is_read_at_a_hidden_prompt(profile, sandbox):
    """stdin a real pseudo-terminal: getpass prompts (on the terminal) and does not echo what is typed."""
    home, profile_id = profile
    controller, terminal = pty.openpty()
    # A new session whose controlling terminal is the pty, as a shell's command has (getpass opens /dev/tty).
    command = [sys.executable, "-c", TAKE_TERMINAL, sys.executable, "-m", "moments_desktop.cli", "key", "set",
               "--profile", "Sandbox copy"]
    process = subprocess.Popen(command, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=cli_env(home), cwd=home, start_new_session=True)
    os.close(terminal)
    seen = b""
    try:
        while b"API key (not shown): " not in seen:
            ready, _, _ = select.select([controller], [], [], 30)
            assert ready, f"no prompt on the terminal: {seen!r}"
            chunk = os.read(controller, 1024)
            assert chunk, seen
            seen += chunk
        os.write(controller, sandbox.demo_key.encode() + b"\n")
        stdout, stderr = process.communicate(timeout=60)
        try:
            while select.select([controller], [], [], 1)[0] and (chunk := os.read(controller, 1024)):
                seen += chunk
        except OSError:
            pass  # the terminal closed with the process
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert sandbox.demo_key.encode() not in seen + stdout + stderr  # not echoed on the terminal either
    assert stored_key(profile_id) == sandbox.demo_key
