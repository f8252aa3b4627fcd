#!/bin/sh
# Install the built .deb, run the installed app's --self-test (with a real, unlocked GNOME Keyring
# on a private session bus), remove the package and check it left nothing behind - except users'
# data, which must survive. Needs root (dpkg), dbus-run-session and gnome-keyring-daemon.
#
#   packaging/ci-package-test.sh [path/to/moments-desktop_X_arch.deb]
#
# Exits non-zero on the first failure.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEB=${1:-$(ls -t "$ROOT"/dist/moments-desktop_*.deb 2>/dev/null | head -n 1)}
[ -n "$DEB" ] && [ -f "$DEB" ] || { echo "FAIL: no .deb found (run: make package)" >&2; exit 1; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== package contents: $DEB"
dpkg-deb --info "$DEB" | sed -n '1,20p'
for f in ./opt/moments-desktop/moments-desktop ./usr/bin/moments-desktop ./usr/bin/moments \
         ./usr/share/applications/moments-desktop.desktop \
         ./usr/share/icons/hicolor/48x48/apps/moments-desktop.png \
         ./usr/share/icons/hicolor/256x256/apps/moments-desktop.png; do
    dpkg-deb --contents "$DEB" | awk '{print $6}' | grep -qx "$f" || fail "$f is not in the package"
done
if dpkg-deb --contents "$DEB" | awk '{print $6}' | grep -E '^\./(home|root)/'; then
    fail "package ships files under a home directory"
fi

echo "== user data that must survive the removal"
FAKE_HOME=$(mktemp -d)
mkdir -p "$FAKE_HOME/.config/moments-desktop" "$FAKE_HOME/.local/share/moments-desktop"
echo keep > "$FAKE_HOME/.config/moments-desktop/profiles.json"
echo keep > "$FAKE_HOME/.local/share/moments-desktop/journal.jsonl"

echo "== dpkg -i"
$SUDO dpkg -i "$DEB"
[ -x /usr/bin/moments-desktop ] || fail "/usr/bin/moments-desktop missing after install"
[ -x /usr/bin/moments ] || fail "/usr/bin/moments (the command line) missing after install"
[ -f /usr/share/applications/moments-desktop.desktop ] || fail ".desktop file missing after install"
if command -v desktop-file-validate >/dev/null 2>&1; then
    desktop-file-validate /usr/share/applications/moments-desktop.desktop
fi

echo "== self-test of the installed app (private D-Bus session + unlocked GNOME Keyring)"
OUT=$(mktemp)
set +e
HOME="$FAKE_HOME" dbus-run-session -- sh -c '
    echo -n pw | XDG_DATA_HOME=$(mktemp -d) gnome-keyring-daemon --unlock --components=secrets >/dev/null
    cd / && moments-desktop --self-test' >"$OUT" 2>&1
RC=$?
set -e
cat "$OUT"
[ "$RC" -eq 0 ] || fail "self-test exited with $RC"
grep -q '^PASS keyring: Secret Service' "$OUT" || fail "the frozen app did not find the Secret Service keyring backend"
grep -q '(frozen,' "$OUT" || fail "self-test did not run from the frozen bundle"
grep -q '^PASS message-preview:' "$OUT" || fail "the frozen app cannot render a message (python-liquid missing from the bundle?)"

echo "== the moments command line of the installed package, on a fresh home with nothing else running"
CLI_HOME=$(mktemp -d)
CLI_OUT=$(mktemp)
moments --version | grep -q '^moments ' || fail "moments --version did not answer"
set +e
(cd / && HOME="$CLI_HOME" env -u DBUS_SESSION_BUS_ADDRESS moments info --profile "Sandbox demo" --sandbox --json) \
    >"$CLI_OUT" 2>&1
RC=$?
set -e
cat "$CLI_OUT"
[ "$RC" -eq 0 ] || fail "moments info --sandbox exited with $RC"
grep -q '"schema": 1' "$CLI_OUT" || fail "moments info --json printed no schema-1 document"
grep -q '"remaining_count"' "$CLI_OUT" || fail "moments info --sandbox showed no reward"
set +e
(cd / && HOME="$CLI_HOME" env -u DBUS_SESSION_BUS_ADDRESS moments info --profile "no such profile") >/dev/null 2>&1
RC=$?
set -e
[ "$RC" -eq 2 ] || fail "moments with an unknown profile exited with $RC, not 2"
rm -rf "$CLI_HOME" "$CLI_OUT"

echo "== self-test without any Secret Service (must still pass, reporting no keychain)"
HOME="$FAKE_HOME" env -u DBUS_SESSION_BUS_ADDRESS moments-desktop --self-test || fail "self-test without keyring failed"

echo "== dpkg -r"
$SUDO dpkg -r moments-desktop
for f in /opt/moments-desktop /usr/bin/moments-desktop /usr/bin/moments /usr/share/applications/moments-desktop.desktop \
         /usr/share/icons/hicolor/48x48/apps/moments-desktop.png \
         /usr/share/icons/hicolor/256x256/apps/moments-desktop.png; do
    if [ -e "$f" ] || [ -L "$f" ]; then fail "$f still present after dpkg -r"; fi
done
dpkg-query -W -f='${Status}\n' moments-desktop 2>/dev/null | grep -q '^install ok installed' \
    && fail "dpkg still lists moments-desktop as installed"
[ -f "$FAKE_HOME/.config/moments-desktop/profiles.json" ] || fail "removal touched ~/.config"
[ -f "$FAKE_HOME/.local/share/moments-desktop/journal.jsonl" ] || fail "removal touched ~/.local/share"
$SUDO dpkg --purge moments-desktop >/dev/null 2>&1 || true
rm -rf "$FAKE_HOME" "$OUT"
echo "OK: install, self-test and removal all passed"
