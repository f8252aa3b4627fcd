"""The request form offers a sandbox catalog's ids as choices; other endpoints stay free text."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import Qt

from moments_desktop.api_schema import DEVICE_TYPES
from moments_desktop.core.profiles import DEMO_PROFILE_ID, Profile
from moments_desktop.core import session as session_module

pytestmark = pytest.mark.gui

FIT_APP = "3f6c2a8e-5b1d-4e7f-9a0c-7d2e4b6f8a10"
# The offscreen platform cannot grab the keyboard for or raise a popup; harmless here.
popup_warnings = pytest.mark.qt_log_ignore("does not support grabbing the keyboard", "does not support raise")


def labels(editor) -> dict[str, str]:
    return {c.value: c.label for c in editor.choices()}


def select(harness, profile):
    combo = harness.window.profile_combo
    combo.addItem(profile.name, profile.id)
    combo.setCurrentIndex(combo.count() - 1)


def record_catalog_answers(harness) -> list[tuple[str, object]]:
    answers: list[tuple[str, object]] = []
    harness.bridge.catalog_loaded.connect(lambda url, catalog: answers.append((url, catalog)))
    return answers


def _unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_profile_offers_catalog_values(harness, in_loop, until):
    w = harness.window
    form = w.form
    assert w.current_profile_id() == DEMO_PROFILE_ID

    async def scenario():
        await until(lambda: form.catalog is not None)

    in_loop(scenario)
    assert form.choices("appId") == ["DEMO1", FIT_APP]
    assert labels(form.editors["appId"])["DEMO1"] == "DEMO1 — Demo Game"
    assert form.choices("momentId") == ["GAME_COMPLETE", "LEVEL_UP", "DAILY_STREAK"]
    # only DEMO1's campaigns, each with its state and what is left
    assert form.choices("campaignId") == ["DEMOCAMP1", "LIVECAMP1", "FINCAMP1", "SUSPCAMP1"]
    campaign_labels = labels(form.editors["campaignId"])
    assert campaign_labels["LIVECAMP1"] == "LIVECAMP1 — Live, 35 left · Launch week (live)"
    assert campaign_labels["DEMOCAMP1"].startswith("DEMOCAMP1 — Approved (test mode), 190 left")
    assert form.choices("rewardGroupId") == ["US", "JP", "DE"]
    assert labels(form.editors["rewardGroupId"])["US"] == "US — en-US, 100 left"
    assert form.choices("deviceType") == list(DEVICE_TYPES)
    for name in ("appId", "momentId", "campaignId", "rewardGroupId"):
        assert form.editors[name].dropdown_action.isVisible(), name
    # the values in the fields are untouched by the choices arriving
    assert form.fields()["campaignId"] == "DEMOCAMP1" and not w.is_dirty()


@popup_warnings
def test_choosing_a_campaign_from_the_list_updates_reward_groups(qtbot, harness, in_loop, until):
    w = harness.window
    campaign = w.form.editors["campaignId"]
    popup = campaign.popup()

    async def scenario():
        await until(lambda: w.form.catalog is not None)
        campaign.dropdown_action.trigger()
        await until(popup.isVisible)
        shown = [popup.model().index(r, 0).data() for r in range(popup.model().rowCount())]
        assert "LIVECAMP1 — Live, 35 left · Launch week (live)" in shown and len(shown) == 4
        row = next(r for r, text in enumerate(shown) if text.startswith("LIVECAMP1"))
        index = popup.model().index(row, 0)
        qtbot.mouseClick(popup.viewport(), Qt.MouseButton.LeftButton, pos=popup.visualRect(index).center())
        await until(lambda: not popup.isVisible())

    in_loop(scenario)
    assert campaign.text() == "LIVECAMP1"  # the value, not the label
    assert w.form.choices("rewardGroupId") == ["US", "JP", "UK"]
    assert labels(w.form.editors["rewardGroupId"])["UK"] == "UK — en-GB, none left"
    assert not w.form.error_labels["campaignId"].isVisible()
    assert w.is_dirty() and w.preview_button.isEnabled()


def test_reward_groups_follow_a_typed_campaign_and_moments_follow_the_app(harness, in_loop, until):
    w = harness.window
    form = w.form

    async def scenario():
        await until(lambda: form.catalog is not None)

    in_loop(scenario)
    form.editors["appId"].setText(FIT_APP)
    assert form.choices("momentId") == ["WORKOUT_DONE", "MomentsReward"]
    assert form.choices("campaignId") == ["FITLIVE1", "FITPEND1", "FITDRAFT1", "FITREJ1", "FITSPRING1", "FITBUDGET1"]
    form.editors["campaignId"].setText("FITLIVE1")
    assert form.choices("rewardGroupId") == ["amz1yprime", "DE"]
    # a device type the campaign does not take stays choosable, and says what will happen
    assert labels(form.editors["deviceType"])["Web"] == "Web — not accepted by FITLIVE1"


@popup_warnings
def test_a_wrong_value_can_still_be_typed_and_is_validated_as_typed(qtbot, harness, in_loop, until):
    w = harness.window
    campaign = w.form.editors["campaignId"]
    error = w.form.error_labels["campaignId"]

    async def scenario():
        await until(lambda: w.form.catalog is not None)

    in_loop(scenario)
    campaign.clear()
    assert error.isVisible() and error.text() == "campaignId is required."
    assert not w.preview_button.isEnabled()
    qtbot.keyClicks(campaign, "NOT-IN-CATALOG")
    assert campaign.text() == "NOT-IN-CATALOG"
    assert not error.isVisible() and w.preview_button.isEnabled()
    # unknown campaign: every reward group id of the app's campaigns, still offered
    assert w.form.choices("rewardGroupId") == ["US", "JP", "DE", "UK"]

    async def save():
        w.save_button.click()
        await until(lambda: not w.is_dirty())

    in_loop(save)
    assert harness.profiles.get(DEMO_PROFILE_ID).campaignId == "NOT-IN-CATALOG"


@pytest.mark.parametrize("kind", ["answers_404", "nobody_listens"])
def test_non_sandbox_endpoint_keeps_free_text_without_noise(harness, in_loop, until, sandbox, monkeypatch, kind):
    errors = []
    monkeypatch.setattr(harness.window, "show_error", errors.append)
    # (/prod is the sandbox's stage prefix, served; /beta is not: it answers 403 Missing Authentication Token.)
    url = f"{sandbox.base_url}/beta" if kind == "answers_404" else f"http://127.0.0.1:{_unused_port()}"
    profile = harness.profiles.add(Profile(name="Not a sandbox", base_url=url, **sandbox.demo_body))
    answers = record_catalog_answers(harness)
    w = harness.window
    form = w.form

    async def scenario():
        await until(lambda: form.catalog is not None)  # the demo profile's sandbox first
        select(harness, profile)
        assert form.catalog is None  # dropped at once: another endpoint's ids never show
        await until(lambda: any(answer_url == url for answer_url, _ in answers))

    in_loop(scenario)
    assert [c for u, c in answers if u == url] == [None]
    assert form.catalog is None
    for name in ("appId", "momentId", "campaignId", "rewardGroupId"):
        assert form.choices(name) == [], name
        assert not form.editors[name].dropdown_action.isVisible(), name
        assert not form.error_labels[name].isVisible(), name
    assert form.choices("deviceType") == list(DEVICE_TYPES)
    assert form.fields()["campaignId"] == "DEMOCAMP1"
    assert w.preview_button.isEnabled()
    assert errors == [] and w.statusBar().currentMessage() == ""


def test_any_endpoint_serving_a_catalog_gets_choices(harness, in_loop, until, sandbox):
    # a profile pointing at a standalone sandbox (not the embedded one) by its URL
    profile = harness.profiles.add(Profile(name="Standalone sandbox", base_url=sandbox.base_url + "/",
                                           **sandbox.demo_body))
    harness.credentials.set_key(profile.id, sandbox.demo_key)
    w = harness.window

    async def scenario():
        select(harness, profile)
        await until(lambda: w.form.catalog is not None)

    in_loop(scenario)
    assert w.form.choices("campaignId") == ["DEMOCAMP1", "LIVECAMP1", "FINCAMP1", "SUSPCAMP1"]


def test_catalog_is_fetched_once_per_url_and_dropped_while_the_url_is_edited(make_harness, in_loop, until,
                                                                              sandbox, monkeypatch):
    fetched = []
    real_fetch = session_module.fetch_catalog

    async def counting_fetch(http, base_url, *args, **kwargs):
        fetched.append(base_url)
        return await real_fetch(http, base_url, *args, **kwargs)

    monkeypatch.setattr(session_module, "fetch_catalog", counting_fetch)
    harness = make_harness()  # counted from the window's first fetch, made while it is built
    other = harness.profiles.add(Profile(name="Other", base_url=sandbox.base_url + "/prod", **sandbox.demo_body))
    w = harness.window
    combo = w.profile_combo

    async def scenario():
        await until(lambda: w.form.catalog is not None)
        select(harness, other)
        await until(lambda: len(fetched) == 2)
        combo.setCurrentIndex(combo.findData(DEMO_PROFILE_ID))
        await until(lambda: w.form.catalog is not None)  # from the cache
        combo.setCurrentIndex(combo.findData(other.id))
        combo.setCurrentIndex(combo.findData(DEMO_PROFILE_ID))
        await until(lambda: w.form.catalog is not None)
        # typing in the endpoint drops the choices at once and asks again when typing pauses
        w.form.editors["base_url"].setText(sandbox.base_url + "/")
        assert w.form.catalog is None
        await until(lambda: w.form.catalog is not None)

    in_loop(scenario)
    assert fetched == [sandbox.base_url, sandbox.base_url + "/prod"]


def test_a_claim_drops_the_cached_catalog_so_stock_counts_are_fresh(harness, in_loop, until, sandbox):
    w = harness.window
    c = harness.bridge
    answers = record_catalog_answers(harness)
    before = sandbox.admin.remaining("LIVECAMP1", "US")
    fields = dict(w.form.fields(), campaignId="LIVECAMP1", rewardGroupId="US")

    def us_label(catalog):
        return {choice.value: choice.label for choice in catalog.reward_group_choices("DEMO1", "LIVECAMP1")}["US"]

    async def scenario():
        await until(lambda: w.form.catalog is not None)
        assert us_label(w.form.catalog).endswith(f"{before} left")
        assert c.claim(c.plan_claim(DEMO_PROFILE_ID, w.form.base_url(), fields))
        await until(lambda: not c.busy)
        answers.clear()
        c.load_catalog(w.form.base_url())  # within the 15 s freshness window: answered from the cache before
        await until(lambda: bool(answers))

    in_loop(scenario)
    assert sandbox.admin.remaining("LIVECAMP1", "US") == before - 1
    assert us_label(answers[-1][1]).endswith(f"{before - 1} left")
