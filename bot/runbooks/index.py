"""The runbook index: the Markdown files of the runbooks folder, by name.

A runbook's name is its file stem (`runbooks/model-quality-regression.md` is
`model-quality-regression`), which is how services list their runbooks; its title is
the front matter's `title`, else its first `# ` heading, else its name. A `README.md`
describes the folder and is not a runbook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.runbooks.frontmatter import RunbookMeta, read_front_matter
from bot.runbooks.markdown import prose_lines
from bot.runbooks.problems import Problem, RunbookError

_HEADING = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


@dataclass(frozen=True)
class Runbook:
    """One Markdown runbook: `text` is its body, which starts on line `body_line` of the file."""

    name: str
    title: str
    path: Path
    text: str
    body_line: int = 1
    meta: RunbookMeta = field(default_factory=RunbookMeta)


def load_runbooks(folder: Path) -> dict[str, Runbook]:
    """Every `*.md` runbook in `folder` by name, sorted; a missing folder has none.

    Raises RunbookError listing every problem of every file (unreadable text, bad
    front matter) when there is any.
    """
    runbooks, problems = read_runbooks(folder)
    if problems:
        raise RunbookError(problems)
    return runbooks


def read_runbooks(folder: Path) -> tuple[dict[str, Runbook], list[Problem]]:
    """The runbooks of `folder` and the problems of its files, without raising.

    A runbook whose front matter has problems is still in the index (with the keys
    that could be read), so that the services naming it are not reported too.
    """
    if not folder.is_dir():
        return {}, []
    runbooks: dict[str, Runbook] = {}
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.md")):
        if not path.is_file() or path.stem.upper() == "README":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(path, None, "is not UTF-8 text: save the runbook as UTF-8"))
            continue
        except OSError as err:
            reason = f"cannot read the runbook: {err.strerror or err}"
            problems.append(Problem(path, None, reason))
            continue
        runbook, found = parse_runbook(path, text)
        runbooks[runbook.name] = runbook
        problems += found
    return runbooks, problems


def parse_runbook(path: Path, text: str) -> tuple[Runbook, list[Problem]]:
    """The runbook a file at `path` holding `text` is, and its front matter's problems."""
    front = read_front_matter(text, path)
    title = front.meta.title or _title(front.body) or path.stem
    runbook = Runbook(
        name=path.stem,
        title=title,
        path=path,
        text=front.body,
        body_line=front.body_line,
        meta=front.meta,
    )
    return runbook, front.problems


def _title(text: str) -> str | None:
    """The first level-1 heading outside code blocks (a `# ` in a shell block is a comment)."""
    for _, line in prose_lines(text):
        if match := _HEADING.match(line):
            return match.group(1)
    return None
