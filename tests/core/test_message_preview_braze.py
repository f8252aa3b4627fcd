"""Braze's flavour of Liquid where python-liquid differs (core/message_preview.py): raw blocks print
attribute references as written, nil is blank in case/when too, and attributes whose names differ
only in odd characters keep their own values."""

from __future__ import annotations

import dataclasses

from moments_desktop.core.message_preview import (
    DEFAULT_TEMPLATES,
    Channel,
    OutcomeKind,
    check_templates,
    documented_outcome,
    render_message,
)

REWARD = documented_outcome(OutcomeKind.REWARD, {"rewardNotificationText": "R",
                                                 "rewardNotificationUrl": "https://r/1"})
NO_REWARD = documented_outcome(OutcomeKind.NO_REWARD)


def _push_body(text: str, outcome=REWARD, attributes=(("first_name", "Ana"),)):
    templates = dataclasses.replace(DEFAULT_TEMPLATES, push_title="", push_body=text, push_image_url="",
                                    attributes=attributes)
    message = render_message(templates, Channel.PUSH, outcome)
    return message.fields["body"], [p for p in message.problems if p.field == "body"]


def test_a_raw_block_prints_an_attribute_reference_as_written():
    body, problems = _push_body("{% raw %}{{${first_name}}}{% endraw %} and {{${first_name}}}")
    assert body == "{{${first_name}}} and Ana"
    assert problems == []


def test_a_comment_block_keeps_its_attribute_references_out_of_the_checks():
    body, problems = _push_body("{% comment %}{{${nobody}}} {% comment %}{{${x}}}{% endcomment %}"
                                "{{${y}}}{% endcomment %}{{${first_name}}}")
    assert body == "Ana"
    assert problems == []


def test_nil_is_blank_in_case_when_as_braze_has_it():
    template = "{% case moments.rewardNotificationUrl %}{% when blank %}W{% else %}E{% endcase %}"
    assert _push_body(template, NO_REWARD)[0] == "W"
    assert _push_body(template, REWARD)[0] == "E"


def test_attributes_whose_names_differ_only_in_odd_characters_keep_their_own_values():
    attributes = (("first name", "A"), ("first_name", "B"), ("first-name", "C"))
    body, problems = _push_body("{{${first name}}}/{{${first_name}}}/{{${first-name}}}/"
                                "{{custom_attribute.${first_name}}}/{{custom_attribute.${first name}}}",
                                attributes=attributes)
    assert body == "A/B/C/B/A"
    assert problems == []


def test_a_missing_attribute_is_named_by_its_own_name_when_another_shares_its_identifier():
    templates = dataclasses.replace(DEFAULT_TEMPLATES, push_body="{{${first name}}}{{${first_name}}}",
                                    attributes=(("first name", "A"),))
    problems = [p for p in check_templates(templates) if p.field == "body"]
    assert [p.message for p in problems] == ["${first_name} has no value in the sample attributes"]
    assert problems[0].column == len("{{${first name}}}{{") + 1
