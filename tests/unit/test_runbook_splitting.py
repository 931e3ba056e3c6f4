"""Splitting long runbooks into Slack-sized pieces: at headings, paragraphs, never in code."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.runbooks import split_markdown, split_pieces
from bot.runbooks.markdown import open_blocks, split_lines


def balanced(piece: str) -> bool:
    """Whether every code block opened in `piece` is closed in it."""
    return open_blocks(split_lines(piece))[-1] is None


def paragraph(words: int, seed: str = "word") -> str:
    """A paragraph of about `words` words on lines of ten words."""
    lines = [" ".join([seed] * min(10, words - i)) for i in range(0, words, 10)]
    return "\n".join(lines) + "\n"


def test_short_text_is_one_piece() -> None:
    """Text within the limit comes back whole."""
    assert split_markdown("# A\n\ntext\n") == ["# A\n\ntext\n"]
    assert split_markdown("") == []


def test_split_before_the_last_heading_within_the_limit() -> None:
    """A heading before the limit is where the piece ends."""
    text = "# One\n" + paragraph(30) + "\n## Two\n" + paragraph(30) + "\n" + paragraph(30)
    first, *rest = split_markdown(text, limit=300)
    assert first.endswith(paragraph(30) + "\n")
    assert rest[0].startswith("## Two\n")


def test_without_headings_split_after_the_last_blank_line() -> None:
    """With no heading in reach, the piece ends at a paragraph's end."""
    text = paragraph(20, "a") + "\n" + paragraph(20, "b") + "\n" + paragraph(20, "c")
    pieces = split_markdown(text, limit=90)
    assert pieces[0] == paragraph(20, "a") + "\n" + paragraph(20, "b") + "\n"
    assert pieces[1] == paragraph(20, "c")


def test_long_runbook_with_a_code_block_at_the_boundary_splits_before_the_block() -> None:
    """Past 12,000 characters, a code block straddling the limit moves whole to the next piece."""
    prose = "".join(paragraph(40, f"para{i:02d}word") + "\n" for i in range(26))
    block = "```bash\n" + "kubectl rollout undo deployment/checkout\n" * 40 + "```\n"
    assert len(prose) < 12_000 < len(prose) + len(block)
    text = prose + block + paragraph(20)
    first, second = split_markdown(text)
    assert first == prose
    assert second == block + paragraph(20)


def test_single_code_block_longer_than_the_limit_is_closed_and_reopened() -> None:
    """A 15,000-character block ends a piece with a closing fence; the next reopens the same."""
    body = "".join(f"line {i:05d} of output, padded to width\n" for i in range(400))
    block = "~~~~ text title=log\n" + body + "~~~~\n"
    assert len(block) > 15_000
    pieces = split_pieces("Before\n\n" + block + "After\n")
    texts = [piece.text for piece in pieces]
    assert all(len(text) <= 12_000 for text in texts)
    assert texts[0] == "Before\n\n"
    assert texts[1].startswith("~~~~ text title=log\nline 00000")
    assert texts[1].endswith("\n~~~~\n")
    assert texts[2].startswith("~~~~ text title=log\nline ")
    assert texts[-1].endswith("~~~~\nAfter\n")
    assert all(balanced(text) for text in texts)
    assert "".join(piece.body for piece in pieces) == "Before\n\n" + block + "After\n"


def test_a_line_longer_than_the_limit_is_the_only_cut_inside_a_line() -> None:
    """One 500-character line in a 200 limit is cut, and nothing is lost."""
    text = "short\n" + "x" * 500 + "\nend\n"
    pieces = split_markdown(text, limit=200)
    assert all(len(piece) <= 200 for piece in pieces)
    assert "".join(pieces) == text


FENCES = st.sampled_from(["```", "````", "~~~", "~~~~~"])
WORD = st.text(alphabet="abcdefgh #-*`~[]()", min_size=1, max_size=8)
LINE = st.lists(WORD, min_size=0, max_size=6).map(" ".join)


@st.composite
def markdown_blocks(draw: st.DrawFn) -> str:
    """A heading, a paragraph, a blank line or a closed code block (possibly long)."""
    kind = draw(st.sampled_from(["heading", "paragraph", "blank", "code"]))
    if kind == "heading":
        return "#" * draw(st.integers(1, 3)) + " " + draw(LINE) + "\n"
    if kind == "blank":
        return "\n"
    lines = draw(st.lists(LINE, min_size=1, max_size=40))
    if kind == "paragraph":
        # A prose line that looks like a fence would open a block: keep prose plain.
        return "".join(line.replace("`", "'").replace("~", "-") + "\n" for line in lines)
    fence = draw(FENCES)
    info = draw(st.sampled_from(["", "bash", "python title=x"]))
    content = "".join(line.replace(fence[0], "'") + "\n" for line in lines)
    return f"{fence}{info}\n{content}{fence}\n"


DOCUMENTS = st.lists(markdown_blocks(), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=DOCUMENTS, limit=st.integers(80, 600))
def test_pieces_fit_keep_fences_balanced_and_give_back_the_text(text: str, limit: int) -> None:
    """Every piece is within the limit, balanced, cut at a line end, and nothing is lost."""
    pieces = split_pieces(text, limit)
    texts = [piece.text for piece in pieces]
    assert texts == split_markdown(text, limit)
    assert all(len(piece) <= limit for piece in texts)
    assert all(balanced(piece) for piece in texts)
    assert "".join(piece.body for piece in pieces) == text
    assert all(piece.body.endswith("\n") for piece in pieces[:-1])
    assert all(piece.body for piece in pieces)
