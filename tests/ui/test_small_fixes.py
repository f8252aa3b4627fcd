"""The smaller findings of issue 11 (13), each with its own test, the real window over the real sandbox:

(a) Preview pressed while the History tab is open showed nothing: the answer arrived on a hidden tab.
(b) The unknown-outcome banner shifted every control down 46 px the moment it appeared.
(c) New… from the demo profile pre-filled the production endpoint.
(d) The app sent ``GET {endpoint}/__sandbox/catalog`` to any endpoint, production included.

And the refusal messages of the inputs (tests/core/test_inputs.py) as the form shows them, and a server's
echo of the API key as the Raw tab, its Copy and the error panel show it.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from memory_keyring import MemoryKeyring
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from moments_desktop.api_schema import DEFAULT_BASE_URL, Endpoint, Outcome
from moments_desktop.core.catalog_choices import SandboxCatalog
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.exchange import REDACTED
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import DEMO_PROFILE_ID, EMBEDDED_SANDBOX_URL, Profile, ProfileStore
from moments_desktop.core.request import CREDENTIALS_IN_URL_MESSAGE, UNENCODABLE_MESSAGE
from moments_desktop.core.session import Session

pytestmark = pytest.mark.gui


def select(window, profile_id: str) -> None:
    window.refresh_profile_list()
    window.profile_combo.setCurrentIndex(window.profile_combo.findData(profile_id))


# --- (a) Preview with the History tab open -----------------------------------------------------------


def test_preview_pressed_on_the_history_tab_shows_the_answer(harness, in_loop, until):
    w = harness.window

    async def scenario():
        w.tabs.setCurrentWidget(w.history_view)
        w.preview_button.click()
        await until(lambda: not harness.bridge.busy)
        panel = w.preview_panel
        await until(lambda: panel.currentWidget() is panel.card_page)

    in_loop(scenario)
    assert w.tabs.currentWidget() is w.preview_panel  # used to stay on History: nothing seen


def test_preview_pressed_on_the_raw_tab_stays_where_the_user_is(harness, in_loop, until):
    w = harness.window

    async def scenario():
        w.tabs.setCurrentWidget(w.raw_view)
        w.preview_button.click()
        await until(lambda: not harness.bridge.busy)
        await until(lambda: w.raw_view.copy_button.isEnabled())

    in_loop(scenario)
    assert w.tabs.currentWidget() is w.raw_view
    assert "HTTP 200" in w.raw_view.text.toPlainText()


# --- (b) the unknown-outcome banner moves nothing ----------------------------------------------------


def _positions(window) -> dict[str, tuple[int, int, int]]:
    """Where each control is in the window (x, y, width): what a user's eye and mouse aim at."""
    controls: dict[str, QWidget] = {
        "profile": window.profile_combo, "new": window.new_button, "preview": window.preview_button,
        "claim": window.claim_button, "tabs": window.tabs.tabBar(), "card": window.preview_panel,
        **{f"field {name}": editor for name, editor in window.form.editors.items()},
    }
    out = {}
    for name, widget in controls.items():
        top_left = widget.mapTo(window, QPoint(0, 0))
        out[name] = (top_left.x(), top_left.y(), widget.width())
    return out


