"""Helpers of the export tests: run a snippet as a real program, read a Braze tag and a PowerShell
snippet back strictly, and a real HTTP server that records every request byte for byte.

The Braze reader and the PowerShell reader are deliberately strict: anything they do not expect
(an unknown attribute, text outside the known blocks, an unterminated string) is an error, so a
wrong export fails here rather than being read generously.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import liquid

from moments_desktop.core.exports import ExportFormat

VENV_BIN = Path(sys.executable).parent
HTTPIE = VENV_BIN / "http"
SNIPPET_TIMEOUT_S = 60


def run_snippet(fmt: ExportFormat, text: str, key: str | None) -> subprocess.CompletedProcess:
    """Run an exported snippet as its user would: cURL and HTTPie through ``sh -c``, Python with this
    interpreter (httpx is installed in it). The key, when given, is in MOMENTS_API_KEY and nowhere else."""
    env = {k: v for k, v in os.environ.items() if k != "MOMENTS_API_KEY"}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # `http` is HTTPie's, from the venv
    env.pop("http_proxy", None), env.pop("HTTP_PROXY", None), env.pop("all_proxy", None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    if key is not None:
        env["MOMENTS_API_KEY"] = key
    if fmt in (ExportFormat.CURL, ExportFormat.HTTPIE):
        command = ["sh", "-c", text]
    elif fmt is ExportFormat.PYTHON:
        command = [sys.executable, "-c", text]
    else:
        raise ValueError(f"{fmt} cannot be run here")
    with tempfile.TemporaryDirectory(prefix="moments-httpie-") as config_dir:
        # HTTPie's own configuration, not the user's: without it HTTPie starts a background process that
        # asks packages.httpie.io for a newer version, which outlives the test.
        (Path(config_dir) / "config.json").write_text('{"disable_update_warnings": true}', encoding="utf-8")
        env["HTTPIE_CONFIG_DIR"] = config_dir
        result = subprocess.run(command, env=env, capture_output=True, timeout=SNIPPET_TIMEOUT_S)
    assert result.returncode == 0, (fmt, result.returncode, result.stderr.decode(errors="replace"))
    return result


# --- a real server that records what arrives ------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, (name, values)
        return values[0] if values else None


@dataclass
class RecordingServer:
    """HTTP/1.1 on 127.0.0.1: records every POST and answers a JSON object naming its sequence number."""

    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                recorded.append(Received(self.command, self.path, list(self.headers.items()), body))
                answer = json.dumps({"rewardNotificationText": "recorded", "seq": len(recorded)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer)
                self.close_connection = True

            def log_message(self, *_args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="recording-server", daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


# --- Braze: a strict reader of the exported Liquid --------------------------------------------------

_COMMENT = re.compile(r"\{% comment %\}(.*?)\{% endcomment %\}", re.S)
_CAPTURE = re.compile(r"\{% capture ([a-z_]+) %\}(.*?)\{% endcapture %\}", re.S)
_TAG = re.compile(r"\{% connected_content (.*?) %\}", re.S)
_VALUE_ATTRIBUTES = {"method", "body", "content_type", "save", "cache_max_age"}
_FLAG_ATTRIBUTES = {"retry", "no_cache"}


@dataclass
class BrazeExport:
    comments: list[str]
    captures: dict[str, str]
    url: str
    attributes: dict[str, object]  # name -> value (headers: the parsed JSON object; flags: True)
    trailer: str  # what follows the tag (the abort guard, or nothing)

    def body_fields(self) -> dict[str, str]:
        """The body Braze sends: a captured JSON body as Liquid really renders it, or the form-style one
        (which ``:content_type application/json`` makes Braze send as a JSON object)."""
        body = self.attributes["body"]
        match = re.fullmatch(r"\{\{([a-z_]+)\}\}", body)
        if match:
            name = match.group(1)
            source = f"{{% capture {name} %}}{self.captures[name]}{{% endcapture %}}{{{{{name}}}}}"
            rendered = liquid.render(source)
            assert rendered == self.captures[name], "Liquid changed the captured body"
            return json.loads(rendered)
        fields = {}
        for pair in body.split("&"):
            name, sep, value = pair.partition("=")
            assert sep and "=" not in value and name not in fields, pair
            fields[name] = value
        return fields


def parse_connected_content_markup(markup: str) -> tuple[str, dict[str, object]]:
    """(URL, attributes) of the inside of a ``{% connected_content … %}`` tag; strict."""
    url, _, rest = markup.partition(" ")
    assert url and not url.startswith(":"), markup
    attributes: dict[str, object] = {}
    position = 0
    while position < len(rest):
        match = re.compile(r":([a-z_]+)").match(rest, position)
        assert match, f"expected an attribute at {rest[position:]!r}"
        name = match.group(1)
        assert name not in attributes, f"{name} twice"
        position = match.end()
        if name in _FLAG_ATTRIBUTES:
            attributes[name] = True
        elif name == "headers":
            assert rest[position] == " "
            value, end = json.JSONDecoder().raw_decode(rest, position + 1)
            assert isinstance(value, dict)
            attributes[name] = value
            position = end
        elif name in _VALUE_ATTRIBUTES:
            value_match = re.compile(r" (\S+)").match(rest, position)
            assert value_match, f":{name} has no value"
            attributes[name] = value_match.group(1)
            position = value_match.end()
        else:
            raise AssertionError(f"unknown attribute :{name}")
        if position < len(rest):
            assert rest[position] == " ", rest[position:]
            position += 1
    return url, attributes


def parse_braze(text: str) -> BrazeExport:
    comments = _COMMENT.findall(text)
    captures = dict(_CAPTURE.findall(text))
    tags = _TAG.findall(text)
    assert len(tags) == 1, tags
    url, attributes = parse_connected_content_markup(tags[0])
    tag_end = _TAG.search(text).end()
    trailer = text[tag_end:].strip()
    leftover = _TAG.sub("", _CAPTURE.sub("", _COMMENT.sub("", text[:tag_end]))).strip()
    assert leftover == "", f"unexpected text: {leftover!r}"
    return BrazeExport(comments, captures, url, attributes, trailer)


# --- PowerShell: an honest reader of single-quoted strings (PowerShell cannot be installed here) -----

# PowerShell's tokenizer (ScanStringLiteral): any of these ends a single-quoted string, unless the next
# character is one of them too, in which case that next character is kept and both are consumed.
POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"
_UNESCAPE = "([regex]::Unescape("


def ps_single_quoted_at(text: str, start: int) -> tuple[str, int]:
    assert text[start] in POWERSHELL_QUOTES, text[start:start + 20]
    out, i = [], start + 1
    while True:
        assert i < len(text), "unterminated string"
        ch = text[i]
        if ch in POWERSHELL_QUOTES:
            if i + 1 < len(text) and text[i + 1] in POWERSHELL_QUOTES:
                out.append(text[i + 1])
                i += 2
                continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1


def regex_unescape(value: str) -> str:
    """.NET Regex.Unescape for what the exports write (\\\\ and \\uXXXX); any other escape is an error,
    because .NET would read it (\\n, \\t …) and the export never means one."""
    out, i = [], 0
    while i < len(value):
        if value[i] != "\\":
            out.append(value[i])
            i += 1
        elif value[i + 1] == "\\":
            out.append("\\")
            i += 2
        elif value[i + 1] == "u":
            out.append(chr(int(value[i + 2:i + 6], 16)))
            i += 6
        else:
            raise AssertionError(f"unexpected escape {value[i:i + 2]!r}")
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")


def ps_expression_at(text: str, start: int) -> tuple[str, int]:
    """The value of the string expression at ``start``: '…' or ([regex]::Unescape('…'))."""
    if text.startswith(_UNESCAPE, start):
        value, end = ps_single_quoted_at(text, start + len(_UNESCAPE))
        assert text.startswith("))", end), text[end:end + 10]
        return regex_unescape(value), end + 2
    return ps_single_quoted_at(text, start)


def ps_expression(text: str) -> str:
    value, end = ps_expression_at(text, 0)
    assert end == len(text), f"text after the string: {text[end:]!r}"
    return value


@dataclass
class PowerShellRequest:
    url: str
    headers: dict[str, str]  # the key header holds the literal "$env:MOMENTS_API_KEY" when a placeholder
    body: str


def parse_powershell(text: str) -> PowerShellRequest:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "$headers = [ordered]@{", lines[0]
    headers: dict[str, str] = {}
    i = 1
    while lines[i] != "}":
        line = lines[i]
        assert line.startswith("    "), line
        name, end = ps_expression_at(line, 4)
        assert line.startswith(" = ", end), line
        rest = line[end + 3:]
        headers[name] = rest if rest == "$env:MOMENTS_API_KEY" else ps_expression(rest)
        i += 1
    body_line = lines[i + 1]
    prefix = "$body = [System.Text.Encoding]::UTF8.GetBytes("
    assert body_line.startswith(prefix) and body_line.endswith(")"), body_line
    body = ps_expression(body_line[len(prefix):-1])
    call = lines[i + 2]
    assert call.startswith("Invoke-RestMethod -Method Post -Uri "), call
    url, end = ps_expression_at(call, len("Invoke-RestMethod -Method Post -Uri "))
    rest = call[end:]
    assert rest.startswith(" -Headers $headers -ContentType "), rest
    content_type, end = ps_expression_at(rest, len(" -Headers $headers -ContentType "))
    rest = rest[end:]
    assert rest.startswith(" -UserAgent "), rest
    user_agent, end = ps_expression_at(rest, len(" -UserAgent "))
    assert rest[end:] == " -Body $body | ConvertTo-Json -Depth 10", rest[end:]
    assert len(lines) == i + 3, lines[i + 3:]
    headers.update({"Content-Type": content_type, "User-Agent": user_agent})
    return PowerShellRequest(url, headers, body)
