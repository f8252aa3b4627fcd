"""The message preview's rendering and checks (core/message_preview.py), with the partner page's own
mistakes: problems carry the line and column of the user's text, and no mistake renders as blank."""

from __future__ import annotations

import dataclasses

import pytest

from moments_desktop.core.message_preview import (
    CHANNEL_FIELDS,
    DEFAULT_TEMPLATES,
    MAX_TEMPLATE_CHARS,
    Channel,
    MessageTemplates,
    OutcomeKind,
    PreviewOutcome,
    check_templates,
    documented_outcome,
    parse_connected_content,
    render_all,
    render_message,
)

REWARD = PreviewOutcome(
    OutcomeKind.REWARD, "Reward", "", {
        "rewardNotificationText": "You earned a $5 gift card",
        "rewardNotificationUrl": "https://rewards.example/r/abc",
        "rewardImageUrl": "https://img.example/card.png",
        "remainingRewardCount": 12,
    },
)
NO_REWARD = documented_outcome(OutcomeKind.NO_REWARD)
ERROR_TEXT = documented_outcome(OutcomeKind.ERROR_TEXT)
TIMEOUT = documented_outcome(OutcomeKind.TIMEOUT)
NOT_FOUND = documented_outcome(OutcomeKind.NOT_FOUND)
BLANK = {name: "" for name in (
    "push_title", "push_body", "push_image_url", "email_subject", "email_html",
    "in_app_header", "in_app_body", "in_app_image_url", "in_app_button")}


def templates(**fields) -> MessageTemplates:
    return dataclasses.replace(MessageTemplates(**BLANK, attributes=(("first_name", "Ana"),)), **fields)


def push_body(text: str, outcome: PreviewOutcome = REWARD, **others):
    return render_message(templates(push_body=text, **others), Channel.PUSH, outcome)


def only(problems, kind=None):
    chosen = [p for p in problems if kind is None or p.kind == kind]
    assert len(chosen) == 1, problems
    return chosen[0]


# --- rendering per outcome -----------------------------------------------------------------


def test_the_defaults_render_the_reward_in_every_channel_without_problems():
    assert check_templates(DEFAULT_TEMPLATES) == []
    push, email, in_app = (render_message(DEFAULT_TEMPLATES, c, REWARD) for c in Channel)
    assert push.fields == {"title": "Ana, you earned a reward!", "body": "You earned a $5 gift card",
                           "image_url": "https://img.example/card.png"}
    assert 'href="https://rewards.example/r/abc">Redeem now' in email.fields["html"]
    assert '<img src="https://img.example/card.png" width="600" height="120"' in email.fields["html"]
    assert "Only 12 rewards left." in email.fields["html"]
    assert in_app.fields["button"] == "Redeem now" and in_app.aborted is None
    assert set(push.fields) == set(CHANNEL_FIELDS[Channel.PUSH])


@pytest.mark.parametrize("outcome", [NO_REWARD, ERROR_TEXT, TIMEOUT, NOT_FOUND], ids=lambda o: o.kind)
def test_the_default_guard_stops_every_message_without_a_reward_url(outcome):
    # Braze's Ruby Liquid (with Rails) takes a missing field as blank: the export's abort guard works on
    # [], an error text, and no answer at all.
    for channel in Channel:
        assert render_message(DEFAULT_TEMPLATES, channel, outcome).aborted == "no Moments reward"


def test_without_a_guard_the_error_text_reaches_the_customer_and_failures_render_blank():
    text = "{{moments.rewardNotificationText}}|{{moments.rewardNotificationUrl}}"
    assert push_body(text, ERROR_TEXT).fields["body"] == "This reward is not available right now.|"
    assert push_body(text, NO_REWARD).fields["body"] == "|"
    assert push_body(text, TIMEOUT).fields["body"] == "|"
    assert push_body(text, NOT_FOUND).fields["body"] == "|"


def test_render_all_gives_every_channel_for_every_outcome():
    rendered = render_all(DEFAULT_TEMPLATES, [REWARD, NO_REWARD])
    assert [(r.outcome.kind, r.channel) for r in rendered] == [
        (k, c) for k in (OutcomeKind.REWARD, OutcomeKind.NO_REWARD) for c in Channel]


# --- connected_content and :save ----------------------------------------------------------


def test_connected_content_is_parsed_with_its_options_and_braze_default_name():
    call = parse_connected_content('https://x/GetRewardInfo :method post :headers {"x-api-key": "k"} '
                                   ':body appId=A&momentId=B :content_type application/json :save moments')
    assert call.url == "https://x/GetRewardInfo" and call.save == "moments"
    assert call.options["method"] == "post" and call.options["headers"] == '{"x-api-key": "k"}'
    assert parse_connected_content("https://x/y :retry").save == "connected"


