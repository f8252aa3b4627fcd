"""`moments-desktop --self-test`: check that an installation (source tree or frozen bundle) works.

Prints one line per check ("PASS name: detail" / "FAIL name: detail") and returns 0 when all
checks pass, 1 otherwise. Needs no display: QT_QPA_PLATFORM defaults to "offscreen" when no
display server is reachable. Used by packaging/ci-package-test.sh against the installed .deb.
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


class CheckFailed(Exception):
    """A check ran and found a problem (detail in the message)."""


def _no_display() -> bool:
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return False


def _qt_app():
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication([sys.argv[0] if sys.argv else "moments-desktop"])
    return app


def check_qt() -> str:
    app = _qt_app()
    from PySide6 import __version__ as pyside_version

    name = app.platformName()
    if not name:
        raise CheckFailed("QGuiApplication started but reports no platform")
    return f"platform '{name}', PySide6 {pyside_version}"


def check_images() -> str:
    _qt_app()
    from PySide6.QtGui import QImage, QImageReader

    from moments_desktop.core.resources import resources_dir

    supported = {bytes(f.data()).decode().lower() for f in QImageReader.supportedImageFormats()}
    missing = sorted({"png", "jpeg", "webp"} - supported)
    if missing:
        raise CheckFailed(f"Qt image plugins missing for: {', '.join(missing)} (have: {', '.join(sorted(supported))})")
    files = sorted(p for p in (resources_dir() / "rewards").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise CheckFailed(f"no reward images in {resources_dir() / 'rewards'}")
    bad = []
    kinds = set()
    for path in files:
        image = QImage(str(path))
        if image.isNull() or image.width() <= 0:
            bad.append(path.name)
        else:
            kinds.add(IMAGE_SUFFIXES[path.suffix.lower()])
    if bad:
        raise CheckFailed(f"could not decode: {', '.join(bad)}")
    if not {"png", "jpeg", "webp"} <= kinds:
        raise CheckFailed(f"decoded only {', '.join(sorted(kinds))}; expected png, jpeg and webp samples")
    return f"decoded {len(files)} images ({', '.join(sorted(kinds))})"


def check_resources() -> str:
    from moments_desktop.core.resources import resource_path

    return str(resource_path("catalog.json"))


def check_sandbox() -> str:
    import httpx

    from moments_desktop.core.client import MomentsClient
    from moments_desktop.core.request import RewardRequest
    from moments_desktop.sandbox.catalog import load_default_catalog
    from moments_desktop.sandbox.server import SandboxServer

    demo = load_default_catalog().demo()
    body = demo.body()
    server = SandboxServer()
    base_url = server.start()
    try:
        request = RewardRequest(
            base_url=base_url,
            appId=body["appId"],
            momentId=body["momentId"],
            deviceType=body.get("deviceType", "Desktop"),
            campaignId=body["campaignId"],
            rewardGroupId=body["rewardGroupId"],
        )

        async def round_trip():
            async with httpx.AsyncClient() as http:
                return await MomentsClient(http, info_retries=0).get_reward_info(request, demo.api_key)

        result = asyncio.run(round_trip())
    finally:
        server.stop()
    if not result.ok:
        error = result.error
        detail = f"{type(error).__name__}: {error}" if error else "no reward in the response"
        raise CheckFailed(f"getRewardInfo against {base_url} failed: {detail}")
    reward = result.reward
    remaining = reward.remaining_count
    return f"{base_url} getRewardInfo OK (remainingCount={remaining}, image={'yes' if reward.image_url else 'no'})"


def _secret_service_reachable() -> bool | None:
    """True/False if the session bus answers; None if that cannot be asked (no bus, not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not Path(f"/run/user/{os.getuid()}/bus").exists():
        return None
    try:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection("SESSION") as conn:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner("org.freedesktop.secrets"), timeout=3)
            if reply.body and reply.body[0]:
                return True
            reply = conn.send_and_get_reply(message_bus.ListActivatableNames(), timeout=3)
            return "org.freedesktop.secrets" in (reply.body[0] if reply.body else [])
    except Exception:  # noqa: BLE001 - no session bus: nothing to compare against
        return None


def check_keyring() -> str:
    import keyring

    from moments_desktop.core.credentials import CredentialStore

    name = CredentialStore().backend_name()
    backend = keyring.get_keyring()
    qualname = f"{type(backend).__module__}.{type(backend).__name__}"
    inner = [f"{type(b).__module__}.{type(b).__name__}" for b in getattr(backend, "backends", [])]
    unusable = {"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"}
    is_fail = qualname in unusable or (qualname.endswith("ChainerBackend") and not inner)
    reachable = _secret_service_reachable()
    detail = f"{name} [{qualname}]"
    if is_fail and reachable:
        raise CheckFailed(
            f"{detail}, but a Secret Service answers on the session bus: keyring's backends "
            "were not found (frozen build missing keyring entry points / secretstorage?)"
        )
    if is_fail:
        detail += " (no Secret Service reachable here; not an installation fault)"
    return detail


def check_message_preview() -> str:
    """python-liquid is imported only when a message is first rendered: make sure the bundle carries it."""
    from moments_desktop.core.message_preview import Channel, OutcomeKind, documented_outcome, render_message
    from moments_desktop.core.message_templates import DEFAULT_TEMPLATES

    text = "Self-test reward"
    reward = documented_outcome(OutcomeKind.REWARD, {"rewardNotificationText": text,
                                                     "rewardNotificationUrl": "https://example.invalid/r"})
    message = render_message(DEFAULT_TEMPLATES, Channel.PUSH, reward)
    if message.aborted is not None or text not in message.fields.get("body", ""):
        raise CheckFailed(f"the default push message did not render: {message.aborted or message.problems}")
    import liquid

    return f"python-liquid {liquid.__version__}, default push message rendered"


def check_trust_store() -> str:
    """HTTPS is verified against the operating system's trust store: truststore is in the bundle and builds a
    verifying context here."""
    import ssl

    from moments_desktop.core.http import make_ssl_context

    context = make_ssl_context()
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise CheckFailed("the TLS context does not verify certificates")
    from importlib import metadata

    return f"truststore {metadata.version('truststore')}, {ssl.OPENSSL_VERSION}"


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("qt-platform", check_qt),
    ("image-formats", check_images),
    ("resources", check_resources),
    ("sandbox-roundtrip", check_sandbox),
    ("keyring", check_keyring),
    ("trust-store", check_trust_store),
    ("message-preview", check_message_preview),
]


def main(argv: list[str] | None = None) -> int:
    if _no_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    frozen = "frozen" if getattr(sys, "frozen", False) else "source"
    print(f"Moments Desktop self-test ({frozen}, Python {sys.version.split()[0]}, {sys.platform})")
    failures = 0
    for name, check in CHECKS:
        try:
            detail = check()
        except CheckFailed as exc:
            failures += 1
            print(f"FAIL {name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - report every check, never a bare traceback
            failures += 1
            last = traceback.extract_tb(exc.__traceback__)[-1:]
            where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
            print(f"FAIL {name}: {type(exc).__name__}: {exc}{where}")
        else:
            print(f"PASS {name}: {detail}")
        sys.stdout.flush()
    print(f"{len(CHECKS) - failures}/{len(CHECKS)} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
