"""The Braze message preview: what a campaign's push, email and in-app messages really say.

A Braze user writes each message field as a Liquid template that reads the Moments answer
through a ``{% connected_content … :save NAME %}`` tag. This module renders those templates
with python-liquid 2 against each outcome a customer can meet (a reward, ``[]``, an error
text, Braze's own failure cases), with Braze's flavour where it changes what is shown:

- ``{% connected_content URL … :save NAME %}`` is parsed and never fetched: on render it
  assigns the outcome's answer to NAME (Braze's default name is ``connected``). Braze keeps a
  saved variable inside the field that holds the tag; a channel with no tag at all gets the
  answer as ``moments`` in every field (the issue's simplification, so a template pasted
  without its tag still previews).
- ``{{${first_name}}}`` and ``{{custom_attribute.${name}}}`` read the sample attributes. They
  are rewritten to plain identifiers *of the same length* before parsing, so every position
  python-liquid reports still points at the user's own text.
- ``{% abort_message('reason') %}`` stops the message: RenderedMessage.aborted.
- Braze filters that are cheap to reproduce are reproduced; any other Braze filter or tag is
  named "not simulated" (a problem of kind "unsupported", and a visible marker in the text).
- Mistakes are caught, not rendered empty: a static pass (python-liquid's template analysis,
  with spans) finds undefined names and misspelled answer fields with a suggestion, stray
  braces and syntax errors, each with its 1-based line and column in the user's text; the
  rendering shows a visible marker where such a mistake would have printed nothing.

Rendering is bounded (template size, loop iterations, output size, local namespace, context
depth, the length of any filter's result, computed before a multiplying filter makes it); a text
whose shape would make python-liquid's lexer or parser take the square of its length is reported
without being parsed, and a text that does not parse is parsed once. ``render_message`` never
raises, and its catch-all problem ("cannot be rendered") is a bug the fuzz test catches. No Qt here; nothing here touches the network.
"""

from __future__ import annotations

import base64
import bisect
import contextvars
import difflib
import functools
import hashlib
import hmac
import json
import re
import urllib.parse
from html.parser import HTMLParser
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from liquid import Environment, Undefined, is_undefined, soft_str
from liquid.ast import Node
from liquid.builtin.expressions import Identifier
from liquid.builtin.expressions import logical as _logical
from liquid.builtin.expressions.primitive import Blank, RangeLiteral
from liquid.builtin.tags import case_tag as _case_tag
from liquid.builtin.tags.for_tag import ForNode
from liquid.builtin.tags.tablerow_tag import TablerowNode
from liquid.exceptions import (
    LiquidError,
    FilterError,
    LiquidSyntaxError,
    LoopIterationLimitError,
    ResourceLimitError,
)
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, TOKEN_TAG, Token

from moments_desktop import api_schema

from .message_templates import (  # noqa: F401 - the interface, re-exported: callers import it from here
    Channel,
    CHANNEL_FIELDS,
    FIELD_LABELS,
    MAX_TEMPLATE_CHARS,
    MAX_PROBLEMS_PER_FIELD,
    MAX_ATTRIBUTES,
    MAX_ATTRIBUTE_CHARS,
    DEFAULT_VARIABLE,
    BRAZE_DEFAULT_SAVE,
    PLACEHOLDER_REWARD_URL,
    _template_field_name,
    MessageTemplates,
    OutcomeKind,
    PreviewOutcome,
    TemplateProblem,
    RenderedMessage,
    OUTCOME_LABELS,
    OUTCOME_EXPLANATIONS,
    DOCUMENTED_ERROR_TEXT,
    documented_outcome,
    _GUARD,
    DEFAULT_TEMPLATES,
)


# --- Braze attribute syntax ----------------------------------------------------------------

# One pass over the text: raw, comment and doc blocks (skipped whole), Liquid's delimiters, quotes,
# and ${…} attribute references.
_SCAN = re.compile(
    r"""(?P<block>\{%-?\s*(?P<block_name>raw|comment|doc)\s*-?%\})|\{\{|\{%|\}\}|%\}"""
    r"""|\$\{(?P<attribute>[^{}\n]*)\}|['"]""")
_BLOCK_END = {
    "raw": re.compile(r"\{%-?\s*endraw\s*-?%\}"),
    "doc": re.compile(r"\{%-?\s*enddoc\s*-?%\}"),
    "comment": re.compile(r"\{%-?\s*(?P<end>end)?comment\s*-?%\}"),  # comments nest
}


_COMMENTED_BRACE = re.compile(r"\{(?!%)")


def _block_end(text: str, name: str, start: int) -> int:
    """Where the raw, comment or doc block opened before ``start`` ends (the text's end if never)."""
    depth = 1
    for match in _BLOCK_END[name].finditer(text, start):
        if name != "comment" or match.group("end"):
            depth -= 1
        else:
            depth += 1
        if depth == 0:
            return match.end()
    return len(text)


def _attribute_identifier(name: str) -> str:
    """``${name}`` as an identifier of the same length: ``__name_`` (odd characters → ``_``)."""
    return "__" + re.sub(r"[^A-Za-z0-9_]", "_", name) + "_"


_DISAMBIGUATORS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _distinct_identifier(name: str, taken: Mapping[str, str]) -> str:
    """``name``'s identifier, unlike the identifier of any other name in ``taken`` (identifier → name):
    ``${first name}`` and ``${first_name}`` are two attributes, so ``__first_name_`` and
    ``_0first_name_`` (the second character tells them apart, the length stays)."""
    base = _attribute_identifier(name)
    if taken.get(base, name) == name:
        return base
    for mark in _DISAMBIGUATORS:
        candidate = base[0] + mark + base[2:]
        if taken.get(candidate, name) == name:
            return candidate
    return base  # 63 names that differ only in odd characters: the last ones share a value


@dataclass(frozen=True)
class _Prepared:
    source: str  # same length as the user's text
    attributes: dict[str, tuple[str, int]]  # identifier → (attribute name, first index)
    blocks: tuple[tuple[int, int], ...] = ()  # (start, end) of each raw, comment and doc block

    def in_block(self, index: int) -> bool:
        position = bisect.bisect_right(self.blocks, (index, len(self.source) + 1)) - 1
        return position >= 0 and self.blocks[position][0] <= index < self.blocks[position][1]


