"""Loading the YAML config, refusing a bad file with the line and the reason of each problem.

The text is composed into YAML nodes first, which remember where every key and list
item starts, and only then turned into Python values. Pydantic checks the shape of each
block; the cross-reference checks here cover what one block cannot see alone (teams
named by areas, channels the severity table needs, runbooks named by services). Every
problem is reported at once, so a file gets fixed in one pass rather than one error per
run.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Collection, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.config.model import CHANNEL_ID, USER_ID, USERGROUP_ID, Config

KeyPath = tuple[Hashable, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_FIND_USER_ID = "in Slack: open the profile, More, Copy member ID"


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


def load_config(path: Path, *, runbooks: Collection[str] | None = None) -> Config:
    """Read and validate the config file at `path` (see `parse_config`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    None,
                    "",
                    f"no config file at {path}: copy firebell.example.yaml to firebell.yaml "
                    "and edit it, or set FIREBELL_CONFIG to the path of your config",
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            [Problem(str(path), None, "", "is not UTF-8 text: save the file as UTF-8")]
        ) from None
    except OSError as err:
        raise ConfigError(
            [Problem(str(path), None, "", f"cannot read the config file: {err.strerror or err}")]
        ) from None
    return parse_config(text, filename=str(path), runbooks=runbooks)


def parse_config(
    text: str, *, filename: str = "firebell.yaml", runbooks: Collection[str] | None = None
) -> Config:
    """Validate config text; raise ConfigError listing every problem with its line.

    With `runbooks` (the names in the runbooks folder), the runbooks each service
    names are checked too.
    """
    data, report = _read_yaml(text, filename)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        for error in err.errors(include_url=False):
            _report_model_error(error, report)
    _check_references(data, report, runbooks)
    if report.problems or config is None:
        raise ConfigError(report.sorted())
    return config


@dataclass
class _Report:
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


def _read_yaml(text: str, filename: str) -> tuple[dict[Any, Any], _Report]:
    """Parse YAML into plain values plus the line of every key path."""
    report = _Report(filename, {})
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
                    f"and areas, not {_show(data)}",
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


def _index_lines(loader: yaml.SafeLoader, root: yaml.Node, report: _Report) -> None:
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


def _report_model_error(error: ErrorDetails, report: _Report) -> None:
    """Turn one pydantic error into a plain-words problem at the right line."""
    loc: KeyPath = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing":
        report.add(loc[:-1], f"missing required key {loc[-1]!r}")
    elif kind == "extra_forbidden":
        report.add(loc[:-1], _unknown_key(loc), line_of=loc)
    elif loc and loc[-1] == "[key]":
        hint = "" if isinstance(error["input"], bool) else " (put it in quotes)"
        report.add(
            loc[:-2], f"keys must be text, got {_show(error['input'])}{hint}", line_of=loc[:-1]
        )
    else:
        report.add(report.nearest(loc) or loc, _plain(error))


def _unknown_key(loc: KeyPath) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return f"unknown key {key!r}"
    expected = list(model.model_fields)
    message = f"unknown key {key!r} (expected one of: {', '.join(expected)})"
    return message + _did_you_mean(key, expected)