def test_the_unknown_outcome_banner_appears_without_moving_any_control(harness, sandbox, in_loop, until,
                                                                       tmp_path, qtbot):
    w = harness.window
    w.resize(1240, 780)
    mine = harness.profiles.add(Profile(name="QA", base_url=sandbox.base_url, **sandbox.demo_body))
    harness.credentials.set_key(mine.id, sandbox.demo_key)
    select(w, mine.id)
    sandbox.admin.add_fault(Endpoint.GET_REWARD, "drop_after_read", times=1)  # the answer never arrives
    shots = {}

    async def scenario():
        await until(lambda: w.history_service.unresolved_count == 0)
        await asyncio.sleep(0.2)
        before = _positions(w)
        shots["before"] = w.grab()
        qtbot.mouseClick(w.claim_button, Qt.MouseButton.LeftButton)
        dialog = w.claim_flow.dialog
        assert dialog is not None
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        await until(lambda: not harness.bridge.busy)
        await until(lambda: w.unresolved_banner.isVisible())
        await asyncio.sleep(0.2)
        shots["after"] = w.grab()
        return before, _positions(w)

    before, after = in_loop(scenario)
    assert [e.outcome for e in harness.journal.query({"endpoint": "GetReward"})] == [Outcome.UNKNOWN]
    assert w.unresolved_banner.isVisible() and w.unresolved_banner.height() > 20
    assert after == before  # used to be 46 px lower, every one of them
    shots["before"].save(str(tmp_path / "banner-before.png"))
    shots["after"].save(str(tmp_path / "banner-after.png"))


# --- (c) New… from the demo -------------------------------------------------------------------------


def test_new_from_the_demo_profile_stays_on_the_embedded_sandbox(harness, sandbox, in_loop, until,
                                                                 monkeypatch):
    w = harness.window
    monkeypatch.setattr(w, "ask_text", lambda *args, **kwargs: "My sandbox tests")
    assert w.current_profile_id() == DEMO_PROFILE_ID

    async def scenario():
        w.new_button.click()
        await until(lambda: w.current_profile_id() != DEMO_PROFILE_ID)
        await until(lambda: not harness.bridge.profile_write_busy)

    in_loop(scenario)
    new = harness.profiles.get(w.current_profile_id())
    assert new.name == "My sandbox tests" and not new.is_builtin
    assert new.base_url == EMBEDDED_SANDBOX_URL and new.live is False
    assert w.form.base_url() == sandbox.base_url != DEFAULT_BASE_URL  # used to show production
    assert w.mode_badge.text() != "LIVE"


# --- (d) the catalog probe --------------------------------------------------------------------------


class RecordingTransport(httpx.AsyncBaseTransport):
    """Records every request, then delivers it to the real sandbox whatever host it names: as if each
    name resolved to it. So a probe that goes out is both seen here and answered for real."""

    def __init__(self, sandbox_url: str):
        self.target = httpx.URL(sandbox_url)
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        request.url = request.url.copy_with(scheme=self.target.scheme, host=self.target.host,
                                            port=self.target.port)
        request.headers["host"] = f"{self.target.host}:{self.target.port}"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("url, allowed", [
    ("http://127.0.0.1:8080", True), ("http://127.0.0.2:8080", True), ("http://[::1]:8080", True),
    ("http://localhost:8080", True), (DEFAULT_BASE_URL, False), ("https://sandbox.qa.example.com", False),
    ("http://localhost.example.com:8080", False), ("http://127.0.0.1.nip.io:8080", False),
    ("http://qa:secret@127.0.0.1:8080", False),
])
def test_only_loopback_endpoints_are_asked_for_a_catalog_unless_marked(tmp_path, url, allowed):
    session = Session(ProfileStore(tmp_path / "profiles.json"), CredentialStore(MemoryKeyring()),
                      Journal(tmp_path / "journal.sqlite3"), httpx.AsyncClient())
    try:
        assert session.may_ask_for_catalog(url) is allowed
    finally:
        asyncio.run(session.aclose())


def test_production_is_never_probed_and_a_marked_sandbox_is(tmp_path, sandbox):
    shared = "https://sandbox.qa.example.com"

    async def main():
        transport = RecordingTransport(sandbox.base_url)
        session = Session(ProfileStore(tmp_path / "profiles.json"), CredentialStore(MemoryKeyring()),
                          Journal(tmp_path / "journal.sqlite3"), httpx.AsyncClient(transport=transport))
        try:
            assert await session.catalog(DEFAULT_BASE_URL) is None
            assert await session.catalog(shared) is None
            assert transport.seen == []  # used to be two probes, production's included
            profile = session.profiles.add(Profile(name="Shared sandbox", base_url=shared, **sandbox.demo_body))
            await session.save_settings(profile.id, live=False, cost_per_action=None, currency="USD", notes="",
                                        is_sandbox=True)
            assert ProfileStore(tmp_path / "profiles.json").get(profile.id).is_sandbox  # saved
            catalog = await session.catalog(shared)
            assert isinstance(catalog, SandboxCatalog)
            assert transport.seen == [f"{shared}/__sandbox/catalog"]
            assert await session.catalog(DEFAULT_BASE_URL) is None and len(transport.seen) == 1
        finally:
            await session.aclose()

    asyncio.run(main())