def _prepare(text: str) -> _Prepared:
    """Rewrite each ``${name}`` inside ``{{ … }}`` / ``{% … %}`` (not in a quoted string there: ``'${x}'``
    is text, and so is ``${x}`` outside Liquid) to its same-length identifier. Raw, comment and doc
    blocks are left as they are: Braze prints a raw block's ``{{${first_name}}}`` as written."""
    out: list[str] = []
    attributes: dict[str, tuple[str, int]] = {}
    identifiers: dict[str, str] = {}  # attribute name → its identifier
    owners: dict[str, str] = {}  # identifier → its attribute name
    blocks: list[tuple[int, int]] = []
    comments: list[tuple[int, int]] = []
    last = 0
    in_markup = False
    quote: str | None = None
    position = 0
    while (match := _SCAN.search(text, position)) is not None:
        position = match.end()
        token = match.group()
        if match.group("block") is not None and quote is None:
            position = _block_end(text, match.group("block_name"), match.end())
            blocks.append((match.start(), position))
            if match.group("block_name") == "comment":
                comments.append((match.start(), position))
            in_markup = False
        elif token in ("{{", "{%") or match.group("block") is not None:
            in_markup, quote = True, None
        elif token in ("}}", "%}"):
            in_markup, quote = False, None  # Liquid ends the markup at its delimiter, quoted or not
        elif token in ("'", '"'):
            if in_markup:
                quote = token if quote is None else (None if token == quote else quote)
        elif in_markup and quote is None:
            name = match.group("attribute")
            ident = identifiers.get(name) or _distinct_identifier(name, owners)
            identifiers[name], owners[ident] = ident, name
            attributes.setdefault(ident, (name, match.start()))
            out.append(text[last : match.start()])
            out.append(ident)
            last = match.end()
    out.append(text[last:])
    source = "".join(out)
    if comments:
        # A comment prints nothing, but python-liquid's lexer still tries each `{{` in it to the end
        # of the text when nothing closes it (the square of its length): a comment's braces that
        # open no tag are blanked, which changes no rendering and keeps every position.
        pieces, done = [], 0
        for start, end in comments:
            pieces.append(source[done:start])
            pieces.append(_COMMENTED_BRACE.sub(" ", source[start:end]))
            done = end
        pieces.append(source[done:])
        source = "".join(pieces)
    assert len(source) == len(text)
    return _Prepared(source, attributes, tuple(blocks))


# --- rendering context shared with the tags, filters and undefined values ------------------


@dataclass
class _RenderState:
    outcome: PreviewOutcome | None
    marked: dict[int, str] = field(default_factory=dict)  # index of a mistaken name → its marker


_STATE: contextvars.ContextVar[_RenderState | None] = contextvars.ContextVar(
    "message_preview_state", default=None
)


# Around every piece of text the preview writes itself into a rendering (a mistake, a part not
# simulated): the UI may style what stands between them.
MARKER_OPEN = "⟦"
MARKER_CLOSE = "⟧"


def _marker(text: str) -> str:
    return f"{MARKER_OPEN}{text}{MARKER_CLOSE}"


class _PreviewUndefined(Undefined):
    """Blank, as Liquid prints it, unless the static pass marked the name a mistake: then a
    visible marker, so a typo never renders as an innocent empty string."""

    __slots__ = ()

    def __str__(self) -> str:
        state = _STATE.get()
        if state is None or self.token is None:
            return ""
        # The static pass keys its markers by where the name starts, as python-liquid's tokens do.
        return state.marked.get(self.token.start_index, "")


# Braze renders Liquid in Ruby with Rails loaded, where ``nil.blank?`` is true: a missing field
# (the ``[]`` answer, no answer at all) equals ``blank``, which is what the abort guard
# ``moments.rewardNotificationUrl == blank`` relies on. python-liquid follows plain Shopify
# Liquid (nil is not blank), so its equality is wrapped, for the preview's renders only.
_PLAIN_EQ = _logical._eq


def _braze_eq(left: object, right: object) -> bool:
    if _STATE.get() is not None:
        for one, other in ((left, right), (right, left)):
            if isinstance(one, Blank) and (other is None or is_undefined(other)):
                return True
    return _PLAIN_EQ(left, right)


_logical._eq = _braze_eq
# The case tag imports ``_eq`` by name (its own reference, which the line above does not reach):
# ``{% when blank %}`` compares the same way as ``==`` [python-liquid's builtin/tags/case_tag.py].
_case_tag._eq = _braze_eq  # type: ignore[attr-defined]

# A range literal is a lazy Python range that filters (join, map, sort…) walk in full, outside
# the loop-iteration limit: ``{{ (1..100000000) | join }}`` would take minutes. In the preview's
# renders a range longer than the loop limit stops the render like a loop over it would.
_PLAIN_MAKE_RANGE = RangeLiteral._make_range


def _bounded_range(self: RangeLiteral, start: Any, stop: Any) -> range:
    made = _PLAIN_MAKE_RANGE(self, start, stop)
    limit = _PreviewEnvironment.loop_iteration_limit
    if _STATE.get() is not None and limit is not None and made.stop - made.start > limit:
        raise LoopIterationLimitError("range too long", token=self.token)
    return made


RangeLiteral._make_range = _bounded_range  # type: ignore[method-assign]


