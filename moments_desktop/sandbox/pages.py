"""The small HTML pages the sandbox serves at /redeem/<code>."""

from __future__ import annotations

from html import escape

_STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK JP", sans-serif;
  background: linear-gradient(135deg, #1e3a8a, #7c3aed); color: #1f2937; padding: 24px; }
main { background: #fff; border-radius: 20px; max-width: 560px; width: 100%; overflow: hidden;
  box-shadow: 0 24px 60px rgba(0, 0, 0, .35); }
img { display: block; width: 100%; height: auto; background: #e5e7eb; }
.content { padding: 28px 32px 32px; }
.badge { display: inline-block; background: #ff9900; color: #111827; font-weight: 700; font-size: 13px;
  letter-spacing: .06em; text-transform: uppercase; border-radius: 999px; padding: 4px 12px; }
h1 { font-size: 26px; margin: 14px 0 6px; }
h2 { font-size: 18px; margin: 0 0 14px; color: #4b5563; font-weight: 600; }
p { line-height: 1.55; margin: 0 0 14px; }
.code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 18px; background: #f3f4f6;
  border: 1px dashed #9ca3af; border-radius: 10px; padding: 10px 14px; display: inline-block; }
.note { background: #fef3c7; border-radius: 10px; padding: 10px 14px; font-size: 14px; }
footer { color: #6b7280; font-size: 13px; margin-top: 18px; }
"""


def _page(lang: str, title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def redeem_page(
    *,
    lang: str,
    texts: dict[str, str],
    reward_title: str,
    message: str,
    image_url: str,
    code: str,
    test_mode: bool,
) -> str:
    note = f'<p class="note">{escape(texts["test"])}</p>' if test_mode else ""
    body = (
        f'<img src="{escape(image_url)}" alt="{escape(reward_title)}" width="600" height="400">\n'
        '<div class="content">\n'
        '<span class="badge">Reward</span>\n'
        f"<h1>{escape(texts['heading'])}</h1>\n"
        f"<h2>{escape(reward_title)}</h2>\n"
        f'<p class="message">{escape(message)}</p>\n'
        f'<p>{escape(texts["code"])}: <span class="code">{escape(code)}</span></p>\n'
        f"{note}\n"
        f"<footer>{escape(texts['footer'])}</footer>\n"
        "</div>"
    )
    return _page(lang, f"{texts['heading']} – {reward_title}", body)


def not_found_page(code: str) -> str:
    body = (
        '<div class="content">\n'
        '<span class="badge">Not found</span>\n'
        "<h1>This reward link is not valid</h1>\n"
        f'<p>No reward was issued with the code <span class="code">{escape(code)}</span>.</p>\n'
        "<p>Links from a live campaign stop working when the sandbox is reset or restarted.</p>\n"
        "<footer>Served by the Moments Desktop sandbox.</footer>\n"
        "</div>"
    )
    return _page("en", "Reward link not valid", body)
