"""The YAML front matter of a runbook: what it is for, who owns it, when it was reviewed.

```markdown
---
services: [checkout-assistant]
areas: model
severities: [P1, P2]
alerts: [CheckoutEvalScoreDrop]
owner: ml
reviewed: 2026-01-05
review_every: 90d
---
# Model quality regression
```

The block is read as YAML nodes, like the config (`bot.config.source`), so that every
problem names the line of the key or list item it is about. The YAML text is given to
the parser with the opening `---` turned into an empty line: its line numbers are then
the file's. Each key is read on its own, so one bad value hides none of the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

from bot.config.duration import parse_duration
from bot.config.source import did_you_mean, show
from bot.runbooks.problems import Problem

KeyPath = tuple[Hashable, ...]

_DELIMITER = "---"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class RunbookMeta:
    """What a runbook's front matter says; a runbook without one has all defaults.

    `lines` is the file line of every key (`("services",)`) and list item
    (`("services", 0)`), for problems found later; it takes no part in equality.
    """

    title: str | None = None
    services: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    owner: str | None = None
    reviewed: date | None = None
    review_every: timedelta | None = None
    lines: dict[KeyPath, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def general(self) -> bool:
        """Whether the runbook names no service, area, severity or alert: it fits any incident."""
        return not (self.services or self.areas or self.severities or self.alerts)


@dataclass(frozen=True)
class FrontMatter:
    """A runbook file split into its metadata and its Markdown body."""

    meta: RunbookMeta
    body: str
    body_line: int
    problems: list[Problem]


class _ValueProblemError(Exception):
    """A value of the wrong shape; the message is for the user."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def read_front_matter(text: str, path: Path) -> FrontMatter:
    """Split off and read the front matter of a runbook's text (none is fine)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].removeprefix("\ufeff").rstrip() != _DELIMITER:
        return FrontMatter(RunbookMeta(), text, 1, [])
    end = next(
        (i for i in range(1, len(lines)) if lines[i].rstrip() == _DELIMITER),
        None,
    )
    if end is None:
        message = (
            f"front matter opened with {_DELIMITER} on line 1 is never closed: end it with a "
            f"line {_DELIMITER} (a runbook without front matter starts with its text)"
        )
        return FrontMatter(RunbookMeta(), text, 1, [Problem(path, 1, message)])
    body = "".join(lines[end + 1 :])
    meta, problems = parse_meta("\n" + "".join(lines[1:end]), path)
    return FrontMatter(meta, body, end + 2, problems)


def parse_meta(yaml_text: str, path: Path) -> tuple[RunbookMeta, list[Problem]]:
    """Read front matter YAML (its line 1 being the file's line 1) into `RunbookMeta`."""
    loader = yaml.SafeLoader(yaml_text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = None if mark is None else mark.line + 1
        return RunbookMeta(), [Problem(path, line, f"front matter is not valid YAML: {_why(err)}")]
    except yaml.YAMLError as err:
        return RunbookMeta(), [Problem(path, 1, f"front matter is not valid YAML: {err}")]
    finally:
        loader.dispose()
    if root is None:
        return RunbookMeta(), []
    if not isinstance(root, yaml.MappingNode):
        message = f"front matter must be keys such as services: and owner:, not {_shown(root)}"
        return RunbookMeta(), [Problem(path, root.start_mark.line + 1, message)]
    return _read_mapping(root, path)


def _why(err: yaml.MarkedYAMLError) -> str:
    message = str(err.problem or err.context)
    if "'\\t'" in message:
        message += "; indent with spaces, not tabs"
    return message


def _read_mapping(root: yaml.MappingNode, path: Path) -> tuple[RunbookMeta, list[Problem]]:
    values: dict[str, object] = {}
    lines: dict[KeyPath, int] = {}
    problems: list[Problem] = []
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or key not in _FIELDS:
            problems.append(Problem(path, line, _unknown_key(key_node)))
            continue
        if key in values:
            message = f"{key}: written twice: keep one (line {lines[(key,)]} is the other)"
            problems.append(Problem(path, line, message))
            continue
        lines[(key,)] = line
        try:
            values[key] = _FIELDS[key](value_node, lines, key)
        except _ValueProblemError as err:
            problems.append(Problem(path, err.line or line, f"{key}: {err}"))
    return RunbookMeta(**values, lines=lines), problems  # type: ignore[arg-type]


def _unknown_key(node: yaml.Node) -> str:
    expected = list(_FIELDS)
    if not isinstance(node, yaml.ScalarNode):
        return f"front matter keys are names such as {', '.join(expected)}"
    return (
        f"unknown key {node.value!r} in the front matter (expected one of: "
        f"{', '.join(expected)})" + did_you_mean(node.value, expected)
    )


def _shown(node: yaml.Node) -> str:
    """A node's value as the user wrote it, for messages."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag in (_STR, _TIMESTAMP):
        return repr(node.value)
    try:
        return show(yaml.SafeLoader("").construct_object(node))
    except (ValueError, yaml.YAMLError):
        return repr(node.value)


def _text(node: yaml.Node, lines: dict[KeyPath, int], key: str) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
        return None
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
        return str(node.value)
    raise _ValueProblemError(f"expected text, got {_shown(node)}")


def _names(node: yaml.Node, lines: dict[KeyPath, int], key: str) -> list[str]:
    """A list of names; a single name stands for a list of one."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
        return []
    if isinstance(node, yaml.MappingNode):
        raise _ValueProblemError(f"expected a name or a list such as [a, b], got {_shown(node)}")
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    names: list[str] = []
    for index, item in enumerate(items):
        line = item.start_mark.line + 1
        if not (isinstance(item, yaml.ScalarNode) and item.tag == _STR):
            where = f"item {index + 1}" if isinstance(node, yaml.SequenceNode) else "the value"
            raise _ValueProblemError(f"{where} must be a name, got {_shown(item)}", line)
        lines[(key, index)] = line
        names.append(str(item.value))
    return names


def _date(node: yaml.Node, lines: dict[KeyPath, int], key: str) -> date | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
        return None
    # The text as written, not PyYAML's value: it raises a bare ValueError on 2026-13-01.
    if not (isinstance(node, yaml.ScalarNode) and node.tag in (_STR, _TIMESTAMP)):
        raise _ValueProblemError(f"expected a date such as 2026-01-05, got {_shown(node)}")
    written = str(node.value).strip()
    match = _DATE.match(written)
    if match is None:
        raise _ValueProblemError(
            f"{written!r} is not a date: write the day as YYYY-MM-DD, e.g. 2026-01-05"
        )
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError as err:
        raise _ValueProblemError(f"{written!r} is not a date ({err})") from None


def _duration(node: yaml.Node, lines: dict[KeyPath, int], key: str) -> timedelta | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
        return None
    if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
        raise _ValueProblemError(f"{node.value} has no unit: write e.g. {node.value}d")
    if not (isinstance(node, yaml.ScalarNode) and node.tag == _STR):
        raise _ValueProblemError(f"expected a duration such as 90d, got {_shown(node)}")
    try:
        return parse_duration(str(node.value))
    except ValueError as err:
        raise _ValueProblemError(str(err)) from None


# Every reader takes the same arguments; only list readers record the lines of items.
_Reader = Callable[[yaml.Node, dict[KeyPath, int], str], object]
_FIELDS: dict[str, _Reader] = {
    "title": _text,
    "services": _names,
    "areas": _names,
    "severities": _names,
    "alerts": _names,
    "owner": _text,
    "reviewed": _date,
    "review_every": _duration,
}