def test_the_settings_dialog_marks_an_endpoint_as_a_sandbox(harness, in_loop, until):
    w = harness.window
    mine = harness.profiles.add(Profile(name="Shared", base_url="https://sandbox.qa.example.com",
                                        appId="A", momentId="M", campaignId="C", rewardGroupId="US"))
    select(w, mine.id)
    made = []
    original = w.make_settings_dialog
    w.make_settings_dialog = lambda profile: made.append(original(profile)) or made[-1]

    async def scenario():
        w.settings_button.click()
        dialog = made[0]
        assert not dialog.sandbox_check.isChecked()
        dialog.sandbox_check.setChecked(True)
        dialog.save_button.click()
        await until(lambda: harness.profiles.get(mine.id).is_sandbox)

    in_loop(scenario)
    assert ProfileStore(harness.profiles.path).get(mine.id).is_sandbox


# --- refusals in the form, and a server's echo of the key on screen ------------------------------------


def test_the_form_refuses_credentials_in_the_endpoint_and_broken_characters(harness, in_loop, tmp_path):
    w = harness.window
    w.resize(1240, 780)
    w.form.editors["base_url"].setText("https://qa:hunter2@moments.example.com/prod")
    w.form.editors["appId"].setText("DEMO\ud800")
    errors = w.form.errors()
    assert errors["base_url"] == CREDENTIALS_IN_URL_MESSAGE
    assert errors["appId"] == UNENCODABLE_MESSAGE  # Qt holds it as U+FFFD, the mark of a broken character
    assert not w.form.is_valid() and not w.preview_button.isEnabled() and not w.claim_button.isEnabled()
    assert w.form.error_labels["base_url"].text() == CREDENTIALS_IN_URL_MESSAGE
    assert w.form.error_labels["appId"].text() == UNENCODABLE_MESSAGE
    assert "hunter2" not in w.endpoint_label.text() and REDACTED in w.endpoint_label.text()
    w.grab().save(str(tmp_path / "refusals.png"))
    w.discard_all_edits()


def test_a_key_echoed_by_the_server_is_redacted_in_raw_copy_and_the_error_panel(harness, sandbox, in_loop,
                                                                                until):
    w = harness.window
    mine = harness.profiles.add(Profile(name="QA", base_url=sandbox.base_url, **sandbox.demo_body))
    harness.credentials.set_key(mine.id, sandbox.demo_key)
    select(w, mine.id)
    sandbox.admin.add_fault(Endpoint.GET_REWARD_INFO, "status", status=403, echo_key=True, times=1)

    async def scenario():
        await until(lambda: w.preview_button.isEnabled())
        w.preview_button.click()
        await until(lambda: not harness.bridge.busy)
        await until(lambda: w.raw_view.copy_button.isEnabled())

    in_loop(scenario)
    raw = w.raw_view.text.toPlainText()
    w.raw_view.copy()
    copied = QGuiApplication.clipboard().text()
    panel = " ".join(label.text() for label in (w.preview_panel.error_title, w.preview_panel.error_advice,
                                                 w.preview_panel.error_detail))
    assert w.preview_panel.currentWidget() is w.preview_panel.error_page
    assert "HTTP 403" in raw and REDACTED in raw and REDACTED in panel
    for shown in (raw, copied, panel):
        assert sandbox.demo_key not in shown
