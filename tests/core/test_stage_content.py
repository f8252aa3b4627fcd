"""core/stage.py: what presenter mode's stage shows for a preview, from the sandbox's real answers.

A profile with the built-in message templates gets defaults made from the reward; one with templates of its own
gets what they render for the reward (the Message tab's renderer), a channel that aborts shown as not sent; an
answer without a reward to give (out of stock) is not available and carries the API's own words.
"""

from __future__ import annotations

from dataclasses import replace

from session_helpers import run_session

from moments_desktop.core.message_templates import PLACEHOLDER_REWARD_URL, Channel, MessageTemplates
from moments_desktop.core.profiles import DEMO_PROFILE_ID
from moments_desktop.core.stage import DEFAULTS_SOURCE, TEMPLATES_SOURCE, stage_content
from moments_desktop.sandbox.messages import OUT_OF_STOCK, STATE_MESSAGES


def preview_reward(sandbox, tmp_path, **fields):
    async def scenario(session):
        result = await session.preview(DEMO_PROFILE_ID, fields={**sandbox.demo_body, **fields})
        assert result.ok, result.error
        return result.reward

    return run_session(sandbox, tmp_path, scenario)


def test_defaults_from_the_reward_for_the_built_in_templates(sandbox, tmp_path):
    reward = preview_reward(sandbox, tmp_path)
    for templates in (None, MessageTemplates.defaults()):
        content = stage_content(reward, templates)
        assert content.available and content.source == DEFAULTS_SOURCE
        assert content.announcement == reward.notification_text
        push = content.frame(Channel.PUSH)
        assert push.field("body") == reward.notification_text and push.field("image_url") == reward.image_url
        in_app = content.frame(Channel.IN_APP)
        assert in_app.field("button") == "Redeem now" and in_app.aborted is None
        email = content.frame(Channel.EMAIL)
        assert reward.image_url in email.field("html")
        assert content.image_urls == (reward.image_url,)


def test_the_profiles_own_templates_are_rendered_for_the_reward(sandbox, tmp_path):
    reward = preview_reward(sandbox, tmp_path)
    own = replace(MessageTemplates.defaults(), push_title="Well done, {{${first_name}}}!",
                  in_app_button="Get it: {{moments.remainingRewardCount}} left",
                  email_subject="{% abort_message('email off for this demo') %}")
    content = stage_content(reward, own)
    assert content.available and content.source == TEMPLATES_SOURCE
    assert content.frame(Channel.PUSH).field("title") == "Well done, Ana!"
    assert content.frame(Channel.PUSH).field("body") == reward.notification_text  # the default guard passed
    assert content.frame(Channel.IN_APP).field("button") == f"Get it: {reward.remaining_count} left"
    assert content.frame(Channel.EMAIL).aborted == "email off for this demo"
    # A preview has no reward URL: what the templates see is the labelled placeholder, never a real one.
    link = replace(own, in_app_body="{{moments.rewardNotificationUrl}}")
    assert stage_content(reward, link).frame(Channel.IN_APP).field("body") == PLACEHOLDER_REWARD_URL


def test_an_answer_without_a_reward_to_give_is_not_available(sandbox, tmp_path):
    reward = preview_reward(sandbox, tmp_path, campaignId="LIVECAMP1", rewardGroupId="UK")  # 0 in stock
    content = stage_content(reward, MessageTemplates.defaults())
    assert not content.available and content.frames == ()
    assert content.announcement == STATE_MESSAGES["en-US"][OUT_OF_STOCK]  # the API's own words, verbatim
    assert stage_content(reward, replace(MessageTemplates.defaults(), push_title="x")).frames == ()