class _AbortMessage(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Braze tags -----------------------------------------------------------------------------

def _tag_expression(stream: TokenStream) -> tuple[Token, str]:
    """The tag's token and its raw expression text, leaving the stream on the tag's last token
    (the parser steps past it)."""
    token = stream.expect(TOKEN_TAG)
    if stream.peek.kind == TOKEN_EXPRESSION:
        next(stream)
        return token, stream.current.value
    return token, ""


_OPTION = re.compile(r"(?:^|\s):([A-Za-z_]+)")


@dataclass(frozen=True)
class ConnectedContentCall:
    """One parsed ``{% connected_content %}`` tag: never fetched, only described."""

    url: str
    save: str
    options: dict[str, str]
    index: int  # where the tag's name starts in the field's text


def parse_connected_content(expression: str, index: int = 0) -> ConnectedContentCall:
    matches = list(_OPTION.finditer(expression))
    url_end = matches[0].start() if matches else len(expression)
    url = expression[:url_end].strip()
    options: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(expression)
        options[match.group(1)] = expression[match.end() : end].strip()
    save = options.get("save", "").split()[0] if options.get("save", "").split() else ""
    return ConnectedContentCall(url=url, save=save or BRAZE_DEFAULT_SAVE, options=options, index=index)


class _ConnectedContentNode(Node):
    __slots__ = ("call",)

    def __init__(self, token: Token, call: ConnectedContentCall) -> None:
        super().__init__(token)
        self.call = call
        self.blank = True

    def __str__(self) -> str:
        return f"{{% connected_content {self.call.url} :save {self.call.save} %}}"

    def render_to_output(self, context: Any, buffer: Any) -> int:
        state = _STATE.get()
        if state is not None and state.outcome is not None and state.outcome.response is not None:
            context.assign(self.call.save, _copy_json(state.outcome.response))
        # Braze inserts nothing where the tag stands when the answer is JSON, and nothing when
        # there is no answer (timeout, 404).
        return 0

    def template_scope(self) -> Iterable[Identifier]:
        yield Identifier(self.call.save, token=self.token)


class _ConnectedContentTag(Tag):
    name = "connected_content"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, expression = _tag_expression(stream)
        if not expression.strip():
            raise LiquidSyntaxError("connected_content needs a URL", token=token)
        return _ConnectedContentNode(token, parse_connected_content(expression, token.start_index))


_ABORT_ARGUMENT = re.compile(r"""^\(\s*(?:(?P<q>['"])(?P<reason>.*?)(?P=q))?\s*\)$""", re.DOTALL)


class _AbortNode(Node):
    __slots__ = ("reason",)

    def __init__(self, token: Token, reason: str) -> None:
        super().__init__(token)
        self.reason = reason

    def __str__(self) -> str:
        return f"{{% abort_message({self.reason!r}) %}}"

    def render_to_output(self, context: Any, buffer: Any) -> int:
        raise _AbortMessage(self.reason)


class _AbortTag(Tag):
    name = "abort_message"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, expression = _tag_expression(stream)
        match = _ABORT_ARGUMENT.match(expression.strip()) if expression.strip() else None
        if expression.strip() and match is None:
            raise LiquidSyntaxError(
                "abort_message takes one quoted reason, e.g. abort_message('no reward')",
                token=token,
            )
        reason = (match.group("reason") if match else None) or "(no reason given)"
        return _AbortNode(token, reason)


# Braze tags the preview does not simulate [Braze docs]: named, never rendered empty.
UNSIMULATED_TAGS: tuple[str, ...] = (
    "catalog_items",
    "catalog_selection_items",
    "content_blocks",
    "promotion",
    "message_extras",
    # Liquid's own partial templates: Braze has content blocks instead, and the preview has no files.
    "include",
    "render",
)
# Braze variables the preview has no data for [Braze docs, "Supported personalization tags"].
UNSIMULATED_VARIABLES: tuple[str, ...] = (
    "content_blocks",
    "campaign",
    "canvas",
    "event_properties",
    "api_trigger_properties",
    "canvas_entry_properties",
    "context",
    "subscribed_state",
    "targeted_device",
    "most_recently_used_device",
    "most_engaged_channel",
    "ab_test",
)


class _UnsimulatedNode(Node):
    __slots__ = ("tag_name",)

    def __init__(self, token: Token, tag_name: str) -> None:
        super().__init__(token)
        self.tag_name = tag_name

    def __str__(self) -> str:
        return f"{{% {self.tag_name} %}}"

    def render_to_output(self, context: Any, buffer: Any) -> int:
        return buffer.write(_marker(f"{{% {self.tag_name} %}} not simulated"))


def _unsimulated_tag(tag_name: str) -> type[Tag]:
    class _Unsimulated(Tag):
        name = tag_name
        block = False

        def parse(self, stream: TokenStream) -> Node:
            token, _expression = _tag_expression(stream)
            return _UnsimulatedNode(token, tag_name)

    return _Unsimulated


# --- Braze filters --------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, Undefined):
        return ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number_with_delimiter(value: Any) -> str:
    try:
        number = float(_text(value)) if not isinstance(value, int | float) else value
    except ValueError:
        return _text(value)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return f"{number:,}"


def _property_accessor(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get(_text(key), "")
    return ""


def _json_escape(value: Any) -> str:
    return json.dumps(_text(value), ensure_ascii=False)[1:-1]


BRAZE_FILTERS: dict[str, Any] = {
    "md5": lambda v: hashlib.md5(_text(v).encode()).hexdigest(),  # noqa: S324 (Braze's filter)
    "sha1": lambda v: hashlib.sha1(_text(v).encode()).hexdigest(),  # noqa: S324
    "sha2": lambda v: hashlib.sha256(_text(v).encode()).hexdigest(),
    "base64_encode": lambda v: base64.b64encode(_text(v).encode()).decode(),
    "hmac_sha1_hex": lambda v, k="": hmac.new(_text(k).encode(), _text(v).encode(), "sha1").hexdigest(),
    "hmac_sha1": lambda v, k="": hmac.new(_text(k).encode(), _text(v).encode(), "sha1").hexdigest(),
    "hmac_sha1_base64": lambda v, k="": base64.b64encode(
        hmac.new(_text(k).encode(), _text(v).encode(), "sha1").digest()
    ).decode(),
    "hmac_sha256_hex": lambda v, k="": hmac.new(
        _text(k).encode(), _text(v).encode(), "sha256"
    ).hexdigest(),
    "hmac_sha256_base64": lambda v, k="": base64.b64encode(
        hmac.new(_text(k).encode(), _text(v).encode(), "sha256").digest()
    ).decode(),
    "url_escape": lambda v: urllib.parse.quote(_text(v), safe="/:?=&#@!$'()*+,;~"),
    "url_param_escape": lambda v: urllib.parse.quote(_text(v), safe=""),
    "json_escape": _json_escape,
    "property_accessor": _property_accessor,
    "number_with_delimiter": _number_with_delimiter,
}

def _time_zone(value: Any, zone: Any = "UTC") -> Any:
    """Braze's ``time_zone``: the time in another zone, for ``date`` to format."""
    if isinstance(value, str) and value.strip().lower() in ("now", "today"):
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, ValueError, OSError):
            raise _outside_dates("time_zone", value) from None
    else:
        try:
            moment = datetime.fromisoformat(_text(value))
        except ValueError:
            return value
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        where = ZoneInfo(_text(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return _marker(f"unknown time zone {_text(zone)!r}")
    try:
        return moment.astimezone(where)
    except (OverflowError, ValueError):
        raise _outside_dates("time_zone", value) from None


def _outside_dates(name: str, value: Any) -> FilterError:
    shown = _text(value)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    return FilterError(f"the filter {name} got {shown}, a time outside the years 1 to 9999 a date can "
                       "show", token=None)


BRAZE_FILTERS["time_zone"] = _time_zone

# Braze filters the preview does not reproduce [Braze docs, recalled, not reproduced here]:
# named as such where they appear, never applied silently.
UNSIMULATED_FILTERS: tuple[str, ...] = ("as_json_string", "json_parse")


def _unsimulated_filter(name: str) -> Any:
    def _filter(_value: Any, *_args: Any, **_kwargs: Any) -> str:
        if name in UNSIMULATED_FILTERS:
            return _marker(f"| {name} not simulated")
        return _marker(f"| {name}: unknown filter")

    return _filter


class _FilterTable(dict):
    """Every filter the preview knows; an unknown name gives a visible marker, never blank."""

    def __missing__(self, key: str) -> Any:
        return _unsimulated_filter(key)


# Rendering limits the output and the local namespace only once a string is made: a chain of
# ``replace`` (each occurrence replaced by the whole text) asks for 40 → 1,600 → … → 4 billion
# characters in one expression, which is a MemoryError or gigabytes allocated on the UI thread
# before any limit is checked. In the preview's renders the filters that multiply a text's length
# compute the result's length first, and no filter hands on a text longer than this.
MAX_FILTER_RESULT_CHARS = 200_000


def _too_long(name: str, length: int) -> None:
    if length > MAX_FILTER_RESULT_CHARS and _STATE.get() is not None:
        raise ResourceLimitError(
            f"the filter {name} would make a text of {length:,} characters, more than the "
            f"{MAX_FILTER_RESULT_CHARS:,} the preview allows", token=None)


def _soft_text(value: Any) -> str:
    return "" if is_undefined(value) else soft_str(value)


def _result_length(name: str, value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int | None:
    """The length of the text a multiplying filter would return, computed without making it."""
    def arg(position: int, keyword: str, default: Any = "") -> Any:
        return args[position] if len(args) > position else kwargs.get(keyword, default)

    if name == "replace":
        text, old, new = _soft_text(value), _soft_text(arg(0, "seq")), _soft_text(arg(1, "sub"))
        count = text.count(old) if old else len(text) + 1
        return len(text) + count * (len(new) - len(old))
    if name in ("replace_first", "replace_last"):
        return len(_soft_text(value)) + len(_soft_text(arg(1, "sub")))
    if name in ("append", "prepend"):
        return len(_soft_text(value)) + len(_soft_text(arg(0, "arg")))
    if name == "join" and isinstance(value, list | tuple):
        separator = _soft_text(arg(0, "separator", " "))
        items = sum(len(item) if isinstance(item, str) else 24 for item in value)
        return items + max(len(value) - 1, 0) * len(separator)
    return None


def _size_bounded(name: str, function: Any) -> Any:
    @functools.wraps(function)
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        length = _result_length(name, value, args, kwargs)
        if length is not None:
            _too_long(name, length)
        try:
            result = function(value, *args, **kwargs)
        except (OverflowError, ValueError) as exc:
            # python-liquid's own filters let these through (date: "year 318857 is out of range").
            if name == "date" and "range" in str(exc):
                raise _outside_dates(name, value) from None
            raise FilterError(f"the filter {name} cannot use this value: {exc}", token=None) from None
        if isinstance(result, str):
            _too_long(name, len(result))
        return result

    for flag in ("with_context", "with_environment"):  # how python-liquid calls a filter
        if getattr(function, flag, False):
            setattr(bounded, flag, True)
    return bounded


class _PreviewEnvironment(Environment):
    # Bounds on rendering work, so no template can freeze the app [python-liquid limits].
    loop_iteration_limit = 10_000
    output_stream_limit = 200_000
    local_namespace_limit = 2_000_000
    context_depth_limit = 30

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=extra)
        self.filters = _FilterTable(self.filters)
        self.filters.update(BRAZE_FILTERS)
        for name, function in list(self.filters.items()):
            self.filters[name] = _size_bounded(name, function)
        self.add_tag(_ConnectedContentTag)
        self.add_tag(_AbortTag)
        for name in UNSIMULATED_TAGS:
            self.add_tag(_unsimulated_tag(name))


_ENVIRONMENT = _PreviewEnvironment(undefined=_PreviewUndefined)


# python-liquid's lexer tries every `{{` and every `{% raw %}` / `{% doc %}` it meets to the end of
# the text when nothing closes it, so its time grows with the square of such a text: a title of
# 12,000 `{` takes about 17 s, on the UI thread. Before the lexer sees a text, the work those
# unclosed openings would cost is counted (characters each would scan); above this budget (a few
# tens of milliseconds) the text is reported as a mistake, without being parsed.
_LEXER_SCAN_BUDGET = 400_000
_RAW_OPENING = re.compile(r"\{%-?\s*(?P<name>raw|doc)\s*-?%\}")
_RAW_CLOSING = re.compile(r"\{%-?\s*end(?:raw|doc)\s*-?%\}")
_OUTPUT_OPENING = re.compile(r"(?=\{\{)")
_MARKUP_EDGE = re.compile(r"\{\{|\{%|\}\}|%\}|\(")
MAX_PARENTHESES = 300


@dataclass(frozen=True)
class _LexerHazard:
    index: int
    kind: str
    message: str
    suggestion: str


def _lexer_hazard(source: str) -> _LexerHazard | None:
    """The unclosed openings that would make python-liquid's lexer quadratic, if they cost more
    than the budget; else None (the lexer then reports any mistake itself, in a moment)."""
    size = len(source)
    after_close = source.rfind("}}") + 2 if "}}" in source else 0
    cost = 0
    for match in _OUTPUT_OPENING.finditer(source, after_close):
        cost += size - match.start()
        if cost > _LEXER_SCAN_BUDGET:
            first = _OUTPUT_OPENING.search(source, after_close)
            assert first is not None
            return _LexerHazard(
                first.start(), "stray_brace",
                "'{{' is never closed with '}}', and the braces after it are not closed either",
                "close each output with '}}', or remove the extra '{' characters")
    # python-liquid's expression parser takes the square of the number of parentheses in one
    # expression too: `(a) or (a) or …` 8,000 times takes 3 s. No real template has hundreds.
    in_markup, opened, first_paren = False, 0, 0
    for match in _MARKUP_EDGE.finditer(source):
        edge = match.group()
        if edge in ("{{", "{%", "}}", "%}"):
            in_markup, opened = edge in ("{{", "{%"), 0
        elif in_markup:
            opened += 1
            first_paren = match.start() if opened == 1 else first_paren
            if opened > MAX_PARENTHESES:
                return _LexerHazard(
                    first_paren, "syntax", f"this expression has more than {MAX_PARENTHESES} parentheses, "
                    "more than the preview reads in one expression", "split it with assign")
    last_closing = None
    for last_closing in _RAW_CLOSING.finditer(source):
        pass
    after_raw = last_closing.end() if last_closing is not None else 0
    cost = 0
    for match in _RAW_OPENING.finditer(source, after_raw):
        cost += size - match.start()
        if cost > _LEXER_SCAN_BUDGET:
            first = _RAW_OPENING.search(source, after_raw)
            assert first is not None
            name = first.group("name")
            return _LexerHazard(first.start(), "syntax",
                                f"{{% {name} %}} is never closed with {{% end{name} %}}",
                                f"close it with {{% end{name} %}}")
    return None


class _TemplateTooCostly(LiquidSyntaxError):
    """A text the lexer is not given (see _lexer_hazard)."""

    def __init__(self, hazard: _LexerHazard) -> None:
        super().__init__(hazard.message, token=None)
        self.hazard = hazard


@dataclass(frozen=True)
class _ParseFailure:
    error: LiquidError


# The same templates are checked and rendered once per outcome and channel, and again on every
# keystroke of the editor: parse and analyse each distinct text once, a text that does not parse
# too (lru_cache keeps no exception: the failure is kept as a value). Bound templates are not
# changed by rendering.
@functools.lru_cache(maxsize=256)
def _parse_once(source: str) -> Any:
    hazard = _lexer_hazard(source)
    if hazard is not None:
        return _ParseFailure(_TemplateTooCostly(hazard))
    try:
        return _ENVIRONMENT.from_string(source)
    except LiquidError as exc:
        exc.__traceback__ = None  # kept in the cache: no frames held alive
        return _ParseFailure(exc)


def _parse(source: str) -> Any:
    parsed = _parse_once(source)
    if isinstance(parsed, _ParseFailure):
        raise parsed.error
    return parsed


@functools.lru_cache(maxsize=256)
def _analyze(source: str) -> Any:
    return _parse(source).analyze(include_partials=False)


# --- the static pass and the rendering ------------------------------------------------------


def _line_column(text: str, index: int) -> tuple[int, int]:
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _copy_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_carried(str(k)): _copy_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(v) for v in value]
    if isinstance(value, str):
        return _carried(value)
    return value


# A lone UTF-16 surrogate (JSON's "\ud800", a bad paste) is a character no message can carry:
# UTF-8 has no form for it, and python-liquid's output counts UTF-8 bytes. In the template's own
# text it is a problem the user is told about (_check_text); in sample values and answers it is
# shown as U+FFFD, as a UTF-8 decoder shows it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _carried(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def _problem(kind: str, message: str, channel: Channel, name: str, text: str, index: int,
             suggestion: str | None = None) -> TemplateProblem:
    line, column = _line_column(text, index)
    return TemplateProblem(kind, message, channel, name, line, column, suggestion)


_OUTPUT_MARKUP = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_TAG_MARKUP = re.compile(r"\{%.*?%\}", re.DOTALL)


def _after_last(text: str, closing: str) -> int:
    """Where the search for markup closed by ``closing`` can stop."""
    found = text.rfind(closing)
    return found + len(closing) if found >= 0 else 0
_OUTPUT = re.compile(r"\{\{-?(?P<inner>.*?)-?\}\}", re.DOTALL)

# The answer's fields a template may read: every field a public source shows, Liquid's own
# properties of a list or object, and Braze's status code. Any other field is known from the real
# answers (render_message, check_templates' known_fields): the sandbox's own extras included, so
# nothing here depends on them.
ANSWER_FIELDS: tuple[str, ...] = (
    *api_schema.RESPONSE_FIELDS,
    "__http_status_code__",
    "size",
    "first",
    "last",
)


def _syntax_index(source: str, exc: LiquidError) -> int:
    """Where a syntax error is: python-liquid gives -1 for an error at the end of an
    expression, so the markup that fails on its own is found instead."""
    if exc.token is not None and exc.token.start_index >= 0:
        return exc.token.start_index
    outputs = _OUTPUT_MARKUP.finditer(source, 0, _after_last(source, "}}"))
    tags = _TAG_MARKUP.finditer(source, 0, _after_last(source, "%}"))
    for match in sorted((*outputs, *tags), key=lambda m: m.start()):
        try:
            _ENVIRONMENT.from_string(match.group())
        except LiquidError as inner:
            if inner.token is None or inner.token.start_index < 0:
                return match.start()
    return 0


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(dict.fromkeys(candidates)), n=1, cutoff=0.6)
    return found[0] if found else None


