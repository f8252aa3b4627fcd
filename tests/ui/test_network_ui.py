"""File ▸ Network settings… and Help ▸ About, driven through the real window: the proxy chosen there is saved
and used from the next request on (a real forward proxy sees it), a stored password is never put back in a
field, a certificate failure reads in plain words naming the host, and Copy diagnostics copies no key."""

from __future__ import annotations

import pytest
from forward_proxy import ForwardProxy
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialogButtonBox
from tls_certs import self_signed, tls_server

from moments_desktop.core.profiles import Profile
from moments_desktop.core.settings import PROXY_MANUAL, PROXY_SYSTEM, ProxySetting, load_settings
from moments_desktop.ui.network_settings import NetworkSettingsDialog
from moments_desktop.ui.window_menus import AboutBox

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch):
    for base in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(base, raising=False)
        monkeypatch.delenv(base.lower(), raising=False)


def _open_dialog(harness, in_loop, until):
    w = harness.window

    async def scenario():
        w.menu_actions.network_settings.trigger()
        await until(lambda: w.network_dialog is not None and w.network_dialog.isVisible())

    in_loop(scenario)
    return w.network_dialog


def _save(dialog, qtbot, in_loop, until):
    async def scenario():
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
        await until(lambda: not dialog.isVisible() or dialog.error_label.isVisible())

    in_loop(scenario)


def test_a_manual_proxy_is_saved_used_and_its_password_never_shown_again(harness, qtbot, in_loop, until, sandbox):
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    with ForwardProxy({"moments.test": ("127.0.0.1", port)}) as proxy:
        dialog = _open_dialog(harness, in_loop, until)
        assert dialog.mode() == PROXY_SYSTEM and not dialog.url_edit.isEnabled()

        dialog.set_mode(PROXY_MANUAL)
        assert dialog.url_edit.isEnabled()
        dialog.url_edit.setText("socks5://proxy:1080")
        _save(dialog, qtbot, in_loop, until)
        assert dialog.isVisible() and "socks5:// proxies are not supported" in dialog.error_label.text()
        assert not load_settings().settings.proxy.url  # nothing saved

        dialog.url_edit.setText(proxy.url)
        dialog.user_edit.setText("alice")
        dialog.password_edit.setText("hunter2")
        _save(dialog, qtbot, in_loop, until)
        assert not dialog.isVisible()
        saved = ProxySetting.manual(proxy.url, "alice", "hunter2")
        assert load_settings().settings.proxy == saved
        assert harness.session.proxy_setting == saved

        async def call_through_it():
            answer = await harness.session.http.post("http://moments.test/GetRewardInfo", json=sandbox.demo_body,
                                                     headers={"x-api-key": sandbox.demo_key})
            return answer.status_code

        assert in_loop(call_through_it) == 200
        assert proxy.seen == ["POST http://moments.test/GetRewardInfo"]

        again = _open_dialog(harness, in_loop, until)
        assert again.mode() == PROXY_MANUAL
        assert again.url_edit.text() == proxy.url and again.user_edit.text() == "alice"
        assert again.password_edit.text() == "" and "keep" in again.password_edit.placeholderText()
        _save(again, qtbot, in_loop, until)  # the password field left empty: the saved one is kept
        assert load_settings().settings.proxy == saved


def test_a_self_signed_endpoint_reads_in_plain_words_with_the_host(make_harness, qtbot, in_loop, until, sandbox,
                                                                   tmp_path, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    harness = make_harness(info_retries=0)
    with tls_server(*self_signed(tmp_path)) as url:
        profile = harness.profiles.add(Profile(name="Self-signed", base_url=url, **sandbox.demo_body))
        harness.credentials.set_key(profile.id, sandbox.demo_key)
        w = harness.window
        w.profile_combo.addItem(profile.name, profile.id)
        w.profile_combo.setCurrentIndex(w.profile_combo.count() - 1)
        panel = w.preview_panel

        async def scenario():
            qtbot.mouseClick(w.preview_button, Qt.MouseButton.LeftButton)
            await until(lambda: panel.currentWidget() is panel.error_page and not harness.bridge.busy)

        in_loop(scenario)
    assert panel.error_title.text() == "The certificate of 127.0.0.1 could not be verified"
    assert panel.error_detail.text() == "it is self-signed, and this computer does not trust it"
    assert "root certificate must be installed in the operating system" in panel.error_advice.text()
    assert "Traceback" not in panel.error_detail.text()


def test_about_shows_the_proxy_and_copy_diagnostics_copies_no_key(harness, qtbot, in_loop, until, sandbox):
    profile = harness.profiles.add(Profile(name="Contoso Holiday Campaign", base_url="https://rewards.contoso.example/prod",
                                           **sandbox.demo_body))
    harness.credentials.set_key(profile.id, "live-key-ABOUT-77aa")
    w = harness.window

    async def scenario():
        await until(lambda: w.keyring_label.text() != "Keychain: …")
        w.menu_actions.about.trigger()
        await until(lambda: w.about_box is not None and w.about_box.isVisible())

    in_loop(scenario)
    box = w.about_box
    text = box.text()
    assert "Proxy" in text and "System proxy settings" in text and "PySide6" in text and "Certificates" in text
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(box.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    box.close()
    assert copied.startswith("Moments Desktop diagnostics") and "MemoryKeyring" in copied
    assert "live-key-ABOUT-77aa" not in copied and sandbox.demo_key not in copied
    assert "Contoso" not in copied and "contoso" not in copied
    assert "copied" in box.copied.text()


@pytest.mark.parametrize("action, attribute, kind", [("about", "about_box", AboutBox),
                                                     ("network_settings", "network_dialog", NetworkSettingsDialog)])
def test_opening_about_or_network_settings_again_leaves_one_dialog_not_one_per_opening(harness, in_loop, until,
                                                                                        action, attribute, kind):
    w = harness.window
    opened = []

    async def scenario():
        for _ in range(3):
            getattr(w.menu_actions, action).trigger()
            await until(lambda: getattr(w, attribute) is not None and getattr(w, attribute).isVisible())
            opened.append(getattr(w, attribute))
            getattr(w.menu_actions, action).trigger()  # again while it is open: that one comes to the front
            assert getattr(w, attribute) is opened[-1] and opened[-1].isVisible()
            opened[-1].reject()
            await until(lambda: not opened[-1].isVisible())

    in_loop(scenario)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left = w.findChildren(kind)
    assert left == [getattr(w, attribute)], left  # the last one opened, still usable; the others are gone
    assert getattr(w, attribute).windowTitle()
