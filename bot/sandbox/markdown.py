"""Standard Markdown (Slack's `markdown` block) to HTML: a small, safe subset.

Headings, paragraphs, bullet, numbered and task lists, quotes, fenced code, `**bold**`,
`*italic*`, `~~strike~~`, `` `code` `` and `[text](url)` links. The text is escaped
first and only http(s) and mailto links become anchors, so no input can make a tag.
"""

from __future__ import annotations

import re

from bot.sandbox.mrkdwn import escape, link_html, safe_url, wrap_in

_OPEN, _CLOSE = "\ue000", "\ue001"
_FENCE = re.compile(r"^\s*```")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
_TASK = re.compile(r"^\[([ xX])\]\s+(.*)$")
_QUOTE = re.compile(r"^\s*>\s?(.*)$")
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_STYLES = (
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), "strong"),
    (re.compile(r"__(?=\S)(.+?)(?<=\S)__"), "strong"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), "em"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])"), "em"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), "del"),
)


def markdown_to_html(text: str) -> str:
    """Markdown text as HTML."""
    lines = text.replace(_OPEN, "").replace(_CLOSE, "").replace("\r\n", "\n").split("\n")
    out = _Blocks()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            out.close()
            code: list[str] = []
            while index < len(lines) and not _FENCE.match(lines[index]):
                code.append(lines[index])
                index += 1
            index += 1
            out.html.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
        elif not line.strip():
            out.close()
        elif heading := _HEADING.match(line):
            out.close()
            level = len(heading.group(1))
            out.html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif item := _BULLET.match(line):
            out.add("ul", _item(item.group(1)))
        elif item := _NUMBERED.match(line):
            out.add("ol", _item(item.group(1)))
        elif quoted := _QUOTE.match(line):
            out.add("blockquote", _inline(quoted.group(1)))
        else:
            out.add("p", _inline(line.strip()))
    out.close()
    return "".join(out.html)


class _Blocks:
    """The HTML so far and the paragraph, list or quote still open."""

    def __init__(self) -> None:
        self.html: list[str] = []
        self.open: list[str] = []
        self.tag = ""

    def close(self) -> None:
        """Write out what is open."""
        if self.open:
            joiner = "" if self.tag in ("ul", "ol") else "<br>"
            self.html.append(f"<{self.tag}>{joiner.join(self.open)}</{self.tag}>")
            self.open.clear()

    def add(self, tag: str, piece: str) -> None:
        """Add `piece` to the open `<tag>`, first closing any other."""
        if tag != self.tag:
            self.close()
            self.tag = tag
        self.open.append(piece)


def _item(text: str) -> str:
    task = _TASK.match(text)
    if not task:
        return f"<li>{_inline(text)}</li>"
    checked = " checked" if task.group(1) in "xX" else ""
    return (
        f'<li class="bk-task"><input type="checkbox" disabled{checked}> '
        f"{_inline(task.group(2))}</li>"
    )


def _inline(text: str) -> str:
    pieces: list[str] = []

    def keep(piece: str) -> str:
        pieces.append(piece)
        return f"{_OPEN}{len(pieces) - 1}{_CLOSE}"

    text = _CODE.sub(lambda m: keep(f"<code>{escape(m.group(1))}</code>"), text)
    text = _LINK.sub(lambda m: keep(_link(m.group(1), m.group(2))), text)
    text = escape(text)
    for pattern, tag in _STYLES:
        text = pattern.sub(wrap_in(tag), text)
    while _PLACEHOLDER.search(text):
        text = _PLACEHOLDER.sub(lambda m: pieces[int(m.group(1))], text)
    return text


def _link(label: str, url: str) -> str:
    if _OPEN in url or not safe_url(url):
        return escape(f"[{label}]({url})")
    return link_html(url, escape(label))