def _channel_saves(templates: MessageTemplates, channel: Channel) -> dict[str, list[str]]:
    """The save names of every connected_content tag, per field of a channel (a field that
    does not parse is left out: its error is reported on its own)."""
    saves: dict[str, list[str]] = {}
    for name in CHANNEL_FIELDS[channel]:
        text = templates.field(channel, name)
        if len(text) > MAX_TEMPLATE_CHARS:
            continue
        try:
            analysis = _analyze(_prepare(text).source)
        except Exception:  # noqa: BLE001 — reported by the field's own check
            continue
        tag_indexes = {span.index for span in analysis.tags.get("connected_content", [])}
        saves[name] = [
            local for local, variables in analysis.locals.items()
            if any(v.span.index in tag_indexes for v in variables)
        ]
    return saves


@dataclass(frozen=True)
class _FieldCheck:
    """Shared by every caller (cached): never changed after it is made."""

    problems: list[TemplateProblem]
    marked: dict[int, str]
    parsed: bool  # False: the text was not handed to the parser (too long, a character or a shape it cannot take)


def _check_field(templates: MessageTemplates, channel: Channel, name: str,
                 channel_saves: Mapping[str, list[str]],
                 known_fields: Iterable[str] = ()) -> _FieldCheck:
    """The static problems of one field, and the marker per mistaken path for the render."""
    return _check_text(
        templates.field(channel, name), templates.attributes, channel, name,
        tuple((k, tuple(v)) for k, v in channel_saves.items()), tuple(sorted(set(known_fields))),
    )