def test_the_save_name_of_the_tag_is_honoured_and_moments_is_then_not_predefined():
    body = "{% connected_content https://x/GetRewardInfo :save reward %}{{reward.rewardNotificationText}}"
    assert push_body(body).fields["body"] == "You earned a $5 gift card"
    wrong = push_body("{% connected_content https://x/GetRewardInfo :save reward %}{{moments.rewardImageUrl}}")
    problem = only(wrong.problems)
    assert problem.kind == "undefined" and (problem.line, problem.column) == (1, 63)
    assert problem.suggestion == "did you mean reward.rewardImageUrl?"
    assert wrong.fields["body"] == "⟦moments.rewardImageUrl is undefined⟧"


def test_without_save_the_answer_is_braze_default_connected():
    assert push_body("{% connected_content https://x/y %}{{connected.remainingRewardCount}}").fields["body"] == "12"


def test_a_saved_variable_lives_in_its_own_field_only_as_in_braze():
    rendered = render_message(templates(
        push_body="{% connected_content https://x/GetRewardInfo :save moments %}{{moments.rewardNotificationText}}",
        push_title="{{moments.rewardNotificationText}}",
    ), Channel.PUSH, REWARD)
    assert rendered.fields["body"] == "You earned a $5 gift card"
    problem = only(rendered.problems)
    assert problem.field == "title" and "saved by the connected_content tag of the push body" in problem.message
    assert problem.suggestion == "repeat the connected_content tag in this field"
    assert rendered.fields["title"] == "⟦moments is undefined here⟧"


def test_no_answer_means_the_tag_saves_nothing():
    body = "{% connected_content https://x/y :save m %}[{{m.rewardNotificationText}}]"
    assert push_body(body, TIMEOUT).fields["body"] == "[]"
    assert push_body(body, NOT_FOUND).fields["body"] == "[]"


# --- the partner page's mistakes, with exact positions -------------------------------------


def test_moment_for_moments_is_caught_with_its_position_and_a_suggestion():
    rendered = push_body("Hi!\n  <img src=\"{{moment.rewardImageUrl}}\">")
    problem = only(rendered.problems)
    assert (problem.kind, problem.line, problem.column) == ("undefined", 2, 15)
    assert problem.message == "moment is not defined — did you mean moments.rewardImageUrl?"
    assert problem.suggestion == "did you mean moments.rewardImageUrl?"
    assert "⟦moment.rewardImageUrl is undefined⟧" in rendered.fields["body"]


def test_a_misspelled_answer_field_is_caught_in_every_outcome():
    for outcome in (REWARD, NO_REWARD, TIMEOUT):
        rendered = push_body("{{moments.rewardImageURL}}", outcome)
        problem = only(rendered.problems)
        assert (problem.line, problem.column) == (1, 3)
        assert problem.suggestion == "did you mean moments.rewardImageUrl?"
        assert rendered.fields["body"] == "⟦moments.rewardImageURL is undefined⟧"


def test_a_field_only_the_real_answer_has_is_no_typo():
    outcome = dataclasses.replace(REWARD, response={**REWARD.response, "rewardTier": "gold"})
    assert push_body("{{moments.rewardTier}}", outcome).problems == ()
    assert push_body("{{moments.rewardTier}}", outcome).fields["body"] == "gold"


def test_the_stray_brace_of_the_partner_page_is_caught_and_shown():
    rendered = push_body("Only {{moments.remainingRewardCount}}} left")
    problem = only(rendered.problems)
    assert (problem.kind, problem.line, problem.column) == ("stray_brace", 1, 38)
    assert rendered.fields["body"] == "Only 12} left"


def test_a_stray_opening_brace_is_caught():
    problems = push_body("x\n{{{moments.rewardImageUrl}}").problems
    assert [(p.kind, p.line, p.column) for p in problems if p.kind == "stray_brace"] == [("stray_brace", 2, 3)]


def test_the_attribute_syntax_is_no_stray_brace():
    rendered = push_body("Hi {{${first_name}}}, {{custom_attribute.${first_name}}}")
    assert rendered.problems == () and rendered.fields["body"] == "Hi Ana, Ana"


