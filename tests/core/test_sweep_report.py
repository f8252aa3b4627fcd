"""Sweep reports: JUnit parsed with xml.etree, CSV with the csv module, HTML with html.parser - counts,
failures, skipped combinations, masking, no external reference, images embedded once, and any text at all
never breaking the XML or escaping the HTML."""

from __future__ import annotations

import base64
import csv
import io
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sweep_report_builders import IMAGE_A, IMAGE_B, card_of, four_statuses, plan_of, result_of

from moments_desktop.api_schema import BODY_FIELDS
from moments_desktop.core.render import Renderer
from moments_desktop.core.sweep import SweepStatus
from moments_desktop.core.sweep_baseline import baseline_of, compare
from moments_desktop.core.sweep_report import (
    CSV_COLUMNS,
    MAX_EMBEDDED_IMAGE_BYTES,
    NOT_REACHED,
    ReportImage,
    csv_text,
    failures,
    html_report,
    junit_xml,
)

ROOT = Path(__file__).resolve().parents[2]
PNG = (ROOT / "resources" / "rewards" / "headphones.png").read_bytes()
WEBP = (ROOT / "resources" / "rewards" / "streaming-stick.webp").read_bytes()
PLAIN = Renderer()
MASKED = Renderer(masked=True)
IDENTIFIERS = ("APPALPHA91", "LEVEL_FINISHED", "SPRINGCAMP77", "GROUPONE11", "GROUPTWO22", "Spring QA",
               "moments-staging", "images.example-cdn.test")


def changed_sweep():
    """Yesterday's four rewards; today one count dropped and one reward is gone (no reward)."""
    plan = plan_of()
    yesterday = result_of(plan, [card_of(plan, i) for i in range(4)])
    today = result_of(plan, [card_of(plan, 0), card_of(plan, 1, count=7), card_of(plan, 2),
                             card_of(plan, 3, SweepStatus.NO_REWARD)])
    return today, compare(today, baseline_of(yesterday))


# --- failures ---------------------------------------------------------------------------------------

def test_failures_are_errors_declines_and_no_reward():
    result = four_statuses()
    found = failures(result, None, fail_on_change=True)
    assert [card.status for card, _ in found] == [SweepStatus.NO_REWARD, SweepStatus.DECLINED, SweepStatus.ERROR]
    assert found[0][1] == "no reward: No reward for this customer"
    assert found[2][1] == "error: Could not reach the endpoint"


def test_changes_fail_only_with_fail_on_change():
    today, diff = changed_sweep()
    assert [c.index for c, _ in failures(today, diff, fail_on_change=False)] == [3]
    found = failures(today, diff, fail_on_change=True)
    assert [c.index for c, _ in found] == [1, 3]
    assert found[0][1] == "changed since the baseline: count: 10 \u2192 7 (\u22123)"
    assert found[1][1].startswith("no reward: ") and "status: Reward \u2192 No reward" in found[1][1]


# --- JUnit ------------------------------------------------------------------------------------------

def parse_junit(text: str) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.fromstring(text.encode("utf-8"))
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1
    return suites[0], suites[0].findall("testcase")


def test_junit_has_a_testcase_per_combination_and_a_failure_per_failing_one():
    suite, cases = parse_junit(junit_xml(four_statuses(), None, PLAIN, fail_on_change=False))
    assert len(cases) == 4
    assert suite.get("tests") == "4" and suite.get("failures") == "3" and suite.get("skipped") == "0"
    assert suite.get("errors") == "0" and suite.get("timestamp") == "2026-03-04T10:00:00"
    assert suite.get("time") == "2.500"
    assert [c.get("name") for c in cases] == [
        "deviceType=Android, rewardGroupId=GROUPONE11", "deviceType=Android, rewardGroupId=GROUPTWO22",
        "deviceType=iOS, rewardGroupId=GROUPONE11", "deviceType=iOS, rewardGroupId=GROUPTWO22"]
    assert {c.get("classname") for c in cases} == {"Spring QA"}
    failed = [c.find("failure") for c in cases]
    assert failed[0] is None
    assert [f.get("type") for f in failed[1:]] == ["no_reward", "declined", "error"]
    assert failed[3].get("message") == "error: Could not reach the endpoint"
    assert "rewardGroupId: GROUPTWO22" in failed[3].text


