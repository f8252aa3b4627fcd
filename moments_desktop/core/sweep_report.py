"""Sweep reports: a self-contained HTML page, CSV and JUnit XML. Identifiers go through the Renderer, so a
masked renderer (presenter mode) masks them in every report.

Every text in a report came from a server or a user (announcements, error words, typed values), so each
format is written for the worst of them: XML keeps only the characters XML 1.0 allows and escapes the rest,
HTML escapes everything and runs no script at all (its Content-Security-Policy allows nothing but its own
style and data: images), CSV cells that a spreadsheet would take for a formula are quoted as text.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from moments_desktop.api_schema import BODY_FIELDS

from .errors import MomentsError
from .paths import atomic_write
from .render import PLAIN, Renderer
from .sweep import STATUS_LABELS, Combination, SweepCard, SweepResult, SweepStatus
from .sweep_baseline import Change, ChangeKind, SweepDiff

if TYPE_CHECKING:
    from .images import CachedImage

# An image bigger than this is drawn as a placeholder rather than embedded: a report of a few distinct
# rewards stays small, and a picture of many megabytes is not what a thumbnail needs.
MAX_EMBEDDED_IMAGE_BYTES = 4 * 1024 * 1024
# The image types every browser shows from a data: URI; anything else is a placeholder.
_EMBEDDABLE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"})

NOT_REACHED = "not_reached"  # the CSV status of a combination a cancelled sweep never reached

# The grid's status colours (the window's theme module is Qt's; a report is a file of its own).
STATUS_COLOURS: dict[SweepStatus, str] = {
    SweepStatus.REWARD: "#1a7f37",
    SweepStatus.NO_REWARD: "#6e7781",
    SweepStatus.DECLINED: "#bc4c00",
    SweepStatus.ERROR: "#cf222e",
}


class SweepReportFormat(StrEnum):
    HTML = "html"
    CSV = "csv"
    JUNIT = "junit"


class SweepReportError(MomentsError):
    title = "The report could not be written"
    advice = "Choose another folder or file name and try again."


@dataclass(frozen=True)
class ReportImage:
    """An image the HTML report embeds (as a data: URI, once per distinct URL)."""

    content_type: str
    data: bytes


# --- text that is safe in every format ---------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
# What XML 1.0 does not allow (besides surrogates): C0 controls other than tab, newline and return, and the
# two non-characters U+FFFE and U+FFFF. HTML has no use for them either.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: object) -> str:
    """Text every report can hold: a lone surrogate (which no UTF-8 file can hold) becomes U+FFFD, the
    characters XML 1.0 forbids are dropped."""
    text = "" if value is None else str(value)
    return _NOT_XML.sub("", _SURROGATE.sub("\ufffd", text))


def problem_text(card: SweepCard, renderer: Renderer) -> str:
    """A card's problem (an error's words) as every view shows it: masked like the rest when ``renderer`` is."""
    return _scrub(card.problem or "", card, renderer)


def _scrub(text: str, card: SweepCard | None, renderer: Renderer, extra: Iterable[str] = ()) -> str:
    """A free text (an error's words) as a masked renderer may show it: URLs and the combination's own
    identifiers in it are masked as everywhere else. Short values (under 3 characters) are left alone, or
    every "1" or "US" in a sentence would go."""
    values = set(extra)
    if card is not None:
        values.update(v for name, v in card.combination.fields().items() if name != "deviceType")
    return renderer.text(text, values)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def describe_change(change: Change, renderer: Renderer) -> str:
    """One change in words: 'count: 12 → 9 (−3)', 'status: Reward → No reward', 'new (not in the baseline)'."""
    def status(value) -> str:
        try:
            return STATUS_LABELS[SweepStatus(value)]
        except ValueError:
            return str(value)

    def text(value) -> str:
        return "(none)" if value is None else f"\u201c{_short(str(value), 60)}\u201d"

    def url(value) -> str:
        return "(none)" if value is None else renderer.url(str(value))

    if change.kind is ChangeKind.NEW:
        return "new (not in the baseline)"
    if change.kind is ChangeKind.STATUS:
        return f"status: {status(change.before)} \u2192 {status(change.after)}"
    if change.kind is ChangeKind.TEXT:
        return f"announcement: {text(change.before)} \u2192 {text(change.after)}"
    if change.kind is ChangeKind.IMAGE:
        return f"image: {url(change.before)} \u2192 {url(change.after)}"
    delta = change.delta
    shown = "" if delta is None else f" ({delta:+d})".replace("-", "\u2212")
    before = "(none)" if change.before is None else change.before
    after = "(none)" if change.after is None else change.after
    return f"count: {before} \u2192 {after}{shown}"


def describe_changes(changes: Iterable[Change], renderer: Renderer) -> str:
    return "; ".join(describe_change(c, renderer) for c in changes)


# --- what fails a check --------------------------------------------------------------------

_FAILING_STATUS = {
    SweepStatus.ERROR: "error",
    SweepStatus.DECLINED: "declined",
    SweepStatus.NO_REWARD: "no reward",
}


def failure_of(card: SweepCard, diff: SweepDiff | None, *, fail_on_change: bool,
               renderer: Renderer = PLAIN) -> tuple[str, str] | None:
    """(type, reason) when the check of this card fails, else None. The type is the JUnit failure's:
    error, declined, no_reward or changed."""
    changes = diff.of(card) if diff is not None else ()
    parts = []
    kind = None
    if card.status in _FAILING_STATUS:
        kind = card.status.value
        problem = _scrub(clean_text(card.problem), card, renderer)
        parts.append(_FAILING_STATUS[card.status] + (f": {_short(problem, 300)}" if problem else ""))
    if fail_on_change and changes:
        kind = kind or "changed"
        parts.append("changed since the baseline: " + describe_changes(changes, renderer))
    return (kind, "; ".join(parts)) if kind else None


def failures(result: SweepResult, diff: SweepDiff | None, *, fail_on_change: bool,
             renderer: Renderer = PLAIN) -> list[tuple[SweepCard, str]]:
    """The cards a check fails, each with its reason: an error, declined, no reward; and, with
    ``fail_on_change``, any change from the baseline."""
    found = []
    for card in result.cards:
        failure = failure_of(card, diff, fail_on_change=fail_on_change, renderer=renderer)
        if failure is not None:
            found.append((card, failure[1]))
    return found


# --- helpers shared by the formats ---------------------------------------------------------

def _plan_rows(result: SweepResult) -> Iterable[tuple[Combination, SweepCard | None]]:
    """Every combination of the plan with its card, or None for one a cancelled sweep never reached."""
    by_index = {card.index: card for card in result.cards}
    if not result.cancelled and len(by_index) == len(result.cards) == result.plan.count:
        # A complete sweep: the cards are the plan, in order (no need to walk the plan).
        for card in sorted(result.cards, key=lambda c: c.index):
            yield card.combination, card
        return
    for index, combination in enumerate(result.plan.combinations()):
        yield combination, by_index.get(index)


def _shown_fields(result: SweepResult) -> tuple[str, ...]:
    return result.plan.swept_fields or BODY_FIELDS


def _case_name(combination: Combination, fields: tuple[str, ...], renderer: Renderer) -> str:
    values = combination.fields()
    return ", ".join(f"{name}={renderer.field_value(name, values[name])}" for name in fields)


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo is not None else moment.astimezone()).astimezone(UTC)


def _seconds(result: SweepResult) -> float:
    return max(0.0, (result.finished_at - result.started_at).total_seconds())


def _counts(result: SweepResult) -> dict[SweepStatus, int]:
    counts = {status: 0 for status in SweepStatus}
    for card in result.cards:
        counts[card.status] += 1
    return counts


# --- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = (*BODY_FIELDS, "status", "announcement", "image_url", "remaining_count", "problem", "changes")


def _cell(value: object) -> str:
    """A text cell a spreadsheet shows as text: one that starts like a formula gets a leading apostrophe."""
    text = clean_text(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(result: SweepResult, diff: SweepDiff | None, renderer: Renderer) -> str:
    """A header and a row per combination of the plan (one a cancelled sweep never reached has the status
    not_reached and nothing else)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for combination, card in _plan_rows(result):
        values = combination.fields()
        row = [_cell(renderer.field_value(name, values[name])) for name in BODY_FIELDS]
        if card is None:
            writer.writerow(row + [NOT_REACHED, "", "", "", "", ""])
            continue
        changes = diff.of(card) if diff is not None else ()
        count = "" if card.remaining_count is None else str(card.remaining_count)  # a number, never a formula
        writer.writerow(row + [
            card.status.value, _cell(card.notification_text), _cell(renderer.url(card.image_url)), count,
            _cell(_scrub(clean_text(card.problem), card, renderer)), _cell(describe_changes(changes, renderer)),
        ])
    return out.getvalue()


# --- JUnit XML -----------------------------------------------------------------------------

def _x(value: object) -> str:
    return clean_text(value)


def junit_xml(result: SweepResult, diff: SweepDiff | None, renderer: Renderer, *, fail_on_change: bool) -> str:
    """One <testcase> per combination of the plan (one not reached because the sweep was cancelled is
    <skipped>), a <failure> per failing one (see ``failures``).

    Every failing check is a <failure>, an error answer included: it is the campaign that failed the check,
    not the test runner, so ``errors`` stays 0 (CI tools count both as failed)."""
    plan = result.plan
    profile = renderer.profile_name(plan.profile_name) or "sweep"
    fields = _shown_fields(result)
    suite_name = f"moments sweep: {profile}"
    cases: list[ET.Element] = []
    failed = skipped = 0
    seen_names: dict[str, int] = {}
    for combination, card in _plan_rows(result):
        name = _x(_case_name(combination, fields, renderer))
        seen_names[name] = seen_names.get(name, 0) + 1
        if seen_names[name] > 1:  # masked values can look alike; a CI tool wants names apart
            name = f"{name} (#{seen_names[name]})"
        case = ET.Element("testcase", name=name, classname=_x(profile), time="0")
        if card is None:
            skipped += 1
            ET.SubElement(case, "skipped", message="the sweep was cancelled before this combination was sent")
        else:
            failure = failure_of(card, diff, fail_on_change=fail_on_change, renderer=renderer)
            if failure is not None:
                failed += 1
                kind, reason = failure
                element = ET.SubElement(case, "failure", type=kind, message=_x(_short(reason, 500)))
                element.text = _x(_card_details(card, diff, renderer))
        cases.append(case)
    total = len(cases)
    started = _utc(result.started_at).strftime("%Y-%m-%dT%H:%M:%S")
    seconds = f"{_seconds(result):.3f}"
    counts = dict(tests=str(total), failures=str(failed), errors="0", skipped=str(skipped), time=seconds)
    root = ET.Element("testsuites", name="moments sweep", **counts)
    suite = ET.SubElement(root, "testsuite", name=_x(suite_name), timestamp=started, **counts)
    properties = ET.SubElement(suite, "properties")
    for key, value in (("profile", profile), ("endpoint", renderer.url(plan.base_url)),
                       ("combinations", str(plan.count)), ("cancelled", str(result.cancelled).lower()),
                       ("fail_on_change", str(fail_on_change).lower())):
        ET.SubElement(properties, "property", name=key, value=_x(value))
    if diff is not None:
        ET.SubElement(properties, "property", name="baseline_saved_at", value=_x(diff.baseline.saved_at))
    suite.extend(cases)
    if diff is not None and diff.gone:
        out = ET.SubElement(suite, "system-out")
        out.text = _x(f"{len(diff.gone)} combination(s) of the baseline are no longer swept:\n" + "\n".join(
            renderer.target(entry.fields) for entry in diff.gone))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _card_details(card: SweepCard, diff: SweepDiff | None, renderer: Renderer) -> str:
    lines = [f"{name}: {renderer.field_value(name, value)}" for name, value in card.combination.fields().items()]
    lines.append(f"status: {STATUS_LABELS[card.status]}" + (f" (HTTP {card.http_status})" if card.http_status else ""))
    if card.problem:
        lines.append(f"problem: {_scrub(card.problem, card, renderer)}")
    if card.notification_text is not None:
        lines.append(f"announcement: {card.notification_text}")
    if card.image_url:
        lines.append(f"image: {renderer.url(card.image_url)}")
    if card.remaining_count is not None:
        lines.append(f"remaining: {card.remaining_count}")
    changes = diff.of(card) if diff is not None else ()
    if changes:
        lines.append("changes: " + describe_changes(changes, renderer))
    return "\n".join(lines)


# --- HTML ----------------------------------------------------------------------------------

def _h(value: object) -> str:
    return html.escape(clean_text(value), quote=True)


_STYLE = """
:root{color-scheme:light;--reward:%(reward)s;--no_reward:%(no_reward)s;--declined:%(declined)s;--error:%(error)s}
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans Arabic","Noto Sans CJK SC",sans-serif;
margin:0;padding:24px;background:#f6f8fa;color:#1f2328}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.meta{color:#59636e;margin:0 0 16px}.meta span{margin-right:16px;unicode-bidi:isolate}
.counts{display:flex;flex-wrap:wrap;gap:10px;margin:0;padding:0;list-style:none}
.counts li{min-width:130px;padding:10px 14px;border-radius:8px;color:#fff;font-weight:600}
.counts li b{display:block;font-size:24px}
.counts .total{background:#fff;color:#1f2328;border:1px solid #d1d9e0}
.counts .changed{background:#8250df}
.st-reward{--st:var(--reward)}.st-no_reward{--st:var(--no_reward)}
.st-declined{--st:var(--declined)}.st-error{--st:var(--error)}
.counts li[class^=st-]{background:var(--st)}
.note{padding:8px 12px;border-radius:6px;background:#fff8c5;border:1px solid #d4a72c;display:inline-block}
table{border-collapse:collapse;background:#fff;width:100%%;max-width:1200px}
td,th{border:1px solid #d1d9e0;padding:6px 8px;text-align:start;vertical-align:top;overflow-wrap:anywhere}
td ul{margin:0;padding-inline-start:18px}
th{background:#eef1f4}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(215px,1fr));gap:12px}
.card{background:#fff;border:1px solid #d1d9e0;border-top:6px solid var(--st);border-radius:8px;overflow:hidden}
.card.changed{box-shadow:0 0 0 2px #8250df}
.thumb{height:110px;background:#f0f2f4 center/contain no-repeat}
.ph{display:flex;align-items:center;justify-content:center;color:#818b98;font-size:12px;text-align:center;
padding:8px;background:repeating-linear-gradient(45deg,#f0f2f4 0 8px,#e6e9ed 8px 16px)}
.body{padding:8px 10px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:var(--st);color:#fff;font-size:12px;
font-weight:600}
.badge.chg{background:#8250df}
.text{margin:6px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.count{margin:4px 0;font-weight:600}
.problem{margin:4px 0;color:#59636e;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.fields{margin:6px 0 0;font-size:12px;color:#59636e;display:grid;grid-template-columns:auto 1fr;gap:0 6px}
.fields dt{font-weight:600}.fields dd{margin:0;overflow-wrap:anywhere}
.chglist{margin:6px 0 0;font-size:12px;color:#8250df;overflow-wrap:anywhere}
.empty{color:#59636e}
"""


def _image_type(image: ReportImage) -> str | None:
    content_type = image.content_type.split(";", 1)[0].strip().lower()
    return content_type if content_type in _EMBEDDABLE_TYPES else None


def html_report(result: SweepResult, diff: SweepDiff | None, renderer: Renderer,
                images: Mapping[str, ReportImage | None]) -> str:
    """One self-contained page: the summary, the changes, a card per combination (image, announcement,
    count, status). ``images`` by URL; a missing or None entry is drawn as a labelled placeholder.

    Nothing on the page is fetched: each distinct image is one CSS class holding a data: URI (1,000 cards of
    5 images carry 5 copies, not 1,000), and the Content-Security-Policy forbids every other source, scripts
    included, so even a hostile text could not make the page call anywhere."""
    plan = result.plan
    image_classes: dict[str, str] = {}  # url -> css class of an embedded image
    placeholders: dict[str, str] = {}  # url -> why it is not shown
    rules = []
    for card in result.cards:
        url = card.image_url
        if not url or url in image_classes or url in placeholders:
            continue
        image = images.get(url)
        kind = _image_type(image) if image is not None else None
        if image is None:
            placeholders[url] = "Image not available"
        elif kind is None:
            placeholders[url] = "Image of a type a page cannot show"
        elif len(image.data) > MAX_EMBEDDED_IMAGE_BYTES:
            placeholders[url] = "Image too large to embed"
        else:
            name = f"img{len(image_classes)}"
            image_classes[url] = name
            data = base64.b64encode(image.data).decode("ascii")
            rules.append(f'.{name}{{background-image:url("data:{kind};base64,{data}")}}')
    style = (_STYLE % {s.value: c for s, c in STATUS_COLOURS.items()}) + "\n".join(rules) + "\n"
    style_hash = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; style-src 'sha256-{style_hash}'; img-src data:; base-uri 'none'; "
           "form-action 'none'")

    profile = renderer.profile_name(plan.profile_name)
    counts = _counts(result)
    fields = _shown_fields(result)
    started = _utc(result.started_at).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_h(csp)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<title>Campaign sweep \u2014 {_h(profile)}</title>',
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        '<header id="summary">',
        f'<h1>Campaign sweep \u2014 <bdi>{_h(profile)}</bdi></h1>',
        '<p class="meta">'
        f'<span>Endpoint: <bdi>{_h(renderer.url(plan.base_url))}</bdi></span>'
        f"<span>Started: {_h(started)}</span>"
        f"<span>Duration: {_seconds(result):.1f} s</span>"
        f"<span>Combinations: {len(result.cards)} of {plan.count}</span>"
        "</p>",
        '<p class="meta">' + "".join(
            f'<span>{_h(name)}: <bdi>{_h(renderer.field_value(name, plan.values[name][0]))}</bdi></span>'
            if name not in fields or len(plan.values[name]) == 1 else
            f"<span>{_h(name)}: {len(plan.values[name])} values</span>"
            for name in BODY_FIELDS) + "</p>",
    ]
    if result.cancelled:
        missing = plan.count - len(result.cards)
        parts.append(f'<p class="note">The sweep was cancelled: {missing} of {plan.count} combinations were '
                     "never sent, so they have no card here.</p>")
    parts.append('<ul class="counts">')
    parts.append(f'<li class="total"><b>{len(result.cards)}</b>answers</li>')
    for status in SweepStatus:
        parts.append(f'<li class="st-{status.value}"><b>{counts[status]}</b>{_h(STATUS_LABELS[status])}</li>')
    if diff is not None:
        parts.append(f'<li class="changed"><b>{diff.changed_count}</b>Changed</li>')
    parts.append("</ul>")
    parts.append("</header>")

    if diff is not None:
        parts.extend(_changes_section(result, diff, renderer, fields))

    parts.append('<section id="cards">')
    parts.append("<h2>Cards</h2>")
    if not result.cards:
        parts.append('<p class="empty">No answer came back.</p>')
    parts.append('<div class="grid">')
    for card in sorted(result.cards, key=lambda c: c.index):
        parts.append(_card_html(card, diff, renderer, fields, image_classes, placeholders))
    parts.append("</div>")
    parts.append("</section>")
    parts.append("</body>")
    parts.append("</html>")
    return "\n".join(parts) + "\n"