@pytest.mark.parametrize(("text", "line", "column", "fragment"), [
    ("ok\n{% if moments.x %}never closed", 2, 1, "endif"),
    ("{{ moments.rewardImageUrl | }}", 1, 1, "expected"),
    ("a {{ b", 1, 3, "expected '}}'"),
    ("{% iff x %}{% endif %}", 1, 4, "iff is not a Liquid or Braze tag"),
    ("{% endif %}", 1, 4, "has no opening tag"),
])
def test_syntax_errors_have_their_position(text, line, column, fragment):
    rendered = push_body(text)
    problem = only(rendered.problems, "syntax")
    assert (problem.line, problem.column) == (line, column) and fragment in problem.message
    assert rendered.fields["body"] == "⟦not rendered: fix the syntax error first⟧"


def test_a_misspelled_tag_gets_a_suggestion():
    assert only(push_body("{% iff x %}{% endif %}").problems).suggestion == "did you mean {% if %}?"


# --- attributes ------------------------------------------------------------------------------


def test_attributes_read_the_sample_table_and_keep_positions():
    rendered = push_body("{{${first_name} | upcase}} {{${last_name}}}",
                         attributes=(("first_name", "Ana"), ("last_name", "Silva")))
    assert rendered.fields["body"] == "ANA Silva" and rendered.problems == ()


def test_an_attribute_missing_from_the_table_is_a_problem_with_a_suggestion():
    rendered = push_body("Hi\n {{${favorite_color}}}")
    problem = only(rendered.problems)
    assert (problem.kind, problem.line, problem.column) == ("undefined", 2, 4)
    assert problem.message == "${favorite_color} has no value in the sample attributes"
    assert problem.suggestion == "add 'favorite_color' to the sample attributes"
    assert rendered.fields["body"] == "Hi\n ⟦${favorite_color} has no sample value⟧"
    assert only(push_body("{{${first_nam}}}").problems).suggestion == "did you mean ${first_name}?"


def test_an_attribute_without_braze_syntax_is_pointed_to_it():
    assert only(push_body("{{first_name}}").problems).suggestion == "did you mean ${first_name}?"


def test_a_default_filter_still_works_on_a_missing_attribute():
    assert push_body("{{${nickname} | default: 'friend'}}").fields["body"] == "friend"


def test_dollar_braces_outside_liquid_and_in_a_string_are_text():
    assert push_body("costs ${price} {{ '${price}' }}").fields["body"] == "costs ${price} ${price}"


# --- abort, Braze filters and what is not simulated ----------------------------------------


def test_abort_message_stops_the_message_with_its_reason():
    rendered = push_body("{% if moments.remainingRewardCount < 20 %}{% abort_message('low stock') %}{% endif %}x")
    assert rendered.aborted == "low stock"
    assert push_body("{% abort_message() %}").aborted == "(no reason given)"
    assert push_body("x{% if false %}{% abort_message('no') %}{% endif %}").aborted is None


def test_braze_filters_are_reproduced():
    rendered = push_body("{{ 'hey<&>hi' | url_param_escape }} {{ 'hey' | md5 }} {{ 'hey' | sha2 }} "
                         "{{ 'blah' | base64_encode }} {{ 'hey' | hmac_sha256_hex: 'secret_key' }} "
                         "{{ 1234567 | number_with_delimiter }} {{ 'a\"b' | json_escape }} "
                         "{{ '2024-01-01T12:00:00+00:00' | time_zone: 'America/New_York' | date: '%H:%M' }}")
    assert rendered.problems == ()
    assert rendered.fields["body"] == (
        "hey%3C%26%3Ehi 6057f13c496ecf7fd777ceb9e79ae285 "
        "fa690b82061edfd2852629aeba8a8977b57e40fcb77d1a7a28b26cba62591204 YmxhaA== "
        "8df897f8da3d7992fe57c8dbc6f27578cfbf2dcc4d0fbb4000b8c924841d508e 1,234,567 a\\\"b 07:00")


def test_property_accessor_reads_a_key():
    assert push_body("{{ moments | property_accessor: 'remainingRewardCount' }}").fields["body"] == "12"


def test_a_braze_tag_or_filter_not_simulated_is_named_never_blank():
    rendered = push_body("a {% catalog_items games 1234 %} b {{ 'x' | as_json_string }} {{content_blocks.${footer}}}")
    kinds = [(p.kind, p.column) for p in rendered.problems]
    assert kinds == [("unsupported", 6), ("unsupported", 45), ("unsupported", 65)]
    body = rendered.fields["body"]
    assert "⟦{% catalog_items %} not simulated⟧" in body and "⟦| as_json_string not simulated⟧" in body
    assert "⟦content_blocks not simulated⟧" in body


def test_an_unknown_filter_is_named_with_a_suggestion():
    rendered = push_body("{{ moments.rewardNotificationText | upcasee }}")
    problem = only(rendered.problems)
    assert (problem.kind, problem.column) == ("undefined", 37)
    assert problem.suggestion == "did you mean upcase?"
    assert rendered.fields["body"] == "⟦| upcasee: unknown filter⟧"


