"""The runbook index: the Markdown files of the runbooks folder, by name.

A runbook's name is its file stem (`runbooks/model-quality-regression.md` is
`model-quality-regression`), which is how services list their runbooks; its title is
its first `# ` heading. A `README.md` describes the folder and is not a runbook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_HEADING = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Runbook:
    """One Markdown runbook."""

    name: str
    title: str
    path: Path
    text: str


class RunbookError(Exception):
    """A runbook file that cannot be read as UTF-8 text."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def load_runbooks(folder: Path) -> dict[str, Runbook]:
    """Every `*.md` runbook in `folder` by name, sorted; a missing folder has none."""
    if not folder.is_dir():
        return {}
    runbooks = {}
    for path in sorted(folder.glob("*.md")):
        if not path.is_file() or path.stem.upper() == "README":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise RunbookError(path, "is not UTF-8 text: save the runbook as UTF-8") from None
        except OSError as err:
            raise RunbookError(path, f"cannot read the runbook: {err.strerror or err}") from None
        runbooks[path.stem] = Runbook(
            name=path.stem, title=_title(text) or path.stem, path=path, text=text
        )
    return runbooks


def _title(text: str) -> str | None:
    """The first level-1 heading outside code blocks (a `# ` in a shell block is a comment)."""
    in_code = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
        elif not in_code and (match := _HEADING.match(line)):
            return match.group(1)
    return None
