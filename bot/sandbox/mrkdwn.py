"""Slack mrkdwn and plain text to HTML, escaped in this one place.

Slack's own escapes (`&lt;`, `&gt;`, `&amp;`) are decoded once and everything is then
HTML-escaped, so `&lt;script&gt;` shows as the text `<script>`. The only tags in the
output are the ones written here; only http(s) and mailto links become anchors.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.sandbox.emoji import with_emoji

# Private-use characters mark where a finished piece of HTML goes back in; they are
# removed from the input first so no text can forge one.
_OPEN, _CLOSE = "\ue000", "\ue001"
_SLACK_ENTITY = re.compile(r"&(lt|gt|amp);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}
_PRE = re.compile(r"```(.*?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_ANGLE = re.compile(r"<([^<>\n]*)>")
_QUOTE = re.compile(r"^(?:>|&gt;) ?")
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_TAG = re.compile(r"<[^>]*>")
_BROADCASTS = frozenset({"here", "channel", "everyone"})
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _emphasis(mark: str) -> re.Pattern[str]:
    m = re.escape(mark)
    # Slack's rule: the marks hug non-space text and do not touch a word on the outside.
    return re.compile(rf"(?<![\w{m}]){m}(?=[^\s{m}])([^{m}\n]*?[^\s{m}]){m}(?![\w{m}])")


_STYLES = ((_emphasis("*"), "b"), (_emphasis("_"), "i"), (_emphasis("~"), "s"))


class Names(Protocol):
    """Display names for ids; an unknown id comes back as itself."""

    def user(self, user_id: str) -> str:
        """The user's display name."""
        ...

    def channel(self, channel_id: str) -> str:
        """The channel's name, without `#`."""
        ...

    def usergroup(self, usergroup_id: str) -> str:
        """The user group's handle, without `@`."""
        ...


@dataclass(frozen=True)
class NameTable:
    """`Names` from three mappings."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    usergroups: Mapping[str, str] = field(default_factory=dict)

    def user(self, user_id: str) -> str:
        """The user's display name, or the id."""
        return self.users.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        """The channel's name, or the id."""
        return self.channels.get(channel_id, channel_id)

    def usergroup(self, usergroup_id: str) -> str:
        """The user group's handle, or the id."""
        return self.usergroups.get(usergroup_id, usergroup_id)


def escape(text: str) -> str:
    """`text` escaped for HTML text and double-quoted attributes."""
    return html.escape(text, quote=True)


def decode_slack(text: str) -> str:
    """Undo Slack's escaping (`&lt;`, `&gt;`, `&amp;`) once."""
    return _SLACK_ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def safe_url(url: str) -> bool:
    """Whether `url` may become a link: http(s) or mailto only."""
    return url.strip().lower().startswith(SAFE_SCHEMES)


def link_html(url: str, label_html: str) -> str:
    """An anchor opening `url` (already checked with `safe_url`) in a new tab."""
    return (
        f'<a href="{escape(url.strip())}" target="_blank" rel="noopener noreferrer">'
        f"{label_html}</a>"
    )


def mention_html(text: str) -> str:
    """A mention chip showing `text` (`@Ada`, `#general`, `@here`)."""
    return f'<span class="mention">{escape(text)}</span>'


def wrap_in(tag: str) -> Callable[[re.Match[str]], str]:
    """A `re.sub` replacement putting the match's first group in `<tag>`."""
    return lambda match: f"<{tag}>{match.group(1)}</{tag}>"


def plain_to_html(text: str) -> str:
    """A `plain_text` string as HTML: escaped, emoji shortcodes shown, newlines as `<br>`."""
    return _breaks(with_emoji(escape(text)))


def mrkdwn_to_html(text: str, names: Names) -> str:
    """A `mrkdwn` string as HTML."""
    text = text.replace(_OPEN, "").replace(_CLOSE, "")
    parts: list[str] = []
    last = 0
    for match in _PRE.finditer(text):
        parts.append(_lines(_trim_newline(text[last : match.start()], end=True), names))
        body = _trim_newline(decode_slack(match.group(1)), start=True, end=True)
        parts.append(f'<pre class="bk-pre">{escape(body)}</pre>')
        last = match.end()
    parts.append(_lines(_trim_newline(text[last:], start=last > 0), names))
    return "".join(parts)


