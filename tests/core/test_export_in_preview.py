"""The two halves of Step 10 meet: a Braze tag the app exports, pasted into a message template, previews
cleanly and says what the customer would get — the tag the preview reads is the tag the export writes."""

from __future__ import annotations

import dataclasses
import json

from session_helpers import run_session

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.exports import ExportFormat
from moments_desktop.core.message_preview import (
    Channel,
    MessageTemplates,
    OutcomeKind,
    billing_warnings,
    check_templates,
    connected_content_calls,
    documented_outcome,
    render_all,
)
from moments_desktop.core.profiles import DEMO_PROFILE_ID


def templates_around(tag: str) -> MessageTemplates:
    """The exported tag at the top of each channel's first field, followed by what a Braze user writes."""
    return dataclasses.replace(
        MessageTemplates.defaults(),
        push_title="Reward",
        push_body=tag + "\n{{moments.rewardNotificationText}} ({{moments.remainingRewardCount}} left)",
        push_image_url="",
        email_subject="Subject",
        email_html=tag + "\n<p>{{moments.rewardNotificationText}}</p>",
        in_app_header="Header",
        in_app_body=tag + "\n{{moments.rewardNotificationText}}",
        in_app_image_url="",
        in_app_button="Redeem now",
    )


def rendered(messages, channel, kind):
    [message] = [m for m in messages if m.channel is channel and m.outcome.kind is kind]
    return message


def test_an_exported_get_reward_info_tag_previews_the_sandboxs_answer(sandbox, tmp_path):
    async def scenario(s):
        export = await s.export(DEMO_PROFILE_ID, Endpoint.GET_REWARD_INFO, ExportFormat.BRAZE)
        return export, await s.message_outcomes(DEMO_PROFILE_ID)

    export, outcomes = run_session(sandbox, tmp_path, scenario)
    templates = templates_around(export.text)
    assert check_templates(templates) == []  # the export's own tag is no mistake of the user's
    [call, *_] = connected_content_calls(templates)
    assert call.call.url == sandbox.base_url + Endpoint.GET_REWARD_INFO.path and call.call.save == "moments"
    assert billing_warnings(templates) == []  # free: nothing to warn of
    messages = render_all(templates, outcomes)
    reward = next(o for o in outcomes if o.kind is OutcomeKind.REWARD).response
    push = rendered(messages, Channel.PUSH, OutcomeKind.REWARD)
    assert push.aborted is None and push.problems == ()
    assert push.fields["body"].strip() == (
        f"{reward['rewardNotificationText']} ({reward['remainingRewardCount']} left)")
    # No guard on the free call: [] renders the user's text around blanks, which the preview shows as such.
    assert rendered(messages, Channel.PUSH, OutcomeKind.NO_REWARD).fields["body"].strip() == "( left)"


def test_an_exported_get_reward_tag_aborts_every_message_without_a_reward_url(sandbox, tmp_path):
    async def scenario(s):
        export = await s.export(DEMO_PROFILE_ID, Endpoint.GET_REWARD, ExportFormat.BRAZE)
        return export, await s.message_outcomes(DEMO_PROFILE_ID)

    export, outcomes = run_session(sandbox, tmp_path, scenario)
    templates = templates_around(export.text)
    assert check_templates(templates) == []
    warnings = billing_warnings(templates)
    assert warnings and all(w.kind == "billing" for w in warnings)
    assert {w.channel for w in warnings} == set(Channel)  # each channel's tag is a billed call
    messages = render_all(templates, outcomes)
    for channel in Channel:
        # The reward outcome carries a URL (a placeholder: the preview never calls GetReward): sent.
        assert rendered(messages, channel, OutcomeKind.REWARD).aborted is None
        # Every other outcome has none: the export's guard stops the message, as Braze would.
        for kind in (OutcomeKind.NO_REWARD, OutcomeKind.ERROR_TEXT, OutcomeKind.TIMEOUT, OutcomeKind.NOT_FOUND):
            assert rendered(messages, channel, kind).aborted == "no Moments reward", (channel, kind)
    assert sandbox.admin.ledger() == []  # and nothing was claimed to find that out


def test_an_awkward_value_exported_as_a_captured_body_is_read_back_by_the_preview(sandbox, tmp_path):
    """A value holding Liquid delimiters, `&`, quotes and Arabic goes into a {% capture %} JSON body: the
    preview parses the tag and renders the capture to exactly the request's fields."""
    awkward = {**sandbox.demo_body, "momentId": "{{x}} & {% y %} \"q\" 'a' مرحبا"}

    async def scenario(s):
        return await s.export(DEMO_PROFILE_ID, Endpoint.GET_REWARD_INFO, ExportFormat.BRAZE, fields=awkward)

    export = run_session(sandbox, tmp_path, scenario)
    templates = dataclasses.replace(templates_around(export.text),
                                    push_title=export.text + "{{moments_body}}")
    assert check_templates(templates) == []
    title = rendered(render_all(templates, [documented_outcome(OutcomeKind.REWARD, {"rewardNotificationText": "x"})]),
                     Channel.PUSH, OutcomeKind.REWARD).fields["title"]
    assert json.loads(title.strip()) == awkward

