"""The config file as written: YAML read with the line of every key, and its problems.

The text is composed into YAML nodes first, which remember where every key and list
item starts, and only then turned into Python values. `Report` collects the problems
found against those lines; `show` and `did_you_mean` word values the way the user
wrote them.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[Hashable, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Problem:
    """One reason the config is refused: where it is and what to do about it."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        head = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{head}: {self.where}: {self.message}" if self.where else f"{head}: {self.message}"


class ConfigError(Exception):
    """The config file was refused; `problems` says every reason, with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass
class Report:
    """Problems found so far, and the line of every key path of the file."""

    filename: str
    lines: dict[KeyPath, int]
    problems: list[Problem] = field(default_factory=list)

    def nearest(self, path: KeyPath) -> KeyPath:
        """The longest prefix of `path` that is written in the file."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return path[:end]
        return ()

    def add(self, where: KeyPath, message: str, *, line_of: KeyPath | None = None) -> None:
        """Record a problem about `where`, at the line of `line_of` (or its nearest parent)."""
        line = self.lines.get(self.nearest(where if line_of is None else line_of))
        self.problems.append(Problem(self.filename, line, _dotted(where), message))

    def sorted(self) -> list[Problem]:
        """The problems in file order, each once."""
        unique = dict.fromkeys(self.problems)
        return sorted(unique, key=lambda p: (p.line or 0, p.where))


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def read_yaml(text: str, filename: str) -> tuple[dict[Any, Any], Report]:
    """Parse YAML into plain values plus the line of every key path."""
    report = Report(filename, {})
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ConfigError(
                [Problem(filename, None, "", "the file is empty: start from firebell.example.yaml")]
            )
        _index_lines(loader, root, report)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as err:
        raise ConfigError([_syntax_problem(filename, err)]) from None
    except yaml.YAMLError as err:
        raise ConfigError([Problem(filename, None, "", f"not valid YAML: {err}")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(
            [
                Problem(
                    filename,
                    root.start_mark.line + 1,
                    "",
                    "the top level must be a mapping with keys such as severities, teams "
                    f"and areas, not {show(data)}",
                )
            ]
        )
    return data, report


def _syntax_problem(filename: str, err: yaml.MarkedYAMLError) -> Problem:
    mark = err.problem_mark or err.context_mark
    message = f"not valid YAML: {err.problem or err.context}"
    if err.context and err.problem and err.context_mark is not None:
        message += f" ({err.context} on line {err.context_mark.line + 1})"
    if "'\\t'" in message:
        message += "; indent with spaces, not tabs"
    return Problem(filename, None if mark is None else mark.line + 1, "", message)


def _index_lines(loader: yaml.SafeLoader, root: yaml.Node, report: Report) -> None:
    """Record the line of every mapping key and list item; report duplicate keys."""
    visited: set[int] = set()
    pending: list[tuple[KeyPath, yaml.Node]] = [((), root)]
    while pending:
        path, node = pending.pop()
        # An alias shares its anchor's node: walking it once keeps alias bombs harmless.
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            # Typed, because True == 1 in Python while `yes:` and `1:` are different keys.
            seen: set[tuple[type, Hashable]] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = loader.construct_object(key_node)
                child = (*path, key)
                report.lines[child] = key_node.start_mark.line + 1
                if (type(key), key) in seen:
                    report.add(
                        path,
                        f"key {key!r} is written twice: YAML keeps only the last one, "
                        "so remove or merge the other",
                        line_of=child,
                    )
                seen.add((type(key), key))
                pending.append((child, value_node))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                report.lines[child] = item.start_mark.line + 1
                pending.append((child, item))


def show(value: object) -> str:
    """A value as the user wrote it, with a hint where YAML read it differently."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return (
            f"{str(value).lower()} (YAML reads yes, no, on, off, true and false as "
            "booleans: put the word in quotes)"
        )
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value)


def did_you_mean(wanted: str, choices: Collection[object]) -> str:
    """A "did you mean" hint naming the choice closest to `wanted`, or nothing."""
    names = [choice for choice in choices if isinstance(choice, str)]
    close = difflib.get_close_matches(wanted, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