def mrkdwn_to_plain(text: str, names: Names) -> str:
    """A `mrkdwn` string as the words a reader sees, without formatting."""
    rendered = mrkdwn_to_html(text, names).replace("<br>", "\n")
    # Every `<` the input had is escaped by now, so each tag left is one written here.
    return html.unescape(_TAG.sub("", rendered))


def _trim_newline(text: str, *, start: bool = False, end: bool = False) -> str:
    # A newline next to a code block's fence belongs to the block, not to the text.
    if start and text.startswith("\n"):
        text = text[1:]
    if end and text.endswith("\n"):
        text = text[:-1]
    return text


def _breaks(html_text: str) -> str:
    return html_text.replace("\r\n", "\n").replace("\n", "<br>")


def _lines(text: str, names: Names) -> str:
    if not text:
        return ""
    out: list[str] = []
    quote: list[str] = []
    plain: list[str] = []

    def flush_plain() -> None:
        if plain:
            out.append("<br>".join(plain))
            plain.clear()

    def flush_quote() -> None:
        if quote:
            out.append(f'<blockquote class="bk-quote">{"<br>".join(quote)}</blockquote>')
            quote.clear()

    for line in text.split("\n"):
        marker = _QUOTE.match(line)
        if marker:
            flush_plain()
            quote.append(_inline(line[marker.end() :], names))
        else:
            flush_quote()
            plain.append(_inline(line, names))
    flush_plain()
    flush_quote()
    return "".join(out)


def _inline(line: str, names: Names) -> str:
    pieces: list[str] = []

    def keep(piece: str) -> str:
        pieces.append(piece)
        return f"{_OPEN}{len(pieces) - 1}{_CLOSE}"

    line = _CODE.sub(lambda m: keep(f"<code>{escape(decode_slack(m.group(1)))}</code>"), line)
    line = _ANGLE.sub(lambda m: keep(_angle(m.group(1), names)), line)
    line = with_emoji(escape(decode_slack(line)))
    for pattern, tag in _STYLES:
        line = pattern.sub(wrap_in(tag), line)
    # Code spans may sit inside a kept link label, so substitute until none is left.
    while _PLACEHOLDER.search(line):
        line = _PLACEHOLDER.sub(lambda m: pieces[int(m.group(1))], line)
    return line


def _angle(token: str, names: Names) -> str:
    """`<@U1>`, `<#C1|x>`, `<!here>`, `<url|label>`: Slack's special forms."""
    target, _, label = token.partition("|")
    if _OPEN in target:
        # A code span inside the target: not a link, just text around the code.
        return escape(decode_slack(f"<{token}>"))
    label = decode_slack(label)
    kind = target[:1]
    handler = _SPECIAL.get(kind)
    if handler is not None:
        return handler(target[1:], label, names)
    url = decode_slack(target)
    if safe_url(url):
        shown = label or (url[len("mailto:") :] if url.lower().startswith("mailto:") else url)
        return link_html(url, escape(shown))
    return escape(label or f"<{url}>")


def _user(user_id: str, label: str, names: Names) -> str:
    name = names.user(user_id)
    return mention_html("@" + (label if name == user_id and label else name))


def _channel(channel_id: str, label: str, names: Names) -> str:
    name = names.channel(channel_id)
    return mention_html("#" + (label if name == channel_id and label else name))


def _command(command: str, label: str, names: Names) -> str:
    name, _, argument = command.partition("^")
    if name in _BROADCASTS:
        return mention_html("@" + name)
    if name == "subteam" and argument:
        handle = names.usergroup(argument)
        if handle == argument and label:
            return mention_html("@" + label.lstrip("@"))
        return mention_html("@" + handle)
    # `<!date^…|fallback>` and any command Slack may add: its fallback text, or itself.
    return escape(label or f"<!{command}>")


_SPECIAL: dict[str, Callable[[str, str, Names], str]] = {
    "@": _user,
    "#": _channel,
    "!": _command,
}
