"""A runbook's task list as Slack checkboxes: `- [ ] step` items, each with a stable key.

A step's key is what Slack sends back when someone ticks it, and what firebell stores
as ticked. It must survive edits of the runbook elsewhere (a step added above must not
tick another one), so it is not a line number: it is a short hash of the step's text
(whitespace and case folded), plus `-2`, `-3` ... for the second and third step with
the same text. Editing a step's own words gives it a new key, which is right: it is a
new step. Keys are at most 32 characters, well inside Slack's 150 for an option value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.runbooks.markdown import prose_lines

# Slack allows at most 10 options in one checkboxes element.
GROUP_SIZE = 10
_TASK = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+\[[ xX]\]\s+(?P<text>\S.*?)\s*$")
_HASH_LENGTH = 12


@dataclass(frozen=True)
class Step:
    """One task-list item: its key, its text, and its line in the text it came from."""

    key: str
    text: str
    line: int


@dataclass(frozen=True)
class CheckboxGroup:
    """Up to ten steps shown as one checkboxes element, and which of them are ticked."""

    steps: tuple[Step, ...]
    ticked: frozenset[str]

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the element's options, in order."""
        return tuple(step.key for step in self.steps)


def runbook_steps(text: str, *, first_line: int = 1) -> list[Step]:
    """The task-list items of Markdown `text` outside code blocks, in order.

    `first_line` is the file line `text` starts on (a runbook's `body_line`).
    """
    steps = []
    seen: dict[str, int] = {}
    for index, line in prose_lines(text):
        match = _TASK.match(line)
        if match is None:
            continue
        step_text = match["text"]
        digest = step_key(step_text)
        seen[digest] = seen.get(digest, 0) + 1
        key = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        steps.append(Step(key, step_text, first_line + index))
    return steps


def step_key(text: str) -> str:
    """The key of the first step with this text: `s` and 12 hex digits of its hash."""
    normal = " ".join(text.split()).casefold()
    digest = hashlib.sha256(normal.encode("utf-8")).hexdigest()
    return "s" + digest[:_HASH_LENGTH]


def checkbox_groups(steps: Sequence[Step], ticked: Collection[str]) -> list[CheckboxGroup]:
    """The steps in elements of at most ten, each with its ticked steps as initial options.

    Stored ticks of steps no longer in the runbook are left out.
    """
    groups = []
    for start in range(0, len(steps), GROUP_SIZE):
        chunk = tuple(steps[start : start + GROUP_SIZE])
        groups.append(CheckboxGroup(chunk, frozenset(s.key for s in chunk if s.key in ticked)))
    return groups


def clicked(
    selected: Collection[str], shown: Collection[str], group: Collection[str]
) -> tuple[set[str], set[str]]:
    """What one click on a checkboxes element did: (keys ticked, keys unticked).

    `selected` is the element's selection after the click (the action's
    `selected_options`), `shown` the selection the clicker's message showed (the
    element's `initial_options` in the payload's `message`), `group` the element's keys.

    The diff is against what the clicker saw, not against the stored ticks: Slack
    sends the element's whole new selection, built from the clicker's view. If Ann and
    Bob both see step 1 and 2 unticked, Ann ticks 1 and Bob then ticks 2 before his
    message is updated, Bob's selection is {2}. Against the stored ticks ({1}) that
    would read as "tick 2, untick 1" and undo Ann's tick; against what Bob saw ({})
    it is only "tick 2", which is what he did.
    """
    keys = set(group)
    now, before = set(selected) & keys, set(shown) & keys
    return now - before, before - now
