"""What a runbook file cannot check alone: references, name clashes, links, reviews.

The front matter names services, areas, a team and severities of the config; two
files may not differ only in the case of their names (services name runbooks by file
stem, and macOS and Windows would see one file); a relative link to another runbook
must point to a file of the folder. Two runbooks with the same title are fine: the
name tells them apart.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import unquote

from bot.config.duration import format_duration
from bot.config.model import SEVERITY_LEVELS, Config
from bot.config.source import did_you_mean
from bot.runbooks.index import Runbook
from bot.runbooks.markdown import prose_lines, without_code_spans
from bot.runbooks.problems import Problem

_INLINE_LINK = re.compile(r"\]\(\s*(<[^>]*>|[^)\s]+)")
_REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_runbooks(
    runbooks: Mapping[str, Runbook], config: Config | None, *, at: datetime
) -> list[Problem]:
    """Every problem across runbooks, in file order.

    Without a `config` (it was refused), only what needs none is checked. `at` is the
    time of the check; no problem depends on it yet: a review that is due is a warning
    (`stale_runbooks`), and a `reviewed` date after `at` is not refused, since tests and
    drills check at a fixed past time.
    """
    problems = _name_clashes(runbooks)
    for runbook in runbooks.values():
        if config is not None:
            problems += _references(runbook, config)
        else:
            problems += _severities(runbook, SEVERITY_LEVELS)
        problems += _broken_links(runbook, runbooks)
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0))


@dataclass(frozen=True)
class Stale:
    """A runbook due for review: never reviewed (`due` None) or `overdue` since `due`."""

    name: str
    path: Path
    line: int | None
    review_every: timedelta
    reviewed: date | None
    due: datetime | None
    overdue: timedelta | None

    def __str__(self) -> str:
        where = str(self.path) if self.line is None else f"{self.path}:{self.line}"
        every = format_duration(self.review_every)
        if self.reviewed is None or self.overdue is None:
            return (
                f"{where}: warning: never reviewed (review_every: {every}): review it and "
                "add reviewed: YYYY-MM-DD to its front matter"
            )
        return (
            f"{where}: warning: review overdue by {_age(self.overdue)} "
            f"(reviewed {self.reviewed.isoformat()}, review_every: {every})"
        )


def stale_runbooks(runbooks: Mapping[str, Runbook], at: datetime) -> list[Stale]:
    """The runbooks whose `reviewed + review_every` is before `at`, by name."""
    stale = []
    for runbook in runbooks.values():
        meta = runbook.meta
        if meta.review_every is None:
            continue
        if meta.reviewed is None:
            line = meta.lines.get(("review_every",))
            stale.append(
                Stale(runbook.name, runbook.path, line, meta.review_every, None, None, None)
            )
            continue
        due = datetime.combine(meta.reviewed, time(), UTC) + meta.review_every
        if due < at:
            line = meta.lines.get(("reviewed",))
            stale.append(
                Stale(
                    runbook.name,
                    runbook.path,
                    line,
                    meta.review_every,
                    meta.reviewed,
                    due,
                    at - due,
                )
            )
    return stale


def _age(delta: timedelta) -> str:
    """Whole days once it is a day, else minutes: `12d`, `3h20m`."""
    if delta >= timedelta(days=1):
        return format_duration(timedelta(days=delta.days))
    return format_duration(timedelta(minutes=max(1, int(delta.total_seconds() // 60))))


def _name_clashes(runbooks: Mapping[str, Runbook]) -> list[Problem]:
    first: dict[str, Runbook] = {}
    problems = []
    for runbook in runbooks.values():
        other = first.setdefault(runbook.name.casefold(), runbook)
        if other is not runbook:
            problems.append(
                Problem(
                    runbook.path,
                    None,
                    f"{runbook.path.name} and {other.path.name} differ only in case: rename "
                    "one (services name runbooks by file name, and macOS and Windows see "
                    "the two as one file)",
                )
            )
    return problems


def _references(runbook: Runbook, config: Config) -> list[Problem]:
    meta = runbook.meta
    problems = _unknown(runbook, "services", meta.services, config.services, "service")
    problems += _unknown(runbook, "areas", meta.areas, config.areas, "area")
    problems += _severities(runbook, config.severities)
    if meta.owner is not None and meta.owner not in config.teams:
        known = ", ".join(config.teams) or "none"
        problems.append(
            Problem(
                runbook.path,
                meta.lines.get(("owner",)),
                f"owner: {meta.owner!r} is not a team of the config (teams: {known})"
                + did_you_mean(meta.owner, config.teams),
            )
        )
    return problems


def _severities(runbook: Runbook, known: Collection[str]) -> list[Problem]:
    problems = []
    for index, name in enumerate(runbook.meta.severities):
        if name not in known:
            problems.append(
                Problem(
                    runbook.path,
                    _line(runbook, "severities", index),
                    f"severities: {name!r} is not a severity: use {', '.join(known)}"
                    + did_you_mean(name.upper(), known),
                )
            )
    return problems


def _unknown(
    runbook: Runbook, key: str, names: list[str], known: Collection[str], noun: str
) -> list[Problem]:
    problems = []
    listed = ", ".join(known) or "none"
    for index, name in enumerate(names):
        if name not in known:
            problems.append(
                Problem(
                    runbook.path,
                    _line(runbook, key, index),
                    f"{key}: {name!r} is not a{'n' if noun[0] in 'aeiou' else ''} {noun} of "
                    f"the config ({key}: {listed})" + did_you_mean(name, known),
                )
            )
    return problems


def _line(runbook: Runbook, key: str, index: int) -> int | None:
    lines = runbook.meta.lines
    return lines.get((key, index), lines.get((key,)))


def _broken_links(runbook: Runbook, runbooks: Mapping[str, Runbook]) -> list[Problem]:
    problems = []
    for index, line in prose_lines(runbook.text):
        prose = without_code_spans(line)
        targets = [match.group(1) for match in _INLINE_LINK.finditer(prose)]
        if reference := _REFERENCE_LINK.match(prose):
            targets.append(reference.group(1))
        for target in targets:
            reason = _broken(target.strip("<>"), runbooks)
            if reason is not None:
                problems.append(Problem(runbook.path, runbook.body_line + index, reason))
    return problems


def _broken(target: str, runbooks: Mapping[str, Runbook]) -> str | None:
    """Why a link target that names a runbook file does not resolve, if it does not."""
    if not target or target.startswith(("#", "/")) or _SCHEME.match(target):
        return None
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if not path.lower().endswith(".md"):
        return None  # a picture or another file: not a link between runbooks
    normal = posixpath.normpath(path)
    if "/" in normal:
        return (
            f"link to {target!r} leaves the runbooks folder: link to runbooks by file name, "
            "e.g. (other-runbook.md)"
        )
    stem = normal[: -len(".md")]
    if stem in runbooks or stem.upper() == "README":
        return None
    return f"link to {target!r}: there is no {stem}.md in the runbooks folder" + did_you_mean(
        stem, runbooks
    )
