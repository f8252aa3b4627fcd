"""In presenter mode an error's words are masked like identifiers: a certificate or proxy failure names the
endpoint's host, and that host is masked in the preview panel, the stage, History's row and detail; with
presenter mode off the same words name it in clear. Closing with unsaved edits names the profile masked."""

from __future__ import annotations

import pytest
from forward_proxy import ForwardProxy
from PySide6.QtCore import Qt
from tls_certs import self_signed, tls_server

from moments_desktop.core.profiles import Profile
from moments_desktop.core.settings import ProxySetting

pytestmark = pytest.mark.gui

HOST = "rewards.contoso.example"


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch):
    for base in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(base, raising=False)
        monkeypatch.delenv(base.lower(), raising=False)


def _preview_in_presenter_mode(harness, qtbot, in_loop, until, sandbox, proxy_url):
    profile = harness.profiles.add(Profile(name="Contoso Holiday Campaign", base_url=f"https://{HOST}/prod",
                                           **sandbox.demo_body))
    harness.credentials.set_key(profile.id, sandbox.demo_key)
    harness.session.http.set_proxy(ProxySetting.manual(proxy_url))
    w = harness.window
    w.profile_combo.addItem(profile.name, profile.id)
    w.profile_combo.setCurrentIndex(w.profile_combo.count() - 1)
    harness.bridge.set_presenter(True)
    panel = w.preview_panel

    async def scenario():
        qtbot.mouseClick(w.preview_button, Qt.MouseButton.LeftButton)
        await until(lambda: panel.currentWidget() is panel.error_page and not harness.bridge.busy)

        w.tabs.setCurrentWidget(w.history_view)
        await until(lambda: w.history_view.model.rowCount() >= 1)
        w.history_view.select_row(0)
        await until(lambda: w.history_view.detail.entry is not None)

    in_loop(scenario)
    model = w.history_view.model
    history = [str(model.data(model.index(0, column))) for column in range(model.columnCount())]

    def shown() -> list[str]:
        return [panel.error_title.text(), panel.error_detail.text(), panel.error_advice.text(),
                w.stage.notice_title.text(), w.stage.notice_text.text(),
                w.history_view.detail.text.toPlainText()]

    masked = shown() + history
    harness.bridge.set_presenter(False)  # the same window, presenter mode off: the words in clear again
    clear = [panel.error_title.text(), panel.error_detail.text(), w.history_view.detail.text.toPlainText()]
    return masked, clear


def test_a_proxy_refusal_masks_the_endpoint_host_in_presenter_mode(make_harness, qtbot, in_loop, until, sandbox):
    harness = make_harness(info_retries=0)
    with ForwardProxy(refuse_connect=True) as proxy:
        masked, clear = _preview_in_presenter_mode(harness, qtbot, in_loop, until, sandbox, proxy.url)
    assert not any(HOST in text for text in masked), masked
    assert any("refused the connection" in text for text in masked), masked  # the words stay readable
    assert any(HOST in text for text in clear), clear


def test_a_certificate_error_masks_the_endpoint_host_in_presenter_mode(make_harness, qtbot, in_loop, until, sandbox,
                                                                     tmp_path):
    harness = make_harness(info_retries=0)
    cert, key = self_signed(tmp_path, HOST)
    with tls_server(cert, key) as url:
        port = int(url.rsplit(":", 1)[1])
        with ForwardProxy({HOST: ("127.0.0.1", port)}) as proxy:
            masked, clear = _preview_in_presenter_mode(harness, qtbot, in_loop, until, sandbox, proxy.url)
    assert not any(HOST in text for text in masked), masked
    assert any("could not be verified" in text for text in masked), masked
    assert any(HOST in text for text in clear), clear


def test_closing_with_unsaved_edits_names_the_profile_masked_in_presenter_mode(harness, in_loop, until, sandbox):
    profile = harness.profiles.add(Profile(name="Contoso Holiday Campaign", base_url=sandbox.base_url,
                                           **sandbox.demo_body))
    w = harness.window
    w.refresh_profile_list()
    index = w.profile_combo.findData(profile.id)
    w.profile_combo.setCurrentIndex(index)
    w.form.editors["momentId"].setText("LEVEL_UP_EDITED")  # an unsaved edit, presenter mode off
    w._profile_chosen()  # the draft is kept when the profile is left / re-chosen
    harness.bridge.set_presenter(True)
    asked = []
    w.ask_unsaved_edits = lambda names: asked.append(list(names)) or "cancel"
    assert w.is_dirty(profile.id)
    w._settle_unsaved_edits()
    assert asked and not any("Contoso" in name for name in asked[0]), asked
    assert asked[0] == [harness.bridge.renderer.profile_name(profile.name)]
