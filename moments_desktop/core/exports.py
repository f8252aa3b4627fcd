"""Copy as cURL, HTTPie, Python, PowerShell or a Braze Connected Content tag: the client's own request.

Every export writes out a ``WireRequest`` from core/wire.py, the builder ``MomentsClient`` sends from, so
an export is the request the app sends (method, URL, headers in order, the body's bytes), not a second
description of it. The values were validated before (``RewardRequest.validated()``: no newline, no control
character, no broken character), and each is then quoted for its language here:

- POSIX sh (cURL, HTTPie): single quotes, where nothing is special but the quote itself (``'\\''``);
  ``$``, backticks, backslashes, ``!``, spaces and any non-ASCII character are literal inside them.
- HTTPie also reads its request items (``Name:value``): ``\\`` before one of its separator characters
  escapes it, so a real key is written with those characters escaped.
- Python: ``repr()`` of each string, a literal of exactly that string.
- PowerShell: single-quoted strings, in which ``'`` and the typographic quotes U+2018, U+2019, U+201A and
  U+201B all end the string and are written doubled. A value with non-ASCII characters is written in ASCII
  as ``[regex]::Unescape('…\\u0645…')`` (backslashes doubled), because Windows PowerShell 5.1 reads a
  script file without a byte-order mark in the ANSI code page; the body is sent as UTF-8 bytes.
- Braze: see ``_braze``; the rules are /work/shared/moments-api.md's "Braze Connected Content facts".

The key is a placeholder unless the real key is asked for (``include_key``): ``"$MOMENTS_API_KEY"``,
``$env:MOMENTS_API_KEY``, ``os.environ["MOMENTS_API_KEY"]`` and, in Braze (which has no environment),
the plain word ``YOUR_MOMENTS_API_KEY``, which a forgotten replacement turns into a 403, never a silent
empty header.

Presenter mode (Step 13): ``Export.text`` is the user's own data and is copied as it is; the Session
makes every Export with its renderer, and ``Export.screen_text`` is the same snippet with the identifiers
and the URL as the renderer shows them (masked when its switch is on, and never a key). Whatever shows a
snippet on a screen shows ``screen_text``; the clipboard gets ``text``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from urllib.parse import quote

from ..api_schema import API_KEY_HEADER, Endpoint
from .errors import MomentsError
from .render import PLAIN, Renderer
from .wire import WireRequest, body_bytes


class ExportFormat(StrEnum):
    CURL = "curl"
    HTTPIE = "httpie"
    PYTHON = "python"
    POWERSHELL = "powershell"
    BRAZE = "braze"


FORMAT_NAMES = {
    ExportFormat.CURL: "cURL",
    ExportFormat.HTTPIE: "HTTPie",
    ExportFormat.PYTHON: "Python (httpx)",
    ExportFormat.POWERSHELL: "PowerShell",
    ExportFormat.BRAZE: "Braze Connected Content",
}

KEY_ENV_VAR = "MOMENTS_API_KEY"
BRAZE_KEY_PLACEHOLDER = "YOUR_MOMENTS_API_KEY"
BRAZE_SAVE_NAME = "moments"  # the variable the partner page's templates read (moments.rewardImageUrl …)
BRAZE_BODY_VARIABLE = "moments_body"
BRAZE_ABORT_GUARD = ("{% if moments.rewardNotificationUrl == blank %}"
                     "{% abort_message('no Moments reward') %}{% endif %}")
# [Braze docs, "Cache Connected Content responses"] a POST is cached only with :cache_max_age, for 5 minutes
# at least and 4 hours at most.
CACHE_MAX_AGE_MIN_S = 5 * 60
CACHE_MAX_AGE_MAX_S = 4 * 60 * 60
# How many identical calls per recipient the cost statement works out (Braze names multi-part email,
# validation and retries, and in-app messages rendered at impression; it gives no upper bound).
DUPLICATE_CALLS = (2, 3)
# A form-style :body (key=value&…) only when every value is made of these characters (RFC 3986's
# unreserved set): nothing Braze could read as a separator (& =), as the end of the attribute (a space),
# as an escape (% +, if it form-decodes), as a quote or as Liquid ({ }), and no non-ASCII character whose
# encoding Braze does not document. Any other value: a {% capture %} JSON body, exact by construction.
_FORM_SAFE = re.compile(r"[A-Za-z0-9._~-]+")
POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"
# The characters of HTTPie's request-item separators (: ; = @ and the :@ ==@ =@ :=@ == := compounds): the
# ones a backslash before them makes literal. A backslash before any other character is kept as it is, so
# a backslash directly before one of these cannot be written at all (HTTPie always reads it as an escape).
_HTTPIE_SPECIAL = frozenset(":;=@")
_HTTPIE_UNWRITABLE = re.compile(r"\\[:;=@]")


class ExportRefusedError(MomentsError):
    title = "This export cannot be made"
    advice = "Nothing was copied."


@dataclass(frozen=True)
class Export:
    format: ExportFormat
    endpoint: Endpoint
    text: str = field(repr=False)  # the snippet; out of repr: with include_key it holds the key
    contains_key: bool  # True only when the real key was put in on request
    warnings: tuple[str, ...]  # e.g. the GetReward duplicate-call cost warning (Braze), the real-key warning
    screen_text: str = ""  # the snippet as a screen may show it (the renderer's masking); never the key

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES[self.format]


# --- money -------------------------------------------------------------------------------------


def money(amount: Decimal, currency: str) -> str:
    """'2.50 USD'; more decimals are kept when the cost has them (0.125 is not rounded to a cent)."""
    shown = amount if amount.as_tuple().exponent < -2 else amount.quantize(Decimal("0.01"))
    return f"{shown:f} {currency.strip().upper()}"


def duplicate_call_statement(cost_per_action: Decimal | None, currency: str) -> str:
    """The duplicate-call rule and what it costs, in words and numbers (the Liquid comment and the warning)."""
    rule = ("Braze may make the same Connected Content call more than once per recipient (an email's HTML, "
            "plain-text and AMP parts, validation and retries, an in-app message rendered at each impression). "
            "Each GetReward call consumes one reward and is billed: ")
    if cost_per_action is None:
        counts = ", ".join(f"{n} calls are {n} billed claims" for n in DUPLICATE_CALLS)
        return rule + (f"one recipient's {counts}. The profile's cost per claim is not set, so the cost in money "
                       "cannot be stated; set it in the profile's settings.")
    per_claim = money(cost_per_action, currency)
    counts = ", ".join(f"{n} calls cost {money(cost_per_action * n, currency)}" for n in DUPLICATE_CALLS)
    return rule + f"at {per_claim} per claim, one recipient's {counts}, instead of {per_claim}."


REAL_KEY_WARNING = ("This text contains the real API key: anyone who reads it can call the API (and spend "
                    "rewards) with it. Paste it only where it stays private; never commit, share or log it.")


def _claim_warning(cost_per_action: Decimal | None, currency: str) -> str:
    cost = (f" ({money(cost_per_action, currency)})" if cost_per_action is not None
            else " (the profile's cost per claim is not set)")
    return f"Each run of this snippet sends one GetReward: one reward is consumed and billed{cost}."


# --- quoting ---------------------------------------------------------------------------------------


def sh_quote(value: str) -> str:
    """A POSIX sh single-quoted word: every character literal; a quote closes, escapes and reopens."""
    return "'" + value.replace("'", "'\\''") + "'"


def httpie_item_escape(value: str) -> str:
    """A value as HTTPie's request-item parser reads it back unchanged (each separator character escaped)."""
    if _HTTPIE_UNWRITABLE.search(value):
        raise ExportRefusedError(
            "HTTPie reads a backslash before : ; = or @ as an escape, and this API key has one, so HTTPie cannot "
            "send it as it is", advice="Nothing was copied. Copy the request as cURL or Python instead.")
    return "".join("\\" + ch if ch in _HTTPIE_SPECIAL else ch for ch in value)


