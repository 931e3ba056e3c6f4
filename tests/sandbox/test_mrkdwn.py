"""Slack mrkdwn to HTML: each formatting rule and each escaping hazard."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.markdown import markdown_to_html
from bot.sandbox.mrkdwn import NameTable, mrkdwn_to_html, mrkdwn_to_plain, plain_to_html

NAMES = NameTable(users={"U1": "Ada"}, channels={"C1": "general"}, usergroups={"S1": "oncall"})
LINK = 'target="_blank" rel="noopener noreferrer"'


def html(text: str) -> str:
    return mrkdwn_to_html(text, NAMES)


def test_bold_italic_and_strike_become_tags() -> None:
    """`*b*`, `_i_` and `~s~` become `<b>`, `<i>` and `<s>`."""
    assert html("*b* _i_ ~s~") == "<b>b</b> <i>i</i> <s>s</s>"


def test_styles_nest() -> None:
    """`*_both_*` is bold and italic."""
    assert html("*_both_*") == "<b><i>both</i></b>"


def test_marks_inside_words_stay_literal() -> None:
    """`snake_case_name` and `2*3*4` are not formatting."""
    assert html("snake_case_name 2*3*4") == "snake_case_name 2*3*4"


def test_marks_around_spaces_stay_literal() -> None:
    """`* not bold *` has spaces inside its marks, so it is text."""
    assert html("* not bold *") == "* not bold *"


def test_code_span_becomes_code() -> None:
    """`` `x` `` becomes `<code>x</code>`."""
    assert html("run `ls -l`") == "run <code>ls -l</code>"


def test_bold_inside_code_stays_literal() -> None:
    """`` `*bold*` `` shows the asterisks."""
    assert html("`*bold* <@U1>`") == "<code>*bold* &lt;@U1&gt;</code>"


def test_pre_block_keeps_its_lines_and_no_formatting() -> None:
    """A ```` ``` ```` block is one `<pre>` with its newlines and literal marks."""
    assert html("before\n```\n*a*\n_b_\n```\nafter") == (
        'before<pre class="bk-pre">*a*\n_b_</pre>after'
    )


def test_quote_lines_become_one_blockquote() -> None:
    """Consecutive `>` lines (raw or Slack-escaped) form one quote."""
    assert html("> one\n&gt; two\nafter") == (
        '<blockquote class="bk-quote">one<br>two</blockquote>after'
    )


def test_newlines_become_breaks() -> None:
    """Each newline outside code is a `<br>`."""
    assert html("a\nb") == "a<br>b"


def test_link_with_label() -> None:
    """`<https://x|label>` is an anchor opening in a new tab."""
    assert html("<https://x.test/a|docs>") == f'<a href="https://x.test/a" {LINK}>docs</a>'


def test_bare_link_shows_its_url() -> None:
    """`<https://x>` shows the URL itself."""
    assert html("<https://x.test>") == f'<a href="https://x.test" {LINK}>https://x.test</a>'


def test_mailto_link_shows_the_address() -> None:
    """`<mailto:a@b.test>` shows `a@b.test`; with a label, the label."""
    assert html("<mailto:a@b.test>") == f'<a href="mailto:a@b.test" {LINK}>a@b.test</a>'
    assert html("<mailto:a@b.test|mail>") == f'<a href="mailto:a@b.test" {LINK}>mail</a>'


def test_slack_escaped_ampersand_in_url_is_decoded_once() -> None:
    """`&amp;` in a link's URL is `&`, written as `&amp;` in the attribute."""
    assert html("<https://x.test/?a=1&amp;b=2|q>") == (
        f'<a href="https://x.test/?a=1&amp;b=2" {LINK}>q</a>'
    )


def test_quotes_in_link_label_and_url_are_escaped() -> None:
    """A `"` cannot close the href attribute or add one."""
    out = html('<https://x.test/" onclick="alert(1)|say "hi">')
    assert out == (
        f'<a href="https://x.test/&quot; onclick=&quot;alert(1)" {LINK}>say &quot;hi&quot;</a>'
    )


def test_javascript_link_is_shown_as_text() -> None:
    """`<javascript:…|label>` is only its label; no anchor."""
    assert html("<javascript:alert(1)|click>") == "click"
    assert html("<javascript:alert(1)>") == "&lt;javascript:alert(1)&gt;"


def test_user_mentions_show_display_names() -> None:
    """`<@U1>` shows the name; an unknown id its label, or the id."""
    assert html("<@U1> <@U9|bob> <@U9>") == (
        '<span class="mention">@Ada</span> <span class="mention">@bob</span> '
        '<span class="mention">@U9</span>'
    )