def test_junit_failure_count_with_and_without_fail_on_change():
    today, diff = changed_sweep()
    suite, cases = parse_junit(junit_xml(today, diff, PLAIN, fail_on_change=False))
    assert suite.get("failures") == "1" and sum(c.find("failure") is not None for c in cases) == 1
    suite, cases = parse_junit(junit_xml(today, diff, PLAIN, fail_on_change=True))
    assert suite.get("failures") == "2" and sum(c.find("failure") is not None for c in cases) == 2
    assert cases[1].find("failure").get("type") == "changed"
    assert cases[3].find("failure").get("type") == "no_reward"  # a failing status stays the type


def test_junit_skips_the_combinations_a_cancelled_sweep_never_reached():
    plan = plan_of()
    result = result_of(plan, [card_of(plan, 0), card_of(plan, 2, SweepStatus.ERROR)], cancelled=True)
    suite, cases = parse_junit(junit_xml(result, None, PLAIN, fail_on_change=False))
    assert len(cases) == 4 == plan.count
    assert suite.get("skipped") == "2" and suite.get("failures") == "1"
    assert [c.find("skipped") is not None for c in cases] == [False, True, False, True]
    assert cases[2].find("failure") is not None


def test_junit_of_a_single_combination_names_it_by_all_five_fields():
    plan = plan_of({"deviceType": ("Web",), "rewardGroupId": ("GROUPONE11",)})
    _, cases = parse_junit(junit_xml(result_of(plan, [card_of(plan, 0)]), None, PLAIN, fail_on_change=False))
    assert cases[0].get("name") == ("appId=APPALPHA91, momentId=LEVEL_FINISHED, deviceType=Web, "
                                    "campaignId=SPRINGCAMP77, rewardGroupId=GROUPONE11")


def test_masked_junit_has_no_identifier_and_keeps_names_apart():
    today, diff = changed_sweep()
    text = junit_xml(today, diff, MASKED, fail_on_change=True)
    for identifier in IDENTIFIERS:
        assert identifier not in text
    _, cases = parse_junit(text)
    assert len({c.get("name") for c in cases}) == 4  # GROUPONE11 and GROUPTWO22 mask alike: numbered apart


def test_junit_lists_the_baselines_combinations_no_longer_swept():
    old_plan = plan_of({"deviceType": ("Android", "FireOS")})
    old = result_of(old_plan, [card_of(old_plan, i) for i in range(4)])
    today = four_statuses()
    suite, _ = parse_junit(junit_xml(today, compare(today, baseline_of(old)), PLAIN, fail_on_change=False))
    out = suite.find("system-out").text
    assert out.startswith("2 combination(s) of the baseline are no longer swept")
    assert "APPALPHA91/LEVEL_FINISHED/FireOS/SPRINGCAMP77/GROUPONE11" in out


# --- CSV --------------------------------------------------------------------------------------------

def parse_csv(text: str) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_csv_has_a_row_per_combination():
    today, diff = changed_sweep()
    rows = parse_csv(csv_text(today, diff, PLAIN))
    assert len(rows) == 4
    assert [r["deviceType"] for r in rows] == ["Android", "Android", "iOS", "iOS"]
    assert [r["status"] for r in rows] == ["reward", "reward", "reward", "no_reward"]
    assert rows[0]["announcement"] == "You won headphones!" and rows[0]["image_url"] == IMAGE_A
    assert rows[1]["remaining_count"] == "7" and rows[1]["changes"] == "count: 10 \u2192 7 (\u22123)"
    assert rows[3]["problem"] == "No reward for this customer" and rows[3]["remaining_count"] == ""
    assert rows[0]["changes"] == ""


def test_csv_of_a_cancelled_sweep_marks_the_rows_never_reached():
    plan = plan_of()
    rows = parse_csv(csv_text(result_of(plan, [card_of(plan, 1)], cancelled=True), None, PLAIN))
    assert [r["status"] for r in rows] == [NOT_REACHED, "reward", NOT_REACHED, NOT_REACHED]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_start_like_a_formula_are_text(start):
    plan = plan_of({"appId": (f"{start}APP",)})
    text = f"{start}HYPERLINK(\"http://evil.test\",\"x\")"
    result = result_of(plan, [card_of(plan, 0, text=text, count=0),
                              card_of(plan, 1, SweepStatus.ERROR, problem=f"{start}cmd|' /C calc'!A0")])
    rows = parse_csv(csv_text(result, None, PLAIN))
    assert rows[0]["announcement"] == "'" + text
    assert rows[0]["appId"] == f"'{start}APP"
    assert rows[1]["problem"] == f"'{start}cmd|' /C calc'!A0"
    assert rows[0]["remaining_count"] == "0"