def _model_at(loc: KeyPath) -> type[BaseModel] | None:
    """The model class that validates the value at `loc`, if it is a model."""
    current: object = Config
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field_info = current.model_fields.get(str(part))
            if field_info is None:
                return None
            current = field_info.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: object) -> object:
    """Strip `Annotated` and `X | None` down to the model or container inside."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            inner = _unwrap(arg)
            if (isinstance(inner, type) and issubclass(inner, BaseModel)) or typing.get_origin(
                inner
            ) in (dict, list):
                return inner
    return annotation


_PLAIN: dict[str, str] = {
    "string_type": "expected text, got {input}",
    "list_type": "expected a list such as [a, b], got {input}",
    "dict_type": "expected a mapping of keys to values, got {input}",
    "model_type": "expected a mapping of keys to values, got {input}",
    "model_attributes_type": "expected a mapping of keys to values, got {input}",
    "int_type": "expected a whole number, got {input}",
    "int_parsing": "expected a whole number, got {input}",
    "int_from_float": "expected a whole number, got {input}",
    "float_type": "expected a number, got {input}",
    "float_parsing": "expected a number, got {input}",
    "bool_type": "expected true or false, got {input}",
    "bool_parsing": "expected true or false, got {input}",
    "date_type": "expected a date such as 2026-01-05, got {input}",
    "date_parsing": "expected a date such as 2026-01-05, got {input}",
    "date_from_datetime_parsing": "expected a date such as 2026-01-05, got {input}",
    "date_from_datetime_inexact": "expected a date without a time, such as 2026-01-05",
    "datetime_type": "expected a time such as 2026-01-05T09:00:00+00:00, got {input}",
    "datetime_parsing": "expected a time such as 2026-01-05T09:00:00+00:00, got {input}",
    "datetime_from_date_parsing": "expected a time such as 2026-01-05T09:00:00+00:00, got {input}",
}


def _plain(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    shown = _show(error["input"])
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "literal_error":
        return f"{shown} is not allowed here: use {ctx['expected']}"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} entry, got none"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}, got {shown}"
    if kind in _PLAIN:
        return _PLAIN[kind].format(input=shown)
    message = error["msg"]
    return message[:1].lower() + message[1:]


def _show(value: object) -> str:
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


def _did_you_mean(wanted: str, choices: Collection[object]) -> str:
    names = [choice for choice in choices if isinstance(choice, str)]
    close = difflib.get_close_matches(wanted, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """The text entries of a list (or of a single name), each with its key path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield (*path, index), item


def _check_references(
    data: dict[Any, Any], report: _Report, runbooks: Collection[str] | None
) -> None:
    """Check what refers to what, on the raw values."""
    # Raw values rather than the Config, so these problems are reported even when
    # pydantic refused another part of the file.
    teams = _mapping(data.get("teams"))
    areas = _mapping(data.get("areas"))
    _check_teams(teams, report)
    _check_areas(data, areas, teams, report)
    _check_services(_mapping(data.get("services")), areas, runbooks, report)
    _check_severities(data, report)
    channels = _mapping(data.get("channels"))
    for key in ("announcements", "backlog"):
        _check_channel(channels, key, ("channels",), report)


def _check_user(value: str, path: KeyPath, teams: dict[Any, Any], report: _Report) -> None:
    if USER_ID.match(value):
        return
    if value in teams:
        report.add(path, f"{value!r} is a team, but this names people: give Slack user IDs (U...)")
    else:
        report.add(
            path, f"{value!r} is not a Slack user ID (U..., {_FIND_USER_ID}): name people by ID"
        )


def _check_channel(block: dict[Any, Any], key: str, path: KeyPath, report: _Report) -> None:
    value = block.get(key)
    if key in block and value is None:
        report.add(
            (*path, key),
            "is empty: give a channel ID (C...); a channel name such as #incidents "
            "reads as a YAML comment",
        )
    elif isinstance(value, str) and not CHANNEL_ID.match(value):
        report.add(
            (*path, key),
            f"{value!r} is not a Slack channel ID (C... or G...): copy it from the bottom "
            "of the channel's About tab",
        )


def _check_teams(teams: dict[Any, Any], report: _Report) -> None:
    for key, team in teams.items():
        if not isinstance(team, dict):
            continue
        path: KeyPath = ("teams", key)
        for member_path, member in _names(team.get("members"), (*path, "members")):
            _check_user(member, member_path, teams, report)
        oncall = _mapping(team.get("oncall"))
        for user_path, user in _names(oncall.get("rotation"), (*path, "oncall", "rotation")):
            _check_user(user, user_path, teams, report)
        _check_channel(team, "channel", path, report)
        usergroup = team.get("usergroup")
        if isinstance(usergroup, str) and not USERGROUP_ID.match(usergroup):
            report.add(
                (*path, "usergroup"),
                f"{usergroup!r} is not a Slack user group ID (S...): copy it from the "
                "group's page in Slack",
            )
        if not team.get("members") and not oncall.get("rotation"):
            report.add(
                path,
                "has neither members nor an on-call rotation: nobody could be paged "
                "through this team",
            )