@functools.lru_cache(maxsize=512)
def _check_text(text: str, attribute_pairs: tuple[tuple[str, str], ...], channel: Channel, name: str,
                saves: tuple[tuple[str, tuple[str, ...]], ...], known_fields: tuple[str, ...]) -> _FieldCheck:
    """_check_every_problem, in the order of the text, at most MAX_PROBLEMS_PER_FIELD of them (the
    stray braces of a field that then fails to parse too: thousands are no help)."""
    check = _check_every_problem(text, attribute_pairs, channel, name, saves, known_fields)
    problems = sorted(check.problems, key=lambda p: (p.line, p.column))
    if len(problems) > MAX_PROBLEMS_PER_FIELD:
        rest = len(problems) - MAX_PROBLEMS_PER_FIELD
        last = problems[MAX_PROBLEMS_PER_FIELD]
        problems = problems[:MAX_PROBLEMS_PER_FIELD] + [TemplateProblem(
            last.kind, f"and {rest:,} more problems after this point", channel, name, last.line, last.column,
            "fix the ones above first")]
    return _FieldCheck(problems, check.marked, check.parsed)


def _check_every_problem(text: str, attribute_pairs: tuple[tuple[str, str], ...], channel: Channel, name: str,
                         saves: tuple[tuple[str, tuple[str, ...]], ...],
                         known_fields: tuple[str, ...]) -> _FieldCheck:
    channel_saves = {k: list(v) for k, v in saves}
    label = FIELD_LABELS[(channel, name)]
    problems: list[TemplateProblem] = []
    marked: dict[int, str] = {}

    def report(kind: str, message: str, index: int, suggestion: str | None = None) -> None:
        problems.append(_problem(kind, message, channel, name, text, index, suggestion))

    if len(text) > MAX_TEMPLATE_CHARS:
        report("syntax", f"the {label} is {len(text):,} characters long; the preview takes at most "
               f"{MAX_TEMPLATE_CHARS:,}: shorten it", 0)
        return _FieldCheck(problems, marked, parsed=False)
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        report("syntax", f"the {label} holds a character no message can carry (an unpaired surrogate, "
               f"U+{ord(surrogate.group()):04X}), often left by a bad copy and paste",
               surrogate.start(), "remove it, or paste the text again")
        return _FieldCheck(problems, marked, parsed=False)
    prepared = _prepare(text)
    source = prepared.source

    hazard = _lexer_hazard(source)
    if hazard is not None:
        report(hazard.kind, hazard.message, hazard.index, hazard.suggestion)
        return _FieldCheck(problems, marked, parsed=False)

    # Stray braces first: they are what the partner page got wrong, and Liquid takes the extra
    # brace for text, so nothing else would say so. (The search stops at the last '}}': an
    # opening after it matches nothing, and trying each would take the square of the text's length.)
    for match in _OUTPUT.finditer(source, 0, _after_last(source, "}}")):
        if prepared.in_block(match.start()):
            continue  # raw or comment: printed as written, or not at all
        if match.group("inner").startswith("{"):
            report("stray_brace", "stray '{' — an output is written {{ … }} with two braces",
                   match.start() + 2, "remove the third '{'")
        if source.startswith("}", match.end()):
            report("stray_brace", "stray '}' after '}}' — it would be sent as text",
                   match.end(), "remove the third '}'")

    try:
        _parse(source)
    except LiquidError as exc:
        message = str(exc.message)
        suggestion = None
        tag = re.match(r"unexpected tag '(\w+)'", message)
        if tag:
            tag_name = tag.group(1)
            if tag_name in ("raw", "doc", "comment"):
                message = f"{{% {tag_name} %}} is never closed with {{% end{tag_name} %}}"
            elif tag_name.startswith(("end", "else", "elsif", "when")):
                message = f"{{% {tag_name} %}} has no opening tag it belongs to"
            else:
                close = _closest(tag_name, _ENVIRONMENT.tags)
                suggestion = f"did you mean {{% {close} %}}?" if close else None
                message = f"{tag_name} is not a Liquid or Braze tag"
        report("syntax", f"syntax error: {message}", _syntax_index(source, exc), suggestion)
        return _FieldCheck(problems, marked, parsed=True)

    try:
        analysis = _analyze(source)
    except Exception:  # noqa: BLE001 — analysis is a help, the render still runs
        return _FieldCheck(problems, marked, parsed=True)

    attributes = dict(attribute_pairs)
    attribute_names = list(attributes)
    own_saves = channel_saves.get(name, [])
    any_tag = any(channel_saves.values())
    answer_names = set(own_saves) if any_tag else {DEFAULT_VARIABLE}
    fields_known = set(ANSWER_FIELDS) | set(known_fields)
    answer_paths = [f"{n}.{f}" for n in sorted(answer_names) for f in fields_known if not f.startswith("_")]
    local_names = set(analysis.locals)

    def attribute_problem(ident: str, index: int) -> None:
        attr_name, _first = prepared.attributes.get(ident, (ident, index))
        if attr_name in attributes:
            if _SURROGATE.search(attributes[attr_name]):
                report("undefined", f"the sample value of ${{{attr_name}}} holds a character no message "
                       "can carry (an unpaired surrogate): the preview shows \ufffd in its place", index,
                       "type the sample value again")
            return
        close = _closest(attr_name, attribute_names)
        suggestion = (f"did you mean ${{{close}}}?" if close
                      else f"add {attr_name!r} to the sample attributes")
        report("undefined", f"${{{attr_name}}} has no value in the sample attributes", index, suggestion)
        marked[index] = _marker(f"${{{attr_name}}} has no sample value")

    for root, references in analysis.variables.items():
        for var in references:
            index = var.span.index
            segments = var.segments
            path = str(var)
            if root in prepared.attributes:
                attribute_problem(root, index)
                continue
            if root == "custom_attribute":
                if len(segments) > 1 and isinstance(segments[1], str) and segments[1] in prepared.attributes:
                    attribute_problem(segments[1], index)
                continue
            if root in answer_names and root not in local_names - set(own_saves):
                if len(segments) > 1 and isinstance(segments[1], str) and segments[1] not in fields_known:
                    close = _closest(segments[1], fields_known)
                    wrong = f"{root}.{segments[1]}"
                    suggestion = f"did you mean {root}.{close}?" if close else None
                    report("undefined", f"{wrong} is not a field of the answer"
                           + (f" — {suggestion}" if suggestion else ""), index, suggestion)
                    marked[index] = _marker(f"{wrong} is undefined")
                continue
            if root not in analysis.globals or var not in analysis.globals[root]:
                continue  # assigned, captured or a loop variable
            if root in UNSIMULATED_VARIABLES:
                report("unsupported", f"{root} is a Braze variable the preview does not simulate", index,
                       None)
                marked[index] = _marker(f"{root} not simulated")
                continue
            other_fields = [f for f, saves in channel_saves.items() if root in saves and f != name]
            if other_fields:
                where = FIELD_LABELS[(channel, other_fields[0])]
                message = (f"{root} is not defined in the {label}: it is saved by the "
                           f"connected_content tag of the {where}, and Braze keeps a saved "
                           f"variable inside its own field")
                report("undefined", message, index, "repeat the connected_content tag in this field")
                marked[index] = _marker(f"{root} is undefined here")
                continue
            candidates = [*answer_paths, *sorted(answer_names), *sorted(local_names),
                          *(f"${{{a}}}" for a in attribute_names)]
            close = _closest(path, candidates) or _closest(root, candidates)
            if close is None and root in attributes:
                close = f"${{{root}}}"
            suggestion = f"did you mean {close}?" if close else None
            report("undefined", f"{root} is not defined" + (f" — {suggestion}" if suggestion else ""),
                   index, suggestion)
            marked[index] = _marker(f"{path} is undefined")

    for filter_name, spans in analysis.filters.items():
        if filter_name in _ENVIRONMENT.filters:
            continue
        for span in spans:
            if filter_name in UNSIMULATED_FILTERS:
                report("unsupported", f"the Braze filter {filter_name} is not simulated: the preview "
                       "shows a marker where its result would be", span.index)
            else:
                close = _closest(filter_name, _ENVIRONMENT.filters)
                suggestion = f"did you mean {close}?" if close else None
                report("undefined", f"{filter_name} is not a Liquid or Braze filter"
                       + (f" — {suggestion}" if suggestion else ""), span.index, suggestion)

    for tag_name, spans in analysis.tags.items():
        if tag_name in UNSIMULATED_TAGS:
            for span in spans:
                report("unsupported", f"the tag {tag_name} is not simulated: the preview "
                       "shows a marker in its place", span.index)

    return _FieldCheck(problems, marked, parsed=True)