# --- bounds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "{% for i in (1..1000000000) %}x{% endfor %}",
    "{{ (1..100000000) | join }}",
    "{% for i in (1..5000) %}{% for j in (1..5000) %}x{% endfor %}{% endfor %}",
    "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}",
])
def test_runaway_templates_stop_with_a_message(text):
    rendered = push_body(text)
    assert rendered.fields["body"] == "⟦not rendered: the template does too much work⟧"
    assert "rendering stopped" in only(rendered.problems).message


def test_a_long_range_stops_at_once_rather_than_after_the_output_limit():
    # Filters walk a range outside the loop limit: without its own bound this takes half a minute.
    assert "range too long" in only(push_body("{{ (1..100000000) | join }}").problems).message


def test_an_over_long_template_is_refused_with_a_message():
    rendered = push_body("x" * (MAX_TEMPLATE_CHARS + 1))
    assert "at most 50,000" in only(rendered.problems).message
    with pytest.raises(ValueError, match="longer than 50,000"):
        MessageTemplates.from_dict({**DEFAULT_TEMPLATES.to_dict(), "push_body": "x" * (MAX_TEMPLATE_CHARS + 1)})


def test_many_mistakes_are_listed_up_to_a_bound_then_counted():
    problems = push_body("{{moment.x}} " * 150).problems
    assert len(problems) == 101 and problems[-1].message == "and 50 more problems after this point"


def test_attribute_syntax_is_read_in_one_pass_even_when_repeated_thousands_of_times():
    rendered = push_body("{{${first_name}}}" * 2500)
    assert rendered.fields["body"] == "Ana" * 2500 and rendered.problems == ()


def test_a_failing_filter_is_a_problem_not_an_exception():
    rendered = push_body("{{ 1 | divided_by: 0 }}")
    assert "divide by 0" in only(rendered.problems).message


# --- the templates themselves -----------------------------------------------------------------


def test_templates_round_trip_through_a_dict_and_validate():
    assert MessageTemplates.from_dict(DEFAULT_TEMPLATES.to_dict()) == DEFAULT_TEMPLATES
    assert DEFAULT_TEMPLATES.field(Channel.EMAIL, "subject") == DEFAULT_TEMPLATES.email_subject
    for bad, fragment in [
        ([], "must be an object"),
        ({**DEFAULT_TEMPLATES.to_dict(), "push_title": 3}, "'push_title' must be text"),
        ({k: v for k, v in DEFAULT_TEMPLATES.to_dict().items() if k != "email_html"}, "'email_html' must be text"),
        ({**DEFAULT_TEMPLATES.to_dict(), "attributes": [["a"]]}, "[name, value] pair"),
        ({**DEFAULT_TEMPLATES.to_dict(), "attributes": "a=b"}, "list of [name, value]"),
    ]:
        with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
            MessageTemplates.from_dict(bad)


# --- GetReward tags: what they would cost ------------------------------------------------------


def test_get_reward_tags_are_found_where_they_stand_and_their_cost_said():
    from moments_desktop.core.message_preview import billing_warnings, connected_content_calls

    t = templates(
        push_title="{% connected_content https://h/prod/GetReward :cache_max_age 900 %}",
        push_body="x\n{% if a %}{% for i in (1..2) %}{% connected_content https://h/prod/GetReward :retry %}"
                  "{% endfor %}{% endif %}",
        email_html="{% connected_content https://h/prod/GetRewardInfo :save m %}",
    )
    placed = [(c.channel, c.field, c.line, c.column, c.calls_get_reward) for c in connected_content_calls(t)]
    assert placed == [(Channel.PUSH, "title", 1, 4, True), (Channel.PUSH, "body", 2, 35, True),
                      (Channel.EMAIL, "html", 1, 4, False)]
    warnings = [(w.field, w.line, w.column, w.message.split(":")[0] if w.message.startswith(":") else w.message[:20])
                for w in billing_warnings(t)]
    assert all(w.kind == "billing" for w in billing_warnings(t))
    messages = [w.message for w in billing_warnings(t)]
    assert sum("this tag calls GetReward" in m for m in messages) == 2
    assert any(m.startswith(":retry on GetReward") for m in messages)
    assert any(m.startswith(":cache_max_age on GetReward") for m in messages)
    assert any(m.startswith("2 fields of this message call GetReward") for m in messages)
    assert billing_warnings(DEFAULT_TEMPLATES) == [] and warnings