def _check_team_or_user(value: str, path: KeyPath, teams: dict[Any, Any], report: _Report) -> None:
    if value in teams or USER_ID.match(value):
        return
    report.add(
        path,
        f"{value!r} is neither a team of `teams` nor a Slack user ID (U...): add the team "
        f"or fix the name{_did_you_mean(value, teams)}",
    )


def _check_areas(
    data: dict[Any, Any], areas: dict[Any, Any], teams: dict[Any, Any], report: _Report
) -> None:
    if isinstance(data.get("areas"), dict) and not areas:
        report.add(("areas",), "no areas: the RACI table needs at least one row")
    for key, area in areas.items():
        if not isinstance(area, dict):
            continue
        path: KeyPath = ("areas", key)
        for role in ("responsible", "consulted", "informed"):
            for ref_path, ref in _names(area.get(role), (*path, role)):
                _check_team_or_user(ref, ref_path, teams, report)
        accountable = area.get("accountable")
        if isinstance(accountable, str) and not USER_ID.match(accountable):
            if accountable in teams:
                message = f"{accountable!r} is a team, but accountable is one person"
            else:
                message = f"{accountable!r} is not a Slack user ID"
            report.add(
                (*path, "accountable"),
                f"{message}: give their Slack user ID (U..., {_FIND_USER_ID})",
            )


def _check_services(
    services: dict[Any, Any],
    areas: dict[Any, Any],
    runbooks: Collection[str] | None,
    report: _Report,
) -> None:
    for key, service in services.items():
        if not isinstance(service, dict):
            continue
        path: KeyPath = ("services", key)
        area = service.get("area")
        if isinstance(area, str) and area not in areas:
            known = ", ".join(str(name) for name in areas) or "none"
            report.add(
                (*path, "area"),
                f"{area!r} is not an area of `areas` (areas: {known})" + _did_you_mean(area, areas),
            )
        if runbooks is not None:
            for runbook_path, name in _names(service.get("runbooks"), (*path, "runbooks")):
                if name not in runbooks:
                    known = ", ".join(sorted(runbooks)) or "none"
                    report.add(
                        runbook_path,
                        f"no runbook {name!r}: add {name}.md to the runbooks folder or fix "
                        f"the name (runbooks found: {known})" + _did_you_mean(name, runbooks),
                    )
        url = _mapping(service.get("rollback")).get("url")
        if isinstance(url, str) and not url.startswith(("https://", "http://")):
            report.add(
                (*path, "rollback", "url"),
                f"{url!r} is not an http(s) URL: the rollback webhook is called with a POST",
            )


def _check_severities(data: dict[Any, Any], report: _Report) -> None:
    channels = _mapping(data.get("channels"))
    for level, policy in _mapping(data.get("severities")).items():
        if not isinstance(policy, dict):
            continue
        path: KeyPath = ("severities", level)
        if policy.get("respond_within") == "next_sprint" and data.get("sprint") is None:
            report.add(
                (*path, "respond_within"),
                "next_sprint needs a `sprint` block to know when sprints start: add e.g. "
                "sprint: {length: 14d, anchor: 2026-01-05}",
            )
        notify = policy.get("notify")
        # A key written but empty is reported by the channel check, with its cause.
        if notify == "backlog" and "backlog" not in channels:
            report.add(
                (*path, "notify"),
                "backlog posts to channels.backlog, which is not set: add "
                "channels: {backlog: C...}",
            )
        if notify in ("everyone", "owning_team") and "announcements" not in channels:
            report.add(
                (*path, "notify"),
                f"{notify} announces in channels.announcements, which is not set: add "
                "channels: {announcements: C...}",
            )
