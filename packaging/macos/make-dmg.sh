#!/bin/sh
# Sign, notarize and package "dist/Moments Desktop.app" (built by `python packaging/build.py` on macOS)
# into dist/moments-desktop-<version>.dmg. NOT EXERCISED here (no macOS); written for macos-latest CI.
#
# Env: MACOS_SIGN_IDENTITY  e.g. "Developer ID Application: Example Corp (TEAMID1234)"  (required to sign)
#      NOTARY_PROFILE       a `xcrun notarytool store-credentials` profile name (optional: skip notarization)
#      VERSION              defaults to pyproject's version
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
APP="$ROOT/dist/Moments Desktop.app"
VERSION=${VERSION:-$(python3 -c "import tomllib;print(tomllib.load(open('$ROOT/pyproject.toml','rb'))['project']['version'])")}
DMG="$ROOT/dist/moments-desktop-$VERSION.dmg"
ENTITLEMENTS="$ROOT/packaging/macos/entitlements.plist"

[ -d "$APP" ] || { echo "missing $APP; run python packaging/build.py first" >&2; exit 1; }

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    # Sign inside-out: every Mach-O first, then the bundle. Hardened runtime is required for notarization.
    find "$APP/Contents" -type f \( -name '*.so' -o -name '*.dylib' -o -perm -u+x \) -print0 |
        xargs -0 -n 20 codesign --force --timestamp --options runtime \
            --entitlements "$ENTITLEMENTS" --sign "$MACOS_SIGN_IDENTITY"
    codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
        --sign "$MACOS_SIGN_IDENTITY" "$APP"
    codesign --verify --deep --strict --verbose=2 "$APP"
else
    echo "MACOS_SIGN_IDENTITY not set: building an UNSIGNED dmg (keychain items will re-prompt after updates)" >&2
fi

# --- self-test the .app before shipping it
"$APP/Contents/MacOS/moments-desktop" --self-test

rm -f "$DMG"
STAGE=$(mktemp -d)
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "Moments Desktop" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
rm -rf "$STAGE"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
fi
if [ -n "${MACOS_SIGN_IDENTITY:-}" ] && [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
    spctl --assess --type open --context context:primary-signature -v "$DMG"
fi
echo "$DMG"
