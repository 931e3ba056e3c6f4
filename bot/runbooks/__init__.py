"""Runbooks: the Markdown files of the runbooks folder, their front matter and checks.

`index` reads the folder, `frontmatter` the YAML block atop each file, `checks` what a
file cannot check alone (references into the config, name clashes, links between
runbooks, overdue reviews), `matching` which runbooks fit an incident, `splitting` cuts
a long runbook into Slack-sized pieces, and `steps` reads its task list as checkboxes.
"""

from bot.runbooks.checks import Stale, check_runbooks, stale_runbooks
from bot.runbooks.frontmatter import RunbookMeta
from bot.runbooks.index import Runbook, load_runbooks, read_runbooks
from bot.runbooks.matching import matching_runbooks
from bot.runbooks.problems import Problem, RunbookError
from bot.runbooks.splitting import Piece, split_markdown, split_pieces
from bot.runbooks.steps import CheckboxGroup, Step, checkbox_groups, clicked, runbook_steps

__all__ = [
    "CheckboxGroup",
    "Piece",
    "Problem",
    "Runbook",
    "RunbookError",
    "RunbookMeta",
    "Stale",
    "Step",
    "check_runbooks",
    "checkbox_groups",
    "clicked",
    "load_runbooks",
    "matching_runbooks",
    "read_runbooks",
    "runbook_steps",
    "split_markdown",
    "split_pieces",
    "stale_runbooks",
]