def _answer_fields(outcome: PreviewOutcome | None) -> tuple[str, ...]:
    """The field names of a real answer: a field the sandbox or a replica sends is no typo."""
    response = outcome.response if outcome is not None else None
    return tuple(str(k) for k in response) if isinstance(response, Mapping) else ()


def check_templates(templates: MessageTemplates, known_fields: Iterable[str] = ()) -> list[TemplateProblem]:
    """Static problems of every field: syntax, braces, undefined names, unsupported parts.
    ``known_fields``: answer fields seen in real answers, besides the documented ones."""
    known = tuple(known_fields)
    problems: list[TemplateProblem] = []
    for channel, names in CHANNEL_FIELDS.items():
        saves = _channel_saves(templates, channel)
        for name in names:
            try:
                problems.extend(_check_field(templates, channel, name, saves, known).problems)
            except Exception as exc:  # noqa: BLE001 — a check must not take the preview down
                problems.append(TemplateProblem("syntax", f"this template cannot be checked: {exc}",
                                                channel, name, 1, 1, None))
    return problems


def _render_field(templates: MessageTemplates, channel: Channel, name: str,
                  outcome: PreviewOutcome, channel_has_tag: bool, marked: dict[int, str]) -> str:
    text = templates.field(channel, name)
    prepared = _prepare(text)
    template = _parse(prepared.source)
    attributes = dict(templates.attributes)
    data: dict[str, Any] = {}
    for ident, (attr_name, _index) in prepared.attributes.items():
        if attr_name in attributes:
            data[ident] = _carried(attributes[attr_name])
    data["custom_attribute"] = {ident: _carried(attributes[attr_name])
                                for ident, (attr_name, _index) in prepared.attributes.items()
                                if attr_name in attributes}
    if not channel_has_tag and outcome.response is not None:
        # No connected_content tag anywhere in the channel: the answer is `moments` [issue 13].
        data[DEFAULT_VARIABLE] = _copy_json(outcome.response)
    token = _STATE.set(_RenderState(outcome=outcome, marked=marked))
    try:
        return template.render(**data)
    finally:
        _STATE.reset(token)