def test_masked_csv_has_no_identifier():
    today, diff = changed_sweep()
    text = csv_text(today, diff, MASKED)
    for identifier in IDENTIFIERS:
        assert identifier not in text
    rows = parse_csv(text)
    assert rows[0]["deviceType"] == "Android"  # the API's enum, not an identifier
    assert rows[0]["image_url"].startswith("https://")


def test_a_masked_problem_masks_the_urls_and_identifiers_it_quotes():
    plan = plan_of()
    problem = "Could not reach https://api.moments-staging.test/prod/GetRewardInfo for GROUPONE11"
    rows = parse_csv(csv_text(result_of(plan, [card_of(plan, 0, SweepStatus.ERROR, problem=problem)]),
                              None, MASKED))
    assert "moments-staging" not in rows[0]["problem"] and "GROUPONE11" not in rows[0]["problem"]
    assert rows[0]["problem"].startswith("Could not reach https://")


# --- HTML -------------------------------------------------------------------------------------------

class Page(HTMLParser):
    """Every tag with its attributes, the text, and the <style>'s text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: list[str] = []
        self.style = ""
        self._in_style = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        else:
            self.data.append(data)

    def with_class(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for _tag, attrs in self.tags if name in (attrs.get("class") or "").split()]


def images_of(**by_url) -> dict[str, ReportImage | None]:
    return by_url


def thousand_cards():
    """1,000 combinations (10 x 100) of 5 distinct images."""
    plan = plan_of({"appId": tuple(f"APP{i:03d}" for i in range(10)),
                    "rewardGroupId": tuple(f"GROUP{i:03d}" for i in range(100)), "deviceType": ("Android",)})
    files = sorted((ROOT / "resources" / "rewards").iterdir())
    assert len(files) == 5
    types = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}
    urls = [f"https://images.example-cdn.test/r/{file.name}" for file in files]
    cards = [card_of(plan, i, image=urls[i % 5], count=i) for i in range(plan.count)]
    images = {url: ReportImage(types[file.suffix], file.read_bytes()) for url, file in zip(urls, files, strict=True)}
    return result_of(plan, cards), images


def test_html_has_no_external_reference_anywhere():
    today, diff = changed_sweep()
    page_text = html_report(today, diff, PLAIN, {IMAGE_A: ReportImage("image/png", PNG)})
    page = Page(page_text)
    for tag, attrs in page.tags:
        for name in ("src", "href", "srcset", "action", "data", "poster", "background"):
            assert name not in attrs, (tag, attrs)
        assert tag not in ("script", "link", "iframe", "img", "object", "embed", "base", "form")
    assert re.findall(r"url\(([^)]*)\)", page.style)  # the images are there...
    for reference in re.findall(r"url\(([^)]*)\)", page_text):
        assert reference.strip("\"'").startswith("data:image/"), reference  # ...as data: URIs only
    assert "@import" not in page_text
    csp = [attrs["content"] for tag, attrs in page.tags if attrs.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1 and csp[0].startswith("default-src 'none';") and "img-src data:" in csp[0]
    assert "script-src" not in csp[0] and "unsafe-inline" not in csp[0]  # default-src 'none' forbids scripts


def test_the_csp_allows_exactly_the_pages_own_style():
    import hashlib

    page_text = html_report(four_statuses(), None, PLAIN, {IMAGE_A: ReportImage("image/png", PNG)})
    page = Page(page_text)
    csp = next(attrs["content"] for _t, attrs in page.tags if attrs.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(page.style.encode("utf-8")).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert not [attrs for _t, attrs in page.tags if "style" in attrs]  # an inline style= would be refused


def test_each_distinct_image_is_embedded_once_and_a_thousand_cards_stay_small():
    result, images = thousand_cards()
    page_text = html_report(result, None, PLAIN, images)
    page = Page(page_text)
    assert len(page.with_class("card")) == 1000
    assert page_text.count("data:image/") == 5
    for image in images.values():
        assert page_text.count(f"data:{image.content_type};base64,{base64.b64encode(image.data).decode()}") == 1
    thumbs = page.with_class("thumb")
    assert len(thumbs) == 1000 and all(len(t["class"].split()) == 2 for t in thumbs)
    assert len({t["class"] for t in thumbs}) == 5
    embedded = sum(len(i.data) * 4 // 3 + 4 for i in images.values())
    print(f"1,000 cards: {len(page_text) - embedded} characters besides {embedded} of images")
    assert len(page_text) - embedded < 1_000 * 1_000  # under 1 kB a card: the pictures are not repeated


def test_a_missing_image_is_a_labelled_placeholder():
    plan = plan_of()
    result = result_of(plan, [card_of(plan, 0), card_of(plan, 1, image=IMAGE_B), card_of(plan, 2, image="x"),
                              card_of(plan, 3, SweepStatus.NO_REWARD)])
    images = {IMAGE_A: ReportImage("image/png", PNG), IMAGE_B: None,
              "x": ReportImage("text/html", b"<script>alert(1)</script>")}
    page_text = html_report(result, None, PLAIN, images)
    page = Page(page_text)
    placeholders = page.with_class("ph")
    assert len(placeholders) == 3
    assert "Image not available" in page.data and "No image" in page.data
    assert "Image of a type a page cannot show" in page.data
    assert "alert(1)" not in page_text and page_text.count("data:image/") == 1


def test_an_image_too_large_is_not_embedded():
    plan = plan_of()
    big = ReportImage("image/png", b"\x89PNG" + b"\0" * MAX_EMBEDDED_IMAGE_BYTES)
    page_text = html_report(result_of(plan, [card_of(plan, 0)]), None, PLAIN, {IMAGE_A: big})
    assert "Image too large to embed" in page_text and "data:image/" not in page_text
    assert len(page_text) < 100_000


def test_html_summary_and_cards_show_each_status_with_its_colour():
    page_text = html_report(four_statuses(), None, PLAIN, {IMAGE_A: ReportImage("image/webp", WEBP)})
    page = Page(page_text)
    cards = page.with_class("card")
    assert [c["class"] for c in cards] == ["card st-reward", "card st-no_reward", "card st-declined", "card st-error"]
    for status in SweepStatus:
        assert len(page.with_class(f"st-{status.value}")) == 2  # a summary box and a card
    for colour in ("#1a7f37", "#6e7781", "#bc4c00", "#cf222e"):
        assert colour in page.style
    assert "You won headphones!" in page.data and "10 left" in page.data
    assert "data:image/webp;base64," in page.style
    assert [a["dir"] for a in page.with_class("text")] == ["auto"]


def test_html_puts_the_changes_first_when_there_is_a_diff():
    today, diff = changed_sweep()
    page = Page(html_report(today, diff, PLAIN, {}))
    sections = [attrs.get("id") for tag, attrs in page.tags if tag in ("section", "header")]
    assert sections == ["summary", "changes", "cards"]
    assert "count: 10 \u2192 7 (\u22123)" in page.data
    assert "status: Reward \u2192 No reward" in page.data
    assert len(page.with_class("changed")) == 3  # the summary's count and the two changed cards
    assert [a.get("id") for t, a in Page(html_report(today, None, PLAIN, {})).tags if t == "section"] == ["cards"]


def test_html_lists_what_is_gone_and_says_when_nothing_changed():
    today = four_statuses()
    page = Page(html_report(today, compare(today, baseline_of(today)), PLAIN, {}))
    assert "Nothing changed." in page.data
    old_plan = plan_of({"deviceType": ("Android", "FireOS")})
    old = result_of(old_plan, [card_of(old_plan, i) for i in range(4)])
    page = Page(html_report(today, compare(today, baseline_of(old)), PLAIN, {}))
    assert "No longer swept (2)" in page.data
    assert "APPALPHA91/LEVEL_FINISHED/FireOS/SPRINGCAMP77/GROUPTWO22" in page.data


def test_masked_html_has_no_identifier_and_no_url():
    today, diff = changed_sweep()
    page_text = html_report(today, diff, MASKED, {IMAGE_A: ReportImage("image/png", PNG)})
    for identifier in IDENTIFIERS:
        assert identifier not in page_text
    assert "Android" in page_text and "You won headphones!" in page_text
    assert "data:image/png;base64," in page_text  # masking hides names, not the picture a customer sees
    plain = html_report(today, diff, PLAIN, {IMAGE_A: ReportImage("image/png", PNG)})
    for identifier in IDENTIFIERS:
        assert identifier in plain  # the page does show them when not masked: the check above means something


def test_html_of_a_cancelled_sweep_says_how_many_were_never_sent():
    plan = plan_of()
    page = Page(html_report(result_of(plan, [card_of(plan, 0)], cancelled=True), None, PLAIN, {}))
    assert len(page.with_class("card")) == 1
    assert any("3 of 4 combinations were never sent" in d for d in page.data)


# --- any text at all ---------------------------------------------------------------------------------

AWKWARD = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from([
        '"', "'", "<", ">", "&", "&amp;", "]]>", "<![CDATA[", "</p>", "<script>alert(1)</script>", "\x00", "\x01",
        "\x0b", "\x1f", "\x7f", "\x85", "\ufffe", "\uffff", "\ud800", "\udfff", "\u202e", "\u2066", "\u200f",
        "مرحبا", "שלום", "你好", "🎁", "👨‍👩‍👧", "=1+1", "\r\n", "\t", "--", "-->", "<!--", "url(http://x)",
        "https://evil.test/x.png", "\\", "{", "}", "%s", "\ufeff",
    ]), max_size=12).map("".join),
)


def awkward_result(text: str, problem: str, field: str):
    plan = plan_of({"appId": (field,), "deviceType": ("Android", f"iOS{field}")}, profile_name=field)
    return result_of(plan, [
        card_of(plan, 0, text=text, image=IMAGE_A, count=3),
        card_of(plan, 1, text=text, image=problem or None, count=None),
        card_of(plan, 2, SweepStatus.ERROR, problem=problem or "x"),
        card_of(plan, 3, SweepStatus.DECLINED, text=text, problem=problem or "x"),
    ])


def structure(page: Page) -> list[tuple[str, tuple[str, ...]]]:
    return [(tag, tuple(sorted(attrs))) for tag, attrs in page.tags]


def _clean(text: str) -> str:
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", re.sub("[\ud800-\udfff]", "\ufffd", text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=AWKWARD, problem=AWKWARD, field=AWKWARD.filter(lambda s: s.strip()))
@example(text="]]><x/>", problem="<script>", field='"><b')
@example(text="\x00\ud800", problem="\x1b[31m", field="\u202eRTL")
def test_awkward_texts_never_break_the_xml_or_escape_the_html(text, problem, field):
    assume(text != "before" and problem != "p")  # every card changed, as in the calm one below
    result = awkward_result(text, problem, field)
    diff = compare(result, baseline_of(awkward_result("before", "p", field)))

    suite, cases = parse_junit(junit_xml(result, diff, PLAIN, fail_on_change=True))  # parses: well-formed
    assert len(cases) == 4 and suite.get("failures") == "4"
    assert suite.get("name") == _clean(f"moments sweep: {field}")

    rows = parse_csv(csv_text(result, diff, PLAIN))
    assert len(rows) == 4

    page_text = html_report(result, diff, PLAIN, {IMAGE_A: ReportImage("image/png", PNG)})
    page_text.encode("utf-8")  # no lone surrogate: the page can be written
    page = Page(page_text)
    calm_result = awkward_result("plain", "plain", "plainfield")
    calm_diff = compare(calm_result, baseline_of(awkward_result("before", "p", "plainfield")))
    calm = Page(html_report(calm_result, calm_diff, PLAIN, {IMAGE_A: ReportImage("image/png", PNG)}))
    assert structure(page) == structure(calm)  # no text opened, closed or changed a tag or an attribute
    if _clean(text).strip():
        assert _clean(text) in page.data  # the announcement is there as text, in full


def test_the_html_report_notes_a_baseline_of_another_endpoint_masked_in_presenter_mode():
    from moments_desktop.core.sweep_report import elsewhere_note

    here, there = plan_of(), plan_of(base_url="https://api.moments.test/prod")
    today = result_of(here, [card_of(here, i) for i in range(4)])
    diff = compare(today, baseline_of(result_of(there, [card_of(there, i) for i in range(4)])))
    page = html_report(today, diff, PLAIN, {})
    assert "The baseline is of another endpoint" in page and "https://api.moments.test/prod" in page
    masked = html_report(today, diff, MASKED, {})
    assert "The baseline is of another endpoint" in masked and "api.moments.test" not in masked
    assert elsewhere_note(today, diff, MASKED) in _unescaped(masked)
    same = compare(today, baseline_of(today))
    assert "another endpoint" not in html_report(today, same, PLAIN, {}) and elsewhere_note(today, same, PLAIN) is None


def _unescaped(page: str) -> str:
    import html

    return html.unescape(page)