def powershell_quote(value: str) -> str:
    """A PowerShell expression whose value is exactly ``value``, written in ASCII only."""
    if value.isascii():
        return _ps_single_quoted(value)
    escaped = []
    for ch in value:
        if ch == "\\":
            escaped.append("\\\\")
        elif ch.isascii():
            escaped.append(ch)
        else:  # UTF-16 code units: an emoji is two \u escapes, as .NET strings hold it
            units = ch.encode("utf-16-be")
            escaped.extend(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
    return f"([regex]::Unescape({_ps_single_quoted(''.join(escaped))}))"


def _ps_single_quoted(value: str) -> str:
    return "'" + "".join(ch * 2 if ch in POWERSHELL_QUOTES else ch for ch in value) + "'"


def _liquid_safe_json(value: str) -> str:
    """A JSON string literal of ``value`` with ``{`` and ``}`` as \\u escapes: no ``{{``, ``{%``, ``}}`` or
    ``%}`` can appear, so Braze's Liquid never reads a value as markup, and JSON decodes it unchanged."""
    return json.dumps(value, ensure_ascii=False).replace("{", "\\u007b").replace("}", "\\u007d")


def _liquid_safe_url(url: str) -> str:
    """Braze renders Liquid in the URL too: ``{`` and ``}`` (never valid in a URL) are percent-encoded."""
    return url.replace("{", quote("{")).replace("}", quote("}"))


# --- the formats -------------------------------------------------------------------------------------


def _comment_lines(wire: WireRequest, key: str | None, key_hint: str) -> list[str]:
    what = ("consumes and bills one reward per call; never retried" if wire.endpoint.billed
            else "free: consumes nothing")
    lines = [f"Moments {wire.endpoint.value} ({what})."]
    lines.append("Contains the real API key: keep it private." if key is not None
                 else f"The API key is read from {key_hint}.")
    return lines


def _curl(wire: WireRequest, key: str | None) -> str:
    lines = [f"# {line}" for line in _comment_lines(wire, key, f"${KEY_ENV_VAR}")]
    args = [f"curl --silent --show-error --request {wire.method} {sh_quote(wire.url)}"]
    for name, value in wire.headers:
        if name == API_KEY_HEADER:
            args.append(f"--header {sh_quote(f'{name}: {key}')}" if key is not None
                        else f'--header "{name}: ${KEY_ENV_VAR}"')
        else:
            args.append(f"--header {sh_quote(f'{name}: {value}')}")
    # --data-raw: the body is sent as written (no @file reading, no newline stripping).
    args.append(f"--data-raw {sh_quote(wire.body_text)}")
    return "\n".join(lines + [" \\\n  ".join(args)]) + "\n"


def _httpie(wire: WireRequest, key: str | None) -> str:
    lines = [f"# {line}" for line in _comment_lines(wire, key, f"${KEY_ENV_VAR}")]
    # --ignore-stdin: a script or CI job's stdin is never read as the body; --raw: the body's exact text.
    args = [f"http --ignore-stdin --raw {sh_quote(wire.body_text)} {wire.method} {sh_quote(wire.url)}"]
    for name, value in wire.headers:
        if name == API_KEY_HEADER:
            # The placeholder's value reaches HTTPie unescaped: right for any key that neither starts with = or @
            # nor holds a backslash before : ; = @ (API Gateway's generated keys are letters and digits).
            args.append(sh_quote(f"{name}:{httpie_item_escape(key)}") if key is not None
                        else f'"{name}:${KEY_ENV_VAR}"')
        else:
            args.append(sh_quote(f"{name}:{httpie_item_escape(value)}"))
    return "\n".join(lines + [" \\\n  ".join(args)]) + "\n"


def _python(wire: WireRequest, key: str | None) -> str:
    lines = [f"# {line}" for line in _comment_lines(wire, key, f'the environment variable {KEY_ENV_VAR}')]
    lines.append("# Prints the JSON answer.")
    lines += ["import json", "import os", "", "import httpx", "", f"url = {wire.url!r}", "headers = {"]
    for name, value in wire.headers:
        if name == API_KEY_HEADER:
            shown = repr(key) if key is not None else f"os.environ[{KEY_ENV_VAR!r}]"
        else:
            shown = repr(value)
        lines.append(f"    {name!r}: {shown},")
    lines.append("}")
    lines.append("body = {")
    lines += [f"    {name!r}: {value!r}," for name, value in wire.fields.items()]
    lines.append("}")
    # The same serialisation as core/wire.py's body_bytes: the bytes the app sends.
    lines.append('content = json.dumps(body, ensure_ascii=False).encode("utf-8")')
    lines.append(f"response = httpx.request({wire.method!r}, url, headers=headers, content=content, timeout=15.0)")
    lines += ["try:", "    print(json.dumps(response.json(), ensure_ascii=False, indent=2))",
              "except ValueError:  # not JSON: the text as it came", "    print(response.text)"]
    return "\n".join(lines) + "\n"


# Headers Windows PowerShell 5.1 refuses in -Headers: they have parameters of their own.
_POWERSHELL_PARAMETERS = {"content-type": "-ContentType", "user-agent": "-UserAgent"}


def _powershell(wire: WireRequest, key: str | None) -> str:
    lines = [f"# {line}" for line in _comment_lines(wire, key, f"$env:{KEY_ENV_VAR}")]
    lines.append("# Non-ASCII characters are written as \\u escapes: Windows PowerShell 5.1 may read a script "
                 "as ANSI.")
    lines.append("$headers = [ordered]@{")
    parameters = []
    for name, value in wire.headers:
        parameter = _POWERSHELL_PARAMETERS.get(name.lower())
        if parameter:
            parameters.append(f"{parameter} {powershell_quote(value)}")
        elif name == API_KEY_HEADER:
            lines.append(f"    {powershell_quote(name)} = "
                         + (powershell_quote(key) if key is not None else f"$env:{KEY_ENV_VAR}"))
        else:
            lines.append(f"    {powershell_quote(name)} = {powershell_quote(value)}")
    lines.append("}")
    # UTF-8 bytes: a string -Body would be sent in Windows PowerShell 5.1's default encoding (ISO-8859-1).
    lines.append(f"$body = [System.Text.Encoding]::UTF8.GetBytes({powershell_quote(wire.body_text)})")
    method = wire.method.capitalize()
    lines.append(f"Invoke-RestMethod -Method {method} -Uri {powershell_quote(wire.url)} -Headers $headers "
                 + " ".join(parameters) + " -Body $body | ConvertTo-Json -Depth 10")
    return "\n".join(lines) + "\n"


def braze_body(fields: dict[str, str]) -> tuple[str, str | None]:
    """(the :body attribute, the {% capture %} block or None). Form style when every value is _FORM_SAFE,
    else a JSON body captured into BRAZE_BODY_VARIABLE (the JSON allows spaces there, not inline)."""
    if all(_FORM_SAFE.fullmatch(value) for value in fields.values()):
        return "&".join(f"{name}={value}" for name, value in fields.items()), None
    members = ", ".join(f"{json.dumps(name)}: {_liquid_safe_json(value)}" for name, value in fields.items())
    capture = f"{{% capture {BRAZE_BODY_VARIABLE} %}}{{{members}}}{{% endcapture %}}"
    return f"{{{{{BRAZE_BODY_VARIABLE}}}}}", capture


def _braze(wire: WireRequest, key: str | None, *, cost_per_action: Decimal | None, currency: str,
           cache_max_age: int | None) -> str:
    billed = wire.endpoint.billed
    parts: list[str] = []
    if billed:
        parts.append("{% comment %}Moments GetReward: " + duplicate_call_statement(cost_per_action, currency)
                     + " This tag has no :retry and no :cache_max_age (a cache would hand one reward URL to many "
                       "recipients); do not add them.{% endcomment %}")
    if key is None:
        parts.append(f"{{% comment %}}Replace {BRAZE_KEY_PLACEHOLDER} with the campaign's Moments API key."
                     "{% endcomment %}")
    body, capture = braze_body(wire.fields)
    if capture:
        parts.append(capture)
    headers = "{" + json.dumps(API_KEY_HEADER) + ":" + _liquid_safe_json(
        key if key is not None else BRAZE_KEY_PLACEHOLDER) + "}"
    attributes = [f":method {wire.method.lower()}", f":headers {headers}", f":body {body}",
                  ":content_type application/json"]
    if cache_max_age is not None and not billed:
        attributes.append(f":cache_max_age {cache_max_age}")
    attributes.append(f":save {BRAZE_SAVE_NAME}")
    # One line: Braze's documented examples all parse so, whatever its tokenizer does with newlines.
    parts.append(f"{{% connected_content {_liquid_safe_url(wire.url)} {' '.join(attributes)} %}}")
    if billed:
        parts.append(BRAZE_ABORT_GUARD)
    return "\n".join(parts) + "\n"


def check_cache_max_age(fmt: ExportFormat, endpoint: Endpoint, cache_max_age: int | None) -> None:
    """Refuse a cache the export must not carry: any on GetReward (a cached claim hands one reward URL to
    many recipients), any outside Braze's documented 5 min – 4 h, any on a format that has no cache."""
    if cache_max_age is None:
        return
    if endpoint.billed:
        raise ExportRefusedError(
            "a GetReward export never carries :cache_max_age: a cached answer would hand the same reward URL to "
            "many recipients", advice="Nothing was copied. Export GetReward without a cache time.")
    if fmt is not ExportFormat.BRAZE:
        raise ExportRefusedError(f"a cache time applies to Braze Connected Content only, not to {FORMAT_NAMES[fmt]}")
    if isinstance(cache_max_age, bool) or not isinstance(cache_max_age, int) \
            or not CACHE_MAX_AGE_MIN_S <= cache_max_age <= CACHE_MAX_AGE_MAX_S:
        raise ExportRefusedError(
            f"Braze caches a POST for {CACHE_MAX_AGE_MIN_S} to {CACHE_MAX_AGE_MAX_S} seconds (5 minutes to 4 hours); "
            f"{cache_max_age!r} is outside that", advice="Nothing was copied. Choose a cache time in that range.")


def export_request(wire: WireRequest, fmt: ExportFormat, *, include_key: bool = False,
                   cost_per_action: Decimal | None = None, currency: str = "USD", cache_max_age: int | None = None,
                   renderer: Renderer = PLAIN) -> Export:
    """The snippet of ``wire`` (built by core/wire.py from a validated request) in ``fmt``. With
    ``include_key`` the key header's value is written in; otherwise the format's placeholder."""
    fmt = ExportFormat(fmt)
    check_cache_max_age(fmt, wire.endpoint, cache_max_age)
    key = wire.header(API_KEY_HEADER) if include_key else None
    if include_key and not key:
        raise ExportRefusedError("there is no API key to put in", advice="Add the profile's API key first.")
    text = _snippet(wire, fmt, key, cost_per_action, currency, cache_max_age)
    warnings: list[str] = []
    if wire.endpoint.billed:
        warnings.append(duplicate_call_statement(cost_per_action, currency) if fmt is ExportFormat.BRAZE
                        else _claim_warning(cost_per_action, currency))
    if key is not None:
        warnings.append(REAL_KEY_WARNING)
    screen = text if not renderer.masked and key is None else _snippet(
        _as_shown(wire, renderer), fmt, None, cost_per_action, currency, cache_max_age)
    return Export(format=fmt, endpoint=wire.endpoint, text=text, contains_key=key is not None,
                  warnings=tuple(warnings), screen_text=screen)


def _snippet(wire: WireRequest, fmt: ExportFormat, key: str | None, cost_per_action: Decimal | None,
             currency: str, cache_max_age: int | None) -> str:
    if fmt is ExportFormat.BRAZE:
        return _braze(wire, key, cost_per_action=cost_per_action, currency=currency, cache_max_age=cache_max_age)
    return {ExportFormat.CURL: _curl, ExportFormat.HTTPIE: _httpie, ExportFormat.PYTHON: _python,
            ExportFormat.POWERSHELL: _powershell}[fmt](wire, key)


def _as_shown(wire: WireRequest, renderer: Renderer) -> WireRequest:
    """``wire`` with its URL and body fields as ``renderer`` shows them, and no key."""
    shown = {name: renderer.field_value(name, value) for name, value in wire.fields.items()}
    headers = tuple((name, "" if name == API_KEY_HEADER else value) for name, value in wire.headers)
    return replace(wire, url=renderer.url(wire.url), headers=headers, body=body_bytes(shown))
