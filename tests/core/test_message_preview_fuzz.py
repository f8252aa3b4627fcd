"""Any template text and any sample attributes: the preview gives a rendering or a problem, never an
exception, never a hang. Text is drawn from Liquid's and Braze's own pieces so it reaches the parser's
corners (unclosed tags, stray braces, filters, ranges), not only plain text."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from moments_desktop.core.message_preview import (
    CHANNEL_FIELDS,
    DEFAULT_TEMPLATES,
    Channel,
    OutcomeKind,
    RenderedMessage,
    check_templates,
    documented_outcome,
    preview_report,
    render_message,
)

PIECES = [
    "{{", "}}", "{%", "%}", "{{-", "-}}", "{", "}", "${", "${first_name}", "|", ":", ",", "'", '"', "(", ")",
    "..", "[", "]", ".", " ", "\n", "if", "endif", "for", "endfor", "in", "unless", "case", "when", "else",
    "assign", "capture", "endcapture", "raw", "endraw", "comment", "endcomment", "abort_message", "('x')",
    "connected_content", "https://x/GetReward", ":save", ":method", "post", "moments", "moment",
    "rewardNotificationUrl", "rewardImageUrl", "remainingRewardCount", "custom_attribute", "content_blocks",
    "catalog_items", "include", "upcase", "default", "url_param_escape", "time_zone", "date", "md5",
    "number_with_delimiter", "split", "join", "append", "divided_by", "divided_by: 0", "plus", "0", "1", "(1..100000000)",
    "blank", "nil", "==", "<", "and", "or", "contains", "x", "é", "🎁", "\\", "%", "#",
    "9999999999999", "-99999999999999", "time_zone: 'UTC'", "date: '%Y'", "\ud800", "replace", "prepend",
    "url_decode", "base64_decode", "{% raw %}", "{% endraw %}", "${first name}", "when", "endcase",
]
TEMPLATE_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(PIECES), max_size=30).map("".join),
)
ATTRIBUTES = st.lists(st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=12)), max_size=4).map(tuple)
OUTCOMES = [documented_outcome(kind, {"rewardNotificationText": "R", "rewardNotificationUrl": "https://r/1"})
            for kind in OutcomeKind]
# An answer holding a lone surrogate: JSON's "\ud800" escape parses to one.
OUTCOMES.append(documented_outcome(OutcomeKind.REWARD, {"rewardNotificationText": "R\ud800",
                                                        "rewardNotificationUrl": "https://r/\udfff"}))

# What render_message and check_templates say when something inside them failed unexpectedly: a
# bug of the preview, never a problem a user should meet.
CATCH_ALL = ("this template cannot be rendered", "this template cannot be checked", "nothing could be rendered")


def _no_internal_error(problems) -> None:
    internal = [p.message for p in problems if p.message.startswith(CATCH_ALL)]
    assert not internal, internal


def _settings(max_examples: int):
    return settings(deadline=None, derandomize=True, database=None, max_examples=max_examples,
                    suppress_health_check=[HealthCheck.too_slow])


@_settings(300)
@given(text=TEMPLATE_TEXT, attributes=ATTRIBUTES, outcome=st.sampled_from(OUTCOMES),
       channel=st.sampled_from(list(Channel)))
@example(text="{{moments.remainingRewardCount}}}", attributes=(), outcome=OUTCOMES[0], channel=Channel.PUSH)
@example(text="{% for i in (1..1000000000) %}{{ i }}{% endfor %}", attributes=(), outcome=OUTCOMES[0],
         channel=Channel.PUSH)
@example(text="{{ moments.remainingRewardCount | divided_by: 0 }}", attributes=(), outcome=OUTCOMES[0],
         channel=Channel.PUSH)
@example(text="{{ (1..100000000) | join }}", attributes=(), outcome=OUTCOMES[0], channel=Channel.EMAIL)
@example(text="{% if %}{{${}}}{% abort_message(' %}", attributes=(("", ""),), outcome=OUTCOMES[3],
         channel=Channel.IN_APP)
@example(text="{{ 9999999999999 | time_zone:'UTC' }}", attributes=(), outcome=OUTCOMES[0], channel=Channel.PUSH)
@example(text="{{ 9999999999999 | date: '%Y' }}", attributes=(), outcome=OUTCOMES[0], channel=Channel.PUSH)
@example(text="{{ '9999-12-31T23:59:59' | time_zone: 'Pacific/Kiritimati' }}", attributes=(),
         outcome=OUTCOMES[0], channel=Channel.PUSH)
@example(text="a \ud800 b", attributes=(), outcome=OUTCOMES[0], channel=Channel.PUSH)
@example(text="{{ ${first_name} | md5 }}", attributes=(("first_name", "\udc00"),), outcome=OUTCOMES[0],
         channel=Channel.PUSH)
@example(text="{{ moments.rewardNotificationText | url_escape }}{{ moments.rewardNotificationUrl }}",
         attributes=(), outcome=OUTCOMES[-1], channel=Channel.PUSH)
def test_any_template_renders_or_says_why(text, attributes, outcome, channel):
    field = CHANNEL_FIELDS[channel][0]
    templates = dataclasses.replace(DEFAULT_TEMPLATES, **{f"{channel.value}_{field}": text},
                                    attributes=attributes)
    rendered = render_message(templates, channel, outcome)
    assert isinstance(rendered, RenderedMessage)
    assert set(rendered.fields) <= set(CHANNEL_FIELDS[channel])
    assert all(isinstance(value, str) for value in rendered.fields.values())
    if rendered.aborted is None:
        assert set(rendered.fields) == set(CHANNEL_FIELDS[channel])
    for problem in rendered.problems:
        assert problem.line >= 1 and problem.column >= 1 and problem.message
    _no_internal_error(rendered.problems)
    _no_internal_error(check_templates(templates))  # the static pass alone never raises either
    _no_internal_error(preview_report(templates, [outcome]).problems)  # nor does the tab's whole report