def _fields_html(values: Mapping[str, str], fields: tuple[str, ...], renderer: Renderer) -> str:
    return "".join(f"<dt>{_h(name)}</dt><dd dir=\"auto\">{_h(renderer.field_value(name, values.get(name, '')))}</dd>"
                   for name in fields)


def elsewhere_note(result: SweepResult, diff: SweepDiff, renderer: Renderer) -> str | None:
    """One sentence when the baseline came from another profile or endpoint (SweepDiff.baseline_elsewhere),
    naming both through the renderer; None when it is this sweep's."""
    if diff.baseline_elsewhere is None:
        return None
    baseline, plan = diff.baseline, result.plan
    return (f"The baseline is of another {diff.baseline_elsewhere}: it was saved from "
            f"“{renderer.profile_name(baseline.profile_name)}” at {renderer.url(baseline.base_url)}, this sweep is "
            f"of “{renderer.profile_name(plan.profile_name)}” at {renderer.url(plan.base_url)}, so a difference may "
            "be that, not a change.")


def _changes_section(result: SweepResult, diff: SweepDiff, renderer: Renderer,
                     fields: tuple[str, ...]) -> list[str]:
    baseline = diff.baseline
    saved = baseline.saved_at.replace("T", " ").replace("Z", " UTC")
    parts = ['<section id="changes">',
             f"<h2>Changes since the baseline of {_h(saved)} (<bdi>{_h(renderer.profile_name(baseline.profile_name))}"
             "</bdi>)</h2>"]
    note = elsewhere_note(result, diff, renderer)
    if note:
        parts.append(f'<p class="note elsewhere" dir="auto">{_h(note)}</p>')
    if not baseline.complete:
        parts.append('<p class="note">The baseline was saved from a cancelled sweep: combinations it never '
                     "reached are not compared.</p>")
    changed = [card for card in sorted(result.cards, key=lambda c: c.index) if diff.of(card)]
    if not changed and not diff.gone:
        parts.append('<p class="empty">Nothing changed.</p>')
    if changed:
        parts.append("<table><thead><tr><th>Combination</th><th>Status</th><th>Changes</th></tr></thead><tbody>")
        for card in changed:
            items = "".join(f'<li dir="auto">{_h(describe_change(c, renderer))}</li>' for c in diff.of(card))
            parts.append(
                f'<tr><td dir="auto">{_h(_case_name(card.combination, fields, renderer))}</td>'
                f'<td><span class="badge st-{card.status.value}">{_h(STATUS_LABELS[card.status])}</span></td>'
                f"<td><ul>{items}</ul></td></tr>")
        parts.append("</tbody></table>")
    if diff.gone:
        parts.append(f"<h2>No longer swept ({len(diff.gone)})</h2>")
        parts.append("<p>In the baseline, not in this sweep\u2019s combinations:</p>")
        parts.append("<table><thead><tr><th>Combination</th><th>Status in the baseline</th></tr></thead><tbody>")
        for entry in diff.gone:
            parts.append(f'<tr><td dir="auto">{_h(renderer.target(entry.fields))}</td>'
                         f'<td><span class="badge st-{entry.status.value}">{_h(STATUS_LABELS[entry.status])}'
                         "</span></td></tr>")
        parts.append("</tbody></table>")
    parts.append("</section>")
    return parts