def render_message(templates: MessageTemplates, channel: Channel,
                   outcome: PreviewOutcome) -> RenderedMessage:
    """Render one channel's fields against one outcome, with the static problems of its fields.
    Never raises: a field that cannot be rendered shows a marker and a problem says why."""
    rendered: dict[str, str] = {}
    problems: list[TemplateProblem] = []
    aborted: str | None = None
    try:
        channel = Channel(channel)
        saves = _channel_saves(templates, channel)
    except Exception as exc:  # noqa: BLE001 — the preview must never raise
        return RenderedMessage(Channel.PUSH if not isinstance(channel, Channel) else channel, outcome, {},
                               None, (TemplateProblem("syntax", f"nothing could be rendered: {exc}",
                                                      Channel.PUSH, "", 1, 1, None),))
    channel_has_tag = any(saves.values())
    known = _answer_fields(outcome)
    for name in CHANNEL_FIELDS[channel]:
        try:
            check = _check_field(templates, channel, name, saves, known)
            problems.extend(check.problems)
            if not check.parsed or any(p.kind == "syntax" for p in check.problems):
                rendered[name] = _marker("not rendered: fix the syntax error first")
                continue
            rendered[name] = _render_field(templates, channel, name, outcome, channel_has_tag, check.marked)
        except _AbortMessage as abort:
            # Braze stops the whole message at the first abort_message [Braze docs].
            aborted = aborted or abort.reason
            rendered[name] = ""
        except ResourceLimitError as exc:
            rendered[name] = _marker("not rendered: the template does too much work")
            text = templates.field(channel, name)
            index = exc.token.start_index if exc.token is not None and exc.token.start_index >= 0 else 0
            problems.append(_problem(
                "syntax", f"rendering stopped ({exc.message}): the preview allows loops and ranges of "
                f"{_ENVIRONMENT.loop_iteration_limit:,} turns and {_ENVIRONMENT.output_stream_limit:,} "
                "characters of output", channel, name, text, index,
                "make loops shorter and output smaller",
            ))
        except LiquidError as exc:
            rendered[name] = _marker("not rendered")
            text = templates.field(channel, name)
            index = exc.token.start_index if exc.token is not None and exc.token.start_index >= 0 else 0
            problems.append(_problem("syntax", f"this template fails when rendered: {exc.message}",
                                     channel, name, text, index))
        except Exception as exc:  # noqa: BLE001 — the preview must never raise
            rendered[name] = _marker("not rendered")
            problems.append(TemplateProblem(
                "syntax", f"this template cannot be rendered: {type(exc).__name__}: {exc}",
                channel, name, 1, 1, None,
            ))
    return RenderedMessage(channel, outcome, rendered, aborted, tuple(problems))


def render_all(templates: MessageTemplates, outcomes: Iterable[PreviewOutcome]) -> list[RenderedMessage]:
    """Every channel against every outcome: outcome by outcome, channels in CHANNEL_FIELDS order."""
    return [render_message(templates, channel, outcome) for outcome in outcomes for channel in Channel]


