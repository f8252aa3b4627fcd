"""The message preview's bounds on work (core/message_preview.py): texts that would make
python-liquid's lexer take the square of their length, filters asked for gigantic strings, and
internal errors that must never reach the user as "cannot be rendered"."""

from __future__ import annotations

import dataclasses
import time

import pytest

from moments_desktop.core import message_preview
from moments_desktop.core.message_preview import (
    DEFAULT_TEMPLATES,
    MAX_TEMPLATE_CHARS,
    Channel,
    OutcomeKind,
    check_templates,
    documented_outcome,
    render_all,
)

OUTCOMES = [documented_outcome(kind, {"rewardNotificationText": "R", "rewardNotificationUrl": "https://r/1"})
            for kind in OutcomeKind]


def _fill(unit: str, size: int = MAX_TEMPLATE_CHARS) -> str:
    return unit * (size // len(unit))


@pytest.fixture
def parses(monkeypatch):
    """Every text handed to python-liquid's parser, in order."""
    seen: list[str] = []
    plain = message_preview._ENVIRONMENT.from_string

    def counting(source, *args, **kwargs):
        seen.append(source)
        return plain(source, *args, **kwargs)

    monkeypatch.setattr(message_preview._ENVIRONMENT, "from_string", counting)
    return seen


PATHOLOGICAL = {
    "braces": _fill("{"),
    "outputs": _fill("{{"),
    "spaced outputs": _fill("{{ "),
    "raw": _fill("{% raw %}"),
    "doc": _fill("{% doc %}"),
    "braces in a comment": "{% comment %}" + _fill("{", MAX_TEMPLATE_CHARS - 40) + "{% endcomment %}",
    "raw then braces": "{% raw %}" + _fill("{", MAX_TEMPLATE_CHARS - 20),
    "quoted outputs": _fill("{{'"),
    "tags": _fill("{%"),
    "closings": _fill("}}"),
    "unclosed quote": "{{ '" + _fill("a", MAX_TEMPLATE_CHARS - 10),
    "unclosed tag quote": '{% if "' + _fill("a", MAX_TEMPLATE_CHARS - 10),
    "trimmed outputs": _fill("{{-"),
    "half-closed outputs": _fill("{{x}"),
    "stray braces that do not parse": _fill("{{{x}}"),
    "nested parentheses": "{{ " + _fill("(", MAX_TEMPLATE_CHARS - 10) + " }}",
    "parenthesised groups": "{% if " + _fill("(a) or ", MAX_TEMPLATE_CHARS - 30) + "a %}x{% endif %}",
}


@pytest.mark.parametrize("kind", list(PATHOLOGICAL))
def test_a_pathological_field_checks_and_renders_without_the_lexer_scanning_it_over_and_over(kind, parses):
    text = PATHOLOGICAL[kind]
    assert len(text) <= MAX_TEMPLATE_CHARS
    templates = dataclasses.replace(DEFAULT_TEMPLATES, push_title=text)
    started = time.perf_counter()
    problems = check_templates(templates)
    rendered = render_all(templates, OUTCOMES)
    report = message_preview.preview_report(templates, OUTCOMES)
    elapsed = time.perf_counter() - started
    # Each text is parsed at most once (a failure is kept too), and a text that would make the lexer
    # quadratic is not handed to it at all.
    long_parses = [source for source in parses if len(source) > 1000]
    assert len(long_parses) <= 1
    for source in long_parses:
        assert message_preview._lexer_hazard(source) is None
    assert elapsed < 5, f"{kind}: {elapsed:.1f} s"  # a guard against minutes; it takes milliseconds
    push = [message for message in rendered if message.channel is Channel.PUSH]
    assert all(isinstance(message.fields.get("title", ""), str) for message in push)
    if kind == "braces in a comment":  # valid Liquid: it renders, and nothing is wrong with it
        assert problems == [] and all(m.fields["title"] == "" for m in push)
    elif kind != "closings":
        assert any(p.field == "title" and p.kind in ("syntax", "stray_brace") for p in problems)
    if "parenthes" in kind:
        assert any("more than 300 parentheses" in p.message for p in problems)
    title = [p for p in report.problems if p.channel is Channel.PUSH and p.field == "title"]
    assert len(title) <= message_preview.MAX_PROBLEMS_PER_FIELD + 1
    assert not any(p.message.startswith(("this template cannot be", "this template fails when rendered"))
                   for p in title), title


def test_a_text_that_does_not_parse_is_parsed_once_for_every_render(parses):
    text = "Hi {% if moments.remainingRewardCount > %}once{% endif %} parse-once"
    templates = dataclasses.replace(DEFAULT_TEMPLATES, push_body=text)
    check_templates(templates)
    render_all(templates, OUTCOMES)
    render_all(templates, OUTCOMES)
    assert parses.count(text) == 1


def test_a_long_unclosed_run_of_braces_says_where_it_starts():
    text = "Hello\n" + "x" * 10 + _fill("{", 20_000)
    templates = dataclasses.replace(DEFAULT_TEMPLATES, push_title=text)
    problems = [p for p in check_templates(templates) if p.field == "title" and p.channel is Channel.PUSH]
    assert problems[0].kind == "stray_brace"
    assert (problems[0].line, problems[0].column) == (2, 11)
    assert "never closed" in problems[0].message


# Each replace puts the whole text in place of every x: 40 → 1,600 → 64,000 → 2,560,000 → 102,400,000
# → 4,096,000,000 characters asked for in one expression.
MULTIPLYING = ("{% assign s = '" + "x" * 40 + "' %}"
               "{% assign t = s | replace: 'x', s | replace: 'x', s | replace: 'x', s | replace: 'x', s"
               " | replace: 'x', s %}{{ t | size }}")

_BOUNDED_RENDER = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB: the old code asks for 4 GB
import dataclasses
from moments_desktop.core.message_preview import DEFAULT_TEMPLATES, Channel, OutcomeKind, documented_outcome, render_message
templates = dataclasses.replace(DEFAULT_TEMPLATES, push_body=sys.argv[1])
message = render_message(templates, Channel.PUSH, documented_outcome(OutcomeKind.REWARD))
print(json.dumps([problem.message for problem in message.problems if problem.field == "body"]))
"""


def test_a_filter_asked_for_billions_of_characters_stops_the_render_before_making_them(tmp_path):
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _BOUNDED_RENDER, MULTIPLYING], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    messages = json.loads(done.stdout)
    assert any(message.startswith("rendering stopped (the filter replace would make a text of")
               for message in messages), messages
    assert not any("cannot be rendered" in message for message in messages), messages


@pytest.mark.parametrize("template, name", [
    ("{% assign s = '" + "y" * 1000 + "' %}{{ (1..1000) | join: s | size }}", "join"),
    ("{% assign s = '" + "y" * 1000 + "' %}{% assign t = s | replace: 'y', s %}{{ t | size }}", "replace"),
])
def test_a_multiplying_filter_is_stopped_with_a_clear_problem(template, name):
    templates = dataclasses.replace(DEFAULT_TEMPLATES, push_body=template)
    message = message_preview.render_message(templates, Channel.PUSH, OUTCOMES[0])
    body = [problem.message for problem in message.problems if problem.field == "body"]
    assert any(f"the filter {name} would make a text of" in text for text in body), body
    assert "does too much work" in message.fields["body"]


def _body(template: str, attributes=(), outcome=None):
    templates = dataclasses.replace(DEFAULT_TEMPLATES, push_body=template, attributes=attributes)
    message = message_preview.render_message(templates, Channel.PUSH, outcome or OUTCOMES[0])
    return message.fields["body"], [p for p in message.problems if p.field == "body"]


def test_a_time_outside_the_years_a_date_can_show_is_a_clear_problem():
    for template in ("{{ 9999999999999 | time_zone:'UTC' }}", "{{ 9999999999999 | date: '%Y' }}"):
        body, problems = _body(template)
        assert [p.message for p in problems] == [
            f"this template fails when rendered: the filter {template.split('|')[1].split(':')[0].strip()} got "
            "9999999999999, a time outside the years 1 to 9999 a date can show"]
        assert "not rendered" in body


def test_a_lone_surrogate_is_named_where_it_stands_and_shown_as_a_replacement_in_values():
    _body_text, problems = _body("Hi\n  {{ 'x' }}\ud83c!")
    assert [(p.kind, p.line, p.column) for p in problems] == [("syntax", 2, 12)]
    assert "unpaired surrogate, U+D83C" in problems[0].message
    answer = documented_outcome(OutcomeKind.REWARD, {"rewardNotificationText": "R\ud800"})
    body, problems = _body("{{ moments.rewardNotificationText | md5 | size }} {{ moments.rewardNotificationText }}"
                           " {{ ${first_name} }}", (("first_name", "A\udc00"),), answer)
    assert body == "32 R\ufffd A\ufffd"
    assert [p.message for p in problems] == [
        "the sample value of ${first_name} holds a character no message can carry (an unpaired surrogate): "
        "the preview shows \ufffd in its place"]
