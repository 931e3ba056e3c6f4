"""The RACI table's blocks: escaped, and within Slack's limits however big the table."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import SectionBlock

from bot.config.load import parse_config
from bot.governance.raci_table import MAX_AREAS, raci_blocks

AT = datetime(2026, 3, 4, 12, tzinfo=UTC)
HEAD = """\
channels: {announcements: C0ANNOUNCE}
severities:
  P0: {name: Outage, respond_within: 15m, notify: everyone}
  P1: {name: Broken, respond_within: 1h, notify: owning_team}
  P2: {name: Degraded, respond_within: 4h, notify: owner}
  P3: {name: Minor, respond_within: 1d, notify: owner}
teams:
  web: {name: "<!here> Web *Team*", members: [U0WEB1]}
areas:
"""


def test_names_from_the_config_are_escaped() -> None:
    """A team or area name with `<!here>` cannot notify anyone."""
    config = parse_config(
        HEAD + '  web: {name: "@channel", covers: "<b>", responsible: web, accountable: U0LEAD}\n'
    )
    _, blocks = raci_blocks(config, "", AT)
    section = blocks[1]
    assert isinstance(section, SectionBlock)
    assert section.text is not None
    text = section.text.text
    assert "<!here>" not in text
    assert "&lt;!here&gt; Web *Team*" in text
    assert "@\u2060channel" in text
    assert "Covers: &lt;b&gt;" in text


def test_a_huge_table_stays_within_fifty_blocks() -> None:
    """With 60 areas, MAX_AREAS are shown and the rest named in one line."""
    rows = "".join(
        f"  area{n}: {{name: Area {n}, responsible: web, accountable: U0LEAD}}\n" for n in range(60)
    )
    _, blocks = raci_blocks(parse_config(HEAD + rows), "", AT)
    assert len(blocks) <= 50
    assert sum(isinstance(b, SectionBlock) for b in blocks) == MAX_AREAS
    assert "15 more areas" in str(blocks[-1].to_dict())
    for block in blocks:
        block.validate_json()