def _card_html(card: SweepCard, diff: SweepDiff | None, renderer: Renderer, fields: tuple[str, ...],
               image_classes: Mapping[str, str], placeholders: Mapping[str, str]) -> str:
    changes = diff.of(card) if diff is not None else ()
    status = card.status.value
    out = [f'<article class="card st-{status}{" changed" if changes else ""}">']
    url = card.image_url
    if url and url in image_classes:
        out.append(f'<div class="thumb {image_classes[url]}" role="img" aria-label="Reward image" '
                   f'title="{_h(renderer.url(url))}"></div>')
    else:
        why = placeholders.get(url, "Image not available") if url else "No image"
        out.append(f'<div class="thumb ph" title="{_h(renderer.url(url))}">{_h(why)}</div>')
    out.append('<div class="body">')
    out.append(f'<span class="badge">{_h(STATUS_LABELS[card.status])}</span>')
    if changes:
        out.append(' <span class="badge chg">Changed</span>')
    if card.notification_text is not None:
        out.append(f'<p class="text" dir="auto">{_h(card.notification_text)}</p>')
    if card.remaining_count is not None:
        out.append(f'<p class="count">{card.remaining_count} left</p>')
    if card.problem is not None:
        out.append(f'<p class="problem" dir="auto">{_h(_scrub(clean_text(card.problem), card, renderer))}</p>')
    out.append(f'<dl class="fields">{_fields_html(card.combination.fields(), fields, renderer)}</dl>')
    if changes:  # in short: the changes section above has them in full
        out.append(f'<p class="chglist">{_h(", ".join(_change_in_short(c) for c in changes))}</p>')
    out.append("</div></article>")
    return "".join(out)


