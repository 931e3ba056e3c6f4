"""Runbooks in Slack: the list on the main message, the posted runbook, the review reminder.

A runbook is posted as several messages, its *parts*: the text, cut by `split_markdown`
into pieces that each fit one `markdown` block (Slack allows 12,000 markdown characters
in one message), then its steps as checkboxes, ten to an element and one element to an
actions block, `STEP_BLOCKS` blocks to a message. Parts are worked out again from the
runbook whenever one is posted or updated, so a row names its part by number only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    MarkdownBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)

from bot.config.duration import format_duration
from bot.config.model import Config
from bot.core.escaping import escape
from bot.runbooks import (
    CheckboxGroup,
    Runbook,
    checkbox_groups,
    matching_runbooks,
    runbook_steps,
    split_markdown,
)
from bot.store.tables import Incident

RUNBOOK_BUTTON = "incident_runbook"  # the main message's `Runbook` button
STEPS_ACTION = "runbook_steps"  # the action_id of every runbook checkboxes element
SHOWN_ON_MAIN = 3  # runbooks the main message lists
STEP_BLOCKS = 40  # checkboxes elements in one message (Slack allows 50 blocks)
OPTION_TEXT = 75  # Slack's limit on a checkbox option's text
_BLOCK_PREFIX = "rb"


@dataclass(frozen=True)
class StepsBlock:
    """What a checkboxes element's block_id names: its incident, runbook and group."""

    incident_id: int
    runbook: str
    group: int

    @property
    def block_id(self) -> str:
        """`rb:<incident id>:<group>:<runbook>` (the name last: it may hold a colon)."""
        return f"{_BLOCK_PREFIX}:{self.incident_id}:{self.group}:{self.runbook}"

    @classmethod
    def parse(cls, block_id: str) -> StepsBlock | None:
        """The block a block_id names, or None if it is not one of a runbook's steps."""
        prefix, _, rest = block_id.partition(":")
        incident, _, rest = rest.partition(":")
        group, _, runbook = rest.partition(":")
        if prefix != _BLOCK_PREFIX or not runbook:
            return None
        if not (incident.isdigit() and group.isdigit()) or len(incident) > 12 or len(group) > 6:
            return None
        return cls(int(incident), runbook, int(group))


def best_runbooks(
    runbooks: Mapping[str, Runbook],
    config: Config,
    incident: Incident,
    *,
    alerts: Sequence[str] = (),
) -> list[Runbook]:
    """The runbooks that fit the incident (and the names of its alerts), best first."""
    return matching_runbooks(
        runbooks,
        config,
        service=incident.service,
        area=incident.area,
        severity=incident.severity,
        alerts=alerts,
    )


def source_url(config: Config, runbook: Runbook) -> str | None:
    """Where the runbook's file can be read, when the config says where runbooks live."""
    if not config.runbooks_url:
        return None
    return f"{config.runbooks_url.rstrip('/')}/{runbook.name}.md"


def _titled(config: Config, runbook: Runbook) -> str:
    title = escape(runbook.title)
    url = source_url(config, runbook)
    return f"<{url}|{title}>" if url else title


def runbook_list(config: Config, matches: Sequence[Runbook]) -> SectionBlock:
    """The main message's list of the best runbooks (up to three)."""
    shown = ", ".join(_titled(config, runbook) for runbook in matches[:SHOWN_ON_MAIN])
    return SectionBlock(text=MarkdownTextObject(text=f"*Runbooks*\n{shown}"))


def runbook_groups(runbook: Runbook, ticked: Collection[str]) -> list[CheckboxGroup]:
    """The runbook's steps in checkboxes elements, with `ticked` as their selection."""
    return checkbox_groups(runbook_steps(runbook.text, first_line=runbook.body_line), ticked)


def text_pieces(runbook: Runbook) -> list[str]:
    """The runbook's text in pieces of one markdown block each (blank lines atop left out)."""
    body = runbook.text.lstrip("\n")
    return split_markdown(body) if body.strip() else []


def part_count(runbook: Runbook) -> int:
    """How many messages the runbook is posted as."""
    groups = len(runbook_groups(runbook, ()))
    return len(text_pieces(runbook)) + -(-groups // STEP_BLOCKS)


def shows_steps(runbook: Runbook, part: int) -> bool:
    """Whether part `part` of the runbook is one of its steps messages."""
    return part >= len(text_pieces(runbook))


def runbook_part(
    runbook: Runbook,
    config: Config,
    *,
    part: int,
    incident_id: int,
    ticked: Collection[str],
) -> tuple[str, list[Block]] | None:
    """Message `part` of the posted runbook (None past its last part): a piece of its
    text, with a link to its source on the first; or its steps, `ticked` ticked."""
    pieces = text_pieces(runbook)
    if part < len(pieces):
        blocks: list[Block] = [MarkdownBlock(text=pieces[part])]
        url = source_url(config, runbook)
        if part == 0 and url:
            link = f"Runbook <{url}|{escape(runbook.name)}.md>"
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=link)]))
        return f"Runbook: {runbook.title}", blocks
    groups = runbook_groups(runbook, ticked)
    first = (part - len(pieces)) * STEP_BLOCKS
    chosen = groups[first : first + STEP_BLOCKS]
    if not chosen:
        return None
    done = sum(len(group.ticked) for group in groups)
    total = sum(len(group.steps) for group in groups)
    heading = f"*Steps* of {escape(runbook.title)} · {done} of {total} done"
    blocks = [SectionBlock(text=MarkdownTextObject(text=heading))]
    for offset, group in enumerate(chosen):
        where = StepsBlock(incident_id, runbook.name, first + offset)
        blocks.append(ActionsBlock(block_id=where.block_id, elements=[_checkboxes(group)]))
    return f"Steps of {runbook.title}: {done} of {total} done", blocks


def _checkboxes(group: CheckboxGroup) -> CheckboxesElement:
    options = [
        Option(value=step.key, text=PlainTextObject(text=_fit(step.text), emoji=False))
        for step in group.steps
    ]
    chosen = [option for option in options if option.value in group.ticked]
    return CheckboxesElement(
        action_id=STEPS_ACTION, options=options, initial_options=chosen or None
    )


def _fit(text: str) -> str:
    return text if len(text) <= OPTION_TEXT else text[: OPTION_TEXT - 1] + "…"


def review_reminder(
    config: Config, runbook: str, *, title: str, reviewed: date, every: timedelta
) -> str:
    """The reminder to a runbook's owners that it is due for review."""
    url = None if not config.runbooks_url else f"{config.runbooks_url.rstrip('/')}/{runbook}.md"
    name = f"<{url}|{escape(title)}>" if url else f"*{escape(title)}*"
    return (
        f":spiral_note_pad: The runbook {name} (`{escape(runbook)}`) was last reviewed on "
        f"{reviewed.isoformat()} and is reviewed every {format_duration(every)}: it is due. "
        "Read it through, fix what changed, and set `reviewed:` in its front matter."
    )


def runbook_button(incident: Incident) -> ButtonElement:
    """The main message's `Runbook` button: posts the best matching runbook."""
    return ButtonElement(text="Runbook", action_id=RUNBOOK_BUTTON, value=str(incident.id))
