"""Slack's `rich_text` block to HTML: sections, lists, preformatted text and quotes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.sandbox.emoji import emoji
from bot.sandbox.mrkdwn import Names, escape, link_html, mention_html, safe_url
from bot.sandbox.render_elements import list_at, str_at

_STYLE_TAGS = (("code", "code"), ("strike", "s"), ("italic", "i"), ("bold", "b"))
_MAX_INDENT = 8


def rich_text_html(block: Mapping[str, Any], names: Names) -> str:
    """A `rich_text` block."""
    inner = "".join(_container(element, names) for element in list_at(block, "elements"))
    return f'<div class="bk-rich-text">{inner}</div>'


def _container(element: object, names: Names) -> str:
    kind = str_at(element, "type")
    inline = _inline_all(element, names)
    if kind == "rich_text_preformatted":
        return f'<pre class="bk-pre">{_inline_all(element, names, styled=False)}</pre>'
    if kind == "rich_text_quote":
        return f'<blockquote class="bk-quote">{inline}</blockquote>'
    if kind == "rich_text_list":
        return _list(element, names)
    return f'<div class="bk-rt-section">{inline}</div>'


def _list(element: object, names: Names) -> str:
    tag = "ol" if str_at(element, "style") == "ordered" else "ul"
    indent = element.get("indent") if isinstance(element, Mapping) else None
    level = min(indent, _MAX_INDENT) if isinstance(indent, int) and indent > 0 else 0
    items = "".join(f"<li>{_inline_all(item, names)}</li>" for item in list_at(element, "elements"))
    return f'<{tag} class="bk-rt-list bk-indent-{level}">{items}</{tag}>'


def _inline_all(container: object, names: Names, *, styled: bool = True) -> str:
    return "".join(_inline(element, names, styled) for element in list_at(container, "elements"))


def _inline(element: object, names: Names, styled: bool) -> str:
    if not isinstance(element, Mapping):
        return ""
    kind = str_at(element, "type")
    render = _INLINE.get(kind)
    if kind == "text" and not styled:
        # Preformatted text keeps its newlines; `<pre>` shows them.
        text = escape(str_at(element, "text"))
    else:
        text = render(element, names) if render else escape(str_at(element, "text"))
    style = element.get("style")
    if not styled or not isinstance(style, Mapping):
        return text
    for name, tag in _STYLE_TAGS:
        if style.get(name) is True:
            text = f"<{tag}>{text}</{tag}>"
    return text


def _text(element: Mapping[str, Any], names: Names) -> str:
    return escape(str_at(element, "text")).replace("\n", "<br>")


def _link(element: Mapping[str, Any], names: Names) -> str:
    url, label = str_at(element, "url"), str_at(element, "text")
    if not safe_url(url):
        return escape(label or url)
    return link_html(url, escape(label or url))


def _user(element: Mapping[str, Any], names: Names) -> str:
    return mention_html("@" + names.user(str_at(element, "user_id")))


def _channel(element: Mapping[str, Any], names: Names) -> str:
    return mention_html("#" + names.channel(str_at(element, "channel_id")))


def _usergroup(element: Mapping[str, Any], names: Names) -> str:
    return mention_html("@" + names.usergroup(str_at(element, "usergroup_id")))


def _broadcast(element: Mapping[str, Any], names: Names) -> str:
    return mention_html("@" + str_at(element, "range"))


def _emoji(element: Mapping[str, Any], names: Names) -> str:
    name = str_at(element, "name")
    return f'<span class="bk-emoji">{emoji(name) or escape(f":{name}:")}</span>'


def _date(element: Mapping[str, Any], names: Names) -> str:
    return escape(str_at(element, "fallback"))


_INLINE: dict[str, Callable[[Mapping[str, Any], Names], str]] = {
    "text": _text,
    "link": _link,
    "user": _user,
    "channel": _channel,
    "usergroup": _usergroup,
    "broadcast": _broadcast,
    "emoji": _emoji,
    "date": _date,
}
