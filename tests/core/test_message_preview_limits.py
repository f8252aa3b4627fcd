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
}


@pytest.mark.parametrize("kind", list(PATHOLOGICAL))
def test_a_pathological_field_checks_and_renders_without_the_lexer_scanning_it_over_and_over(kind, parses):
    text = PATHOLOGICAL[kind]
    assert len(text) <= MAX_TEMPLATE_CHARS
    templates = dataclasses.replace(DEFAULT_TEMPLATES, push_title=text)
    started = time.perf_counter()
    problems = check_templates(templates)
    rendered = render_all(templates, OUTCOMES)
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
    if kind != "closings":
        assert any(p.field == "title" and p.kind in ("syntax", "stray_brace") for p in problems)


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