class _ImageSources(HTMLParser):
    """The ``src`` of every ``<img>`` in a rendered email body, once each, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() == "img":
            for name, value in attrs:
                if name.lower() == "src" and value and value not in self.sources:
                    self.sources.append(value)


def email_image_sources(html: str) -> list[str]:
    """The images a rendered email body shows (what its frame is handed)."""
    parser = _ImageSources()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - a broken body simply has no images to fetch
        return parser.sources
    return parser.sources


def _is_web_address(url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class MessagePreviewReport:
    """What the Message tab shows for one set of templates: the renderings, the problems to list, and
    the images the renderings show."""

    rendered: tuple[RenderedMessage, ...]  # render_all's order; empty when there are no outcomes yet
    # What a GetReward tag would cost first (the preview never calls it, Braze would), then each
    # distinct problem once (the same mistake is found against every outcome), in rendering order.
    problems: tuple[TemplateProblem, ...]
    # Per email rendering (by outcome), the sources of its <img> tags.
    email_images: Mapping[OutcomeKind, tuple[str, ...]]

    @property
    def image_urls(self) -> tuple[str, ...]:
        """Every web image a rendering shows, once each: push and in-app image URLs, then email images."""
        urls: dict[str, None] = {}
        for message in self.rendered:
            url = message.fields.get("image_url", "").strip() if message.aborted is None else ""
            if _is_web_address(url):
                urls.setdefault(url)
        for sources in self.email_images.values():
            urls.update(dict.fromkeys(s for s in sources if _is_web_address(s)))
        return tuple(urls)


def preview_report(templates: MessageTemplates, outcomes: Iterable[PreviewOutcome]) -> MessagePreviewReport:
    """The Message tab's whole preview: every channel × outcome rendered (with no outcomes, the static
    checks alone), the billing warnings first and the problems de-duplicated. Never raises."""
    outcomes = list(outcomes)
    billing = billing_warnings(templates)
    rendered = render_all(templates, outcomes) if outcomes else []
    found = ([p for message in rendered for p in message.problems] if outcomes
             else check_templates(templates))
    distinct: dict[tuple[Any, ...], TemplateProblem] = {}
    for problem in (*billing, *found):
        distinct.setdefault((problem.kind, problem.message, problem.channel, problem.field, problem.line,
                             problem.column), problem)
    problems = tuple(distinct.values())
    email_images = {message.outcome.kind: tuple(email_image_sources(message.fields.get("html", "")))
                    for message in rendered if message.channel is Channel.EMAIL and message.aborted is None}
    return MessagePreviewReport(tuple(rendered), problems, email_images)


# --- what a template's connected_content tags would cost ----------------------------------------

_GET_REWARD_URL = re.compile(r"/GetReward(?![A-Za-z0-9_])")
_LIQUID_IN_URL = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# What Braze repeats a tag's call for: the body of a loop (its else block runs once).
_LOOP_NODES = (ForNode, TablerowNode)


@dataclass(frozen=True)
class PlacedCall:
    """A connected_content tag and where it stands."""

    channel: Channel
    field: str
    call: ConnectedContentCall
    line: int
    column: int
    in_loop: bool = False  # inside a for or tablerow loop: Braze calls it once per turn

    @property
    def calls_get_reward(self) -> bool:
        return bool(_GET_REWARD_URL.search(self.call.url))

    @property
    def may_call_get_reward(self) -> bool:
        """The endpoint is made by Liquid (``{% connected_content {{url}} %}``, ``…/{{endpoint}}``): the
        preview cannot tell which it is, and it may be GetReward. Liquid in the query only, or before a
        literal last path segment (``{{base}}/GetRewardInfo``), does not choose the endpoint."""
        if self.calls_get_reward:
            return False
        path = self.call.url.split("?", 1)[0]
        pieces = list(_LIQUID_IN_URL.finditer(path))
        if not pieces and "{{" not in path and "{%" not in path:
            return False
        after = path[pieces[-1].end():] if pieces else ""
        return not re.search(r"/[A-Za-z0-9_.~-]+/?$", after)


def connected_content_calls(templates: MessageTemplates) -> list[PlacedCall]:
    """Every connected_content tag of the templates, in channel and field order (a field that does
    not parse is skipped: its syntax error is reported by check_templates)."""
    placed: list[PlacedCall] = []
    for channel, names in CHANNEL_FIELDS.items():
        for name in names:
            text = templates.field(channel, name)
            if len(text) > MAX_TEMPLATE_CHARS:
                continue
            try:
                nodes = _parse(_prepare(text).source).nodes
            except LiquidError:
                continue
            for call, in_loop in _calls_in(nodes, in_loop=False):
                line, column = _line_column(text, call.index)
                placed.append(PlacedCall(channel, name, call, line, column, in_loop))
    return placed


def _calls_in(nodes: Iterable[Any], *, in_loop: bool) -> Iterable[tuple[ConnectedContentCall, bool]]:
    for node in nodes:
        if isinstance(node, _ConnectedContentNode):
            yield node.call, in_loop
        if isinstance(node, _LOOP_NODES):
            yield from _calls_in([node.block], in_loop=True)
            if getattr(node, "default", None) is not None:
                yield from _calls_in([node.default], in_loop=in_loop)
            continue
        try:
            # Static walk: the built-in nodes list their children without a render context.
            children = list(node.children(None, include_partials=False))  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 — a node that needs one has no tag of ours inside
            children = []
        yield from _calls_in(children, in_loop=in_loop)


def billing_warnings(templates: MessageTemplates) -> list[TemplateProblem]:
    """Problems of kind "billing" for GetReward tags, which the preview never calls: Braze may call
    the same Connected Content URL more than once per recipient, and every GetReward call is a
    billed, consumed reward [shared notes, "Braze Connected Content facts"]."""
    warnings: list[TemplateProblem] = []
    per_channel: dict[Channel, list[PlacedCall]] = {}
    for placed in connected_content_calls(templates):
        if not (placed.calls_get_reward or placed.may_call_get_reward):
            continue

        def warn(message: str, suggestion: str | None, placed: PlacedCall = placed) -> None:
            warnings.append(TemplateProblem("billing", message, placed.channel, placed.field,
                                            placed.line, placed.column, suggestion))

        if placed.may_call_get_reward:
            warn("this tag's URL is made by Liquid, so the preview cannot tell which endpoint it calls: it "
                 "may call GetReward, and each GetReward call is a billed reward", "write the endpoint's "
                 "name in the URL itself, e.g. …/GetRewardInfo or …/GetReward")
            what = "it may call GetReward"
        else:
            per_channel.setdefault(placed.channel, []).append(placed)
            what = "each call is a billed reward"
        if placed.in_loop:
            warn(f"this tag stands inside a loop: Braze calls it once per turn, and {what}",
                 "move the tag out of the loop and save its answer for the loop to read")
        if placed.may_call_get_reward:
            continue
        warn("this tag calls GetReward: each call is a billed reward, and Braze may call it more than "
             "once per recipient; the preview never calls it", "call GetRewardInfo to show a reward, "
             "and GetReward only where the reward URL is handed out")
        if "retry" in placed.call.options:
            warn(":retry on GetReward can consume a reward on every attempt", "remove :retry")
        if "cache_max_age" in placed.call.options:
            warn(":cache_max_age on GetReward hands one reward URL to many customers",
                 "remove :cache_max_age")
    for channel, calls in per_channel.items():
        if len(calls) > 1:
            first = calls[0]
            warnings.append(TemplateProblem(
                "billing", f"{len(calls)} fields of this message call GetReward: at least {len(calls)} "
                "billed rewards per recipient", channel, first.field, first.line, first.column,
                "call GetReward in one field only"))
    return warnings