def _change_in_short(change: Change) -> str:
    if change.kind is ChangeKind.NEW:
        return "new since the baseline"
    if change.kind is ChangeKind.STATUS:
        try:
            return f"was {STATUS_LABELS[SweepStatus(change.before)]}"
        except ValueError:
            return "status changed"
    if change.kind is ChangeKind.COUNT:
        return describe_change(change, PLAIN)  # counts are no identifiers
    return {ChangeKind.TEXT: "announcement changed", ChangeKind.IMAGE: "image changed"}[change.kind]


# --- writing -------------------------------------------------------------------------------

def report_text(result: SweepResult, diff: SweepDiff | None, fmt: SweepReportFormat, renderer: Renderer, *,
                images: Mapping[str, ReportImage | None] | None = None, fail_on_change: bool = False) -> str:
    fmt = SweepReportFormat(fmt)
    if fmt is SweepReportFormat.HTML:
        return html_report(result, diff, renderer, images or {})
    if fmt is SweepReportFormat.CSV:
        return csv_text(result, diff, renderer)
    return junit_xml(result, diff, renderer, fail_on_change=fail_on_change)


def read_report_images(cached: Mapping[str, CachedImage | None]) -> dict[str, ReportImage | None]:
    """Blocking: the bytes of each cached image (at most one byte past what the page embeds, so a huge file
    is never read whole); None for one that is not there (evicted from the cache since)."""
    images: dict[str, ReportImage | None] = {}
    for url, image in cached.items():
        if image is None:
            images[url] = None
            continue
        try:
            with open(image.path, "rb") as handle:
                images[url] = ReportImage(image.content_type, handle.read(MAX_EMBEDDED_IMAGE_BYTES + 1))
        except OSError:
            images[url] = None
    return images


def write_report(path: Path, text: str, fmt: SweepReportFormat) -> None:
    """Blocking; atomic. CSV gets a byte-order mark, which is how a spreadsheet knows it is UTF-8 (Arabic
    and CJK announcements otherwise open as mojibake). SweepReportError naming the path on failure."""
    path = Path(path)
    encoding = "utf-8-sig" if SweepReportFormat(fmt) is SweepReportFormat.CSV else "utf-8"
    try:
        atomic_write(path, lambda handle: handle.write(text), encoding=encoding, newline="")
    except IsADirectoryError:
        raise SweepReportError(f"{path} is a folder") from None
    except OSError as exc:
        raise SweepReportError(f"{path}: {exc.strerror or type(exc).__name__}") from None
