"""`/incident raci [area|service]`: the seed's RACI matrix (Area, Covers, Responsible,
Accountable, Consulted, Informed) with who is on call now.

One section an area; an entry naming a team shows the team, and who it pages now: its
on-call if it has a rotation, else its members. Slack allows 50 blocks a message, so
past `MAX_AREAS` areas the rest are named in one line (ask for one by name).
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.config.model import Area, Config
from bot.core.escaping import escape, mention
from bot.core.oncall import on_call
from bot.incidents.errors import UserError

MAX_AREAS = 45  # sections of areas, leaving room for the header and the notes
SECTION_LIMIT = 3000
MAX_PEOPLE = 10  # members listed for a team without a rotation


def _ref(config: Config, ref: str, at: datetime) -> str:
    """A RACI entry: a team with who it pages now, or a person."""
    team = config.teams.get(ref)
    if team is None:
        return mention(ref)
    now = on_call(team, at)
    if now is not None:
        return f"{escape(team.name)} (on call now: {mention(now)})"
    people = [mention(m) for m in team.members[:MAX_PEOPLE]]
    more = len(team.members) - MAX_PEOPLE
    listed = ", ".join(people) + (f" and {more} more" if more > 0 else "")
    return f"{escape(team.name)} ({listed or 'no members'})"


def _refs(config: Config, refs: list[str], at: datetime) -> str:
    return ", ".join(_ref(config, r, at) for r in refs) or "_nobody_"


def area_text(config: Config, key: str, area: Area, at: datetime) -> str:
    """One row of the matrix as a section's mrkdwn."""
    services = sorted(name for name, s in config.services.items() if s.area == key)
    lines = [
        f"*{escape(area.name)}* (`{escape(key)}`)"
        + (f" · Covers: {escape(area.covers)}" if area.covers else ""),
        f"*Responsible:* {_ref(config, area.responsible, at)}",
        f"*Accountable:* {mention(area.accountable)}",
        f"*Consulted:* {_refs(config, area.consulted, at)}",
        f"*Informed:* {_refs(config, area.informed, at)}",
    ]
    if services:
        lines.append("*Services:* " + ", ".join(f"`{escape(s)}`" for s in services))
    text = "\n".join(lines)
    return text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"


def chosen_areas(config: Config, wanted: str) -> tuple[list[str], str | None]:
    """The areas to show for `/incident raci <wanted>` (all when empty), and a note when
    a service was named; UserError naming the choices for an unknown name."""
    if not wanted:
        return list(config.areas), None
    if wanted in config.areas:
        return [wanted], None
    if wanted in config.services:
        area = config.services[wanted].area
        return [area], f"`{escape(wanted)}` is in area `{escape(area)}`."
    areas = ", ".join(f"`{escape(a)}`" for a in config.areas) or "none"
    services = ", ".join(f"`{escape(s)}`" for s in sorted(config.services)) or "none"
    raise UserError(
        f"`{escape(wanted)}` is neither an area nor a service. Areas: {areas}. "
        f"Services: {services}."
    )


def raci_blocks(config: Config, wanted: str, at: datetime) -> tuple[str, list[Block]]:
    """The RACI matrix (of one area, or of the area of one service, or all) at `at`."""
    keys, note = chosen_areas(config, wanted)
    shown = [k for k in keys if k in config.areas]
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="RACI: who owns what"))]
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    for key in shown[:MAX_AREAS]:
        text = area_text(config, key, config.areas[key], at)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    rest = shown[MAX_AREAS:]
    if rest:
        names = ", ".join(f"`{escape(k)}`" for k in rest)
        more = f"{len(rest)} more areas: {names}. `/incident raci <area>` shows one."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more[:SECTION_LIMIT])]))
    if not shown:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No areas are configured.")))
    summary = "RACI: " + ", ".join(escape(config.areas[k].name) for k in shown[:MAX_AREAS])
    return summary[:SECTION_LIMIT], blocks