def test_channel_mentions_show_channel_names() -> None:
    """`<#C1>` and `<#C9|ops>` show `#general` and `#ops`."""
    assert html("<#C1> <#C9|ops>") == (
        '<span class="mention">#general</span> <span class="mention">#ops</span>'
    )


def test_usergroup_mention_shows_the_handle() -> None:
    """`<!subteam^S1>` shows `@oncall`; an unknown group its label."""
    assert html("<!subteam^S1> <!subteam^S9|@sre>") == (
        '<span class="mention">@oncall</span> <span class="mention">@sre</span>'
    )


def test_broadcasts_show_as_mentions() -> None:
    """`<!here>`, `<!channel>` and `<!everyone>` are mention chips, nothing more."""
    assert html("<!here> <!channel> <!everyone>") == (
        '<span class="mention">@here</span> <span class="mention">@channel</span> '
        '<span class="mention">@everyone</span>'
    )


def test_date_shows_its_fallback() -> None:
    """`<!date^…|fallback>` shows the fallback text."""
    assert html("<!date^1700000000^{date_short}|Nov 14>") == "Nov 14"


def test_raw_script_tag_never_becomes_a_tag() -> None:
    """`<script>` in the text is not a tag in the output."""
    assert "<script" not in html("<script>alert(1)</script>")


def test_slack_escaped_script_shows_as_text() -> None:
    """`&lt;script&gt;` is Slack's escaping: it shows as the text `<script>`."""
    assert html("&lt;script&gt;") == "&lt;script&gt;"


def test_double_escaped_text_is_decoded_only_once() -> None:
    """`&amp;lt;` shows as `&lt;`, not as `<`."""
    assert html("&amp;lt;") == "&amp;lt;"


def test_escaped_channel_broadcast_is_plain_text() -> None:
    """`&lt;!channel&gt;` (as firebell escapes users' words) is text, not a mention."""
    assert html("&lt;!channel&gt;") == "&lt;!channel&gt;"


def test_forged_placeholders_are_removed() -> None:
    """The renderer's private placeholder characters in the input are dropped."""
    assert html("\ue0000\ue001 `x`") == "0 <code>x</code>"


def test_plain_text_is_escaped_and_breaks_lines() -> None:
    """`plain_text` keeps `*` and `<` as typed and turns newlines into `<br>`."""
    assert plain_to_html("*a* <b>\nc") == "*a* &lt;b&gt;<br>c"


def test_mrkdwn_to_plain_drops_formatting() -> None:
    """The plain rendering keeps words and names, without marks or tags."""
    assert mrkdwn_to_plain("*Resolve* <@U1>\n&lt;x&gt;", NAMES) == "Resolve @Ada\n<x>"


_ALLOWED = {
    "a": {"href", "target", "rel"},
    "b": set(),
    "i": set(),
    "s": set(),
    "code": set(),
    "pre": {"class"},
    "blockquote": {"class"},
    "br": set(),
    "span": {"class"},
    "p": set(),
    "ul": set(),
    "ol": set(),
    "li": {"class"},
    "h1": set(),
    "h2": set(),
    "h3": set(),
    "h4": set(),
    "h5": set(),
    "h6": set(),
    "strong": set(),
    "em": set(),
    "del": set(),
    "input": {"type", "disabled", "checked"},
}


class _TagCheck(HTMLParser):
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in _ALLOWED, tag
        for name, value in attrs:
            assert name in _ALLOWED[tag], (tag, name)
            if name == "href":
                assert value is not None
                assert value.startswith(("https://", "http://", "mailto:")), value


_HOSTILE = st.lists(
    st.sampled_from([*"<>&\"'*_~`|!@#^:/ \nax", "javascript:", "https://", "&lt;", "&amp;"]),
    max_size=40,
).map("".join)


@given(_HOSTILE)
def test_any_mrkdwn_makes_only_known_tags_and_safe_links(text: str) -> None:
    """Whatever the text, the output has only the renderer's tags and attributes."""
    _TagCheck().feed(html(text))


@given(_HOSTILE.map(lambda s: s.replace("|", "](").replace("!", "[")))
def test_any_markdown_makes_only_known_tags_and_safe_links(text: str) -> None:
    """Whatever the Markdown, the output has only the renderer's tags and attributes."""
    _TagCheck().feed(markdown_to_html(text))
