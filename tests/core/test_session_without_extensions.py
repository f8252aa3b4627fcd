"""The app works the same without the sandbox extensions (rewardTitle, rewardLocale: no public source
shows them). A real Session previews and claims against two real sandboxes, one with
``"sandbox_extensions": false``, and finds the same customer-facing texts, image, count, end date and
reward-URL behaviour (test mode: one URL every time; live: a new URL each claim)."""

from __future__ import annotations

import pytest
from sandbox_variants import get, variant_sandbox
from session_helpers import run_session

from moments_desktop.api_schema import SANDBOX_EXTENSION_FIELDS
from moments_desktop.core.profiles import DEMO_PROFILE_ID
from moments_desktop.core.render import Renderer

LIVE = {"campaignId": "LIVECAMP1", "rewardGroupId": "US"}
GERMAN = {"campaignId": "DEMOCAMP1", "rewardGroupId": "DE"}


@pytest.fixture(scope="module")
def sandboxes():
    with variant_sandbox(long_lived=True) as on, variant_sandbox(sandbox_extensions=False, long_lived=True) as off:
        yield {"on": on, "off": off}


def what_the_app_shows(sandbox, tmp_path) -> dict:
    """Everything the app takes from a preview and from claims, with the sandbox's own address taken out."""
    sandbox.admin.reset(ledger=True)
    base = sandbox.base_url

    def local(url):
        assert url is None or url.startswith(base + "/"), url
        return url and url[len(base):]

    async def scenario(session):
        seen: dict = {"extras": set()}
        for name, fields in (("demo", {}), ("german", GERMAN), ("live", LIVE)):
            preview = await session.preview(DEMO_PROFILE_ID, fields={**sandbox.demo_body, **fields})
            reward = preview.reward
            assert preview.ok, preview.error
            seen[name] = (preview.outcome, reward.notification_text, local(reward.image_url),
                          reward.remaining_count, reward.campaign_end_text, reward.reward_url)
            seen["extras"] |= set(reward.extra)
            assert get(reward.image_url).headers["content-type"].startswith("image/")
        urls = {}
        for name, fields in (("test mode", {}), ("live", LIVE)):
            plan = session.plan_claim(DEMO_PROFILE_ID, fields={**sandbox.demo_body, **fields})
            claims = [await session.claim(plan, plan.typed_confirmation) for _ in range(2)]
            for c in claims:
                assert c.call.ok, c.call.error
                assert get(c.reward_url).status_code == 200  # the redemption page opens
                seen["extras"] |= set(c.call.reward.extra)
            urls[name] = [local(c.reward_url) for c in claims]
            if name == "test mode":
                test_mode_answer = claims[0].call.reward.raw
            seen[f"claim {name}"] = [(c.call.outcome, c.call.reward.notification_text,
                                      local(c.call.reward.image_url), c.call.reward.remaining_count) for c in claims]
        seen["test mode URLs are one"] = len(set(urls["test mode"])) == 1
        seen["live URLs are new"] = len(set(urls["live"])) == 2
        # The raw view of a test-mode claim: the same, but for the two extension fields.
        seen["raw view"] = Renderer().body({k: v for k, v in test_mode_answer.items()
                                            if k not in SANDBOX_EXTENSION_FIELDS}).replace(base, "")
        return seen

    return run_session(sandbox, tmp_path, scenario)


def test_preview_and_claims_are_the_same_without_the_extensions(sandboxes, tmp_path):
    on = what_the_app_shows(sandboxes["on"], tmp_path / "on")
    off = what_the_app_shows(sandboxes["off"], tmp_path / "off")
    assert on.pop("extras") == set(SANDBOX_EXTENSION_FIELDS)  # they were there, kept as extra fields
    assert off.pop("extras") == set()  # and here they were not
    assert on == off
    assert on["demo"][1].startswith("Congratulations! You've earned Wireless Headphones")
    assert on["german"][1] == "Glückwunsch! Du hast einen E-Reader gewonnen."
    assert on["demo"][3] == 100 and on["live"][3] == 25 and on["demo"][4] == "31 Dec 2030"
    assert on["test mode URLs are one"] and on["live URLs are new"]
    assert [count for *_, count in on["claim live"]] == [24, 23]


def test_no_part_of_the_app_reads_the_extensions():
    # The app keeps unknown fields for the raw view; nothing outside the sandbox names these two.
    import pathlib

    import moments_desktop

    package = pathlib.Path(moments_desktop.__file__).parent
    for path in package.rglob("*.py"):
        if "sandbox" in path.relative_to(package).parts or path.name == "api_schema.py":
            continue
        text = path.read_text(encoding="utf-8")
        for name in (*SANDBOX_EXTENSION_FIELDS, "REWARD_TITLE", "REWARD_LOCALE", "SANDBOX_EXTENSION_FIELDS"):
            assert name not in text, f"{path.relative_to(package)} names {name}"