def test_a_tag_whose_url_is_made_by_liquid_may_call_get_reward_and_one_in_a_loop_calls_per_turn():
    from moments_desktop.core.message_preview import billing_warnings

    def messages(**fields):
        return [(w.field, w.line, w.column, w.message) for w in billing_warnings(templates(**fields))]

    captured = messages(push_body="{% capture u %}https://x/GetReward{% endcapture %}\n"
                                  "{% connected_content {{u}} :save m %}{{ m.rewardNotificationText }}")
    assert [(f, line, column) for f, line, column, _m in captured] == [("body", 2, 4)]
    assert "it may call GetReward" in captured[0][3]
    assert messages(push_body="{% connected_content https://x/{{ endpoint }} %}")[0][3] == captured[0][3]
    # Liquid that cannot choose the endpoint is no reason to warn.
    assert messages(push_body="{% connected_content {{ base }}/prod/GetRewardInfo?u={{${first_name}}} %}"
                              "{% connected_content https://x/prod/GetRewardInfo?u={{${first_name}}} %}") == []

    looped = [m for _f, _l, _c, m in messages(
        push_body="{% for i in (1..3) %}{% connected_content https://x/prod/GetReward %}{% else %}"
                  "{% connected_content https://x/prod/GetRewardInfo %}{% endfor %}",
        email_html="{% tablerow i in (1..2) %}{% connected_content {{u}} %}{% endtablerow %}")]
    assert sum("this tag calls GetReward" in m for m in looped) == 1
    assert sum(m.startswith("this tag stands inside a loop: Braze calls it once per turn") for m in looped) == 2
    assert any("once per turn, and each call is a billed reward" in m for m in looped)
    assert any("once per turn, and it may call GetReward" in m for m in looped)
    # Outside a loop no such warning; a loop's else block runs once.
    assert not any("loop" in m for _f, _l, _c, m in messages(
        push_body="{% for i in x %}{% else %}{% connected_content https://x/prod/GetReward %}{% endfor %}"))


def test_a_getreward_tag_as_the_export_writes_it_previews_and_its_guard_works():
    # The shape core/exports.py produces: a comment, a captured JSON body, the tag, the abort guard.
    body = (
        "{% comment %}GetReward is billed per call.{% endcomment %}\n"
        '{% capture moments_body %}{"appId":"DEMO1","campaignId":"DEMO CAMP","user":"{{${first_name}}}"}'
        "{% endcapture %}\n"
        '{% connected_content https://x.example/prod/GetReward :method post :headers {"x-api-key": '
        '"$MOMENTS_API_KEY"} :body {{moments_body}} :content_type application/json :save moments %}\n'
        "{% if moments.rewardNotificationUrl == blank %}{% abort_message('no Moments reward') %}{% endif %}"
        "{{moments.rewardNotificationText}} {{moments.rewardNotificationUrl}}"
    )
    rendered = push_body(body)
    assert rendered.problems == () and rendered.aborted is None
    assert rendered.fields["body"].strip() == "You earned a $5 gift card https://rewards.example/r/abc"
    assert push_body(body, NO_REWARD).aborted == "no Moments reward"


def test_the_preview_report_lists_billing_first_each_problem_once_and_every_image():
    from moments_desktop.core.message_preview import preview_report

    t = templates(
        push_body="{{ moment.x }}",
        push_image_url="{{ moments.rewardImageUrl }}",
        in_app_button="{% connected_content https://h/prod/GetReward :save moments %}",
        in_app_image_url="not a web address",
        email_html='<p><img src="https://img/a.png"><img src="{{ moments.rewardImageUrl }}">'
                   '<img src="https://img/a.png"></p>',
    )
    outcomes = [REWARD, NO_REWARD, ERROR_TEXT]
    report = preview_report(t, outcomes)
    assert len(report.rendered) == len(outcomes) * len(Channel)
    kinds = [p.kind for p in report.problems]
    assert kinds[0] == "billing" and kinds.index("undefined") > max(i for i, k in enumerate(kinds) if k == "billing")
    keys = [(p.kind, p.message, p.channel, p.field, p.line, p.column) for p in report.problems]
    assert len(keys) == len(set(keys))
    assert sum("moment is not defined" in p.message for p in report.problems) == 1  # once, not per outcome
    assert report.email_images[OutcomeKind.REWARD] == ("https://img/a.png", "https://img.example/card.png")
    assert report.email_images[OutcomeKind.NO_REWARD] == ("https://img/a.png",)
    assert report.image_urls == ("https://img.example/card.png", "https://img/a.png")

    static = preview_report(t, [])
    assert static.rendered == () and static.email_images == {}
    assert static.problems[0].kind == "billing"
    assert any("moment is not defined" in p.message for p in static.problems)
