"""`firebell check` of a team's postmortem templates (the config's `templates` folder).

At resolve time a broken override falls back to the shipped template with a log warning
(`bot.postmortem.render`); here it is refused instead, before any incident needs it.
Each override in the folder is rendered against the sample incident
(`bot.postmortem.sample`) in the environment real summaries render in: a syntax error
is reported with the file and line, a render error (an undefined variable, above all)
with the file, the line Jinja2 points to and its message. A `*.j2` file that no
override uses (by name, `{% include %}`, `{% import %}` or `{% extends %}`) is a warning:
most likely a misspelt name, which firebell would silently ignore.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment

from bot.config.model import Config
from bot.config.source import Problem, read_yaml
from bot.postmortem.render import FLAVOURS, SHIPPED, environment, templates_folder
from bot.postmortem.sample import sample_postmortem
from bot.postmortem.view import variables

VARIABLES_DOC = "docs/postmortems.md"


@dataclass(frozen=True)
class TemplateCheck:
    """What the check found: problems refuse the config; warnings and `line` are shown."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    line: str = ""  # which templates are overridden, for the plan


def check_templates(config: Config, config_path: Path) -> TemplateCheck:
    """Check the config's `templates` folder; an empty check without one."""
    folder = templates_folder(config)
    if folder is None or config.templates is None:
        return TemplateCheck()
    if not folder.is_dir():
        where = "is a file, not a folder" if folder.exists() else "does not exist"
        message = (
            f"the templates folder {config.templates} {where} (looked for {folder.resolve()}; "
            "relative paths start at the working directory): create it with your overrides "
            f"({_names(FLAVOURS)}), or remove `templates` to use the shipped templates"
        )
        return TemplateCheck(
            problems=[
                Problem(str(config_path), _line_of_templates(config_path), "templates", message)
            ]
        )
    env = environment(folder)
    overridden = [name for name in FLAVOURS if (folder / name).is_file()]
    problems = [p for name in overridden if (p := _render_problem(env, folder, config, name))]
    used = _used(env, folder, overridden)
    warnings = [
        f"{path}: warning: not used: firebell renders only {_names(FLAVOURS)} (and the "
        "templates they include, import or extend); rename it to one of those, or remove it"
        for path in sorted(folder.glob("*.j2"))
        if path.name not in used
    ]
    return TemplateCheck(problems, warnings, _overrides_line(config.templates, overridden))


def _render_problem(
    env: SandboxedEnvironment, folder: Path, config: Config, name: str
) -> Problem | None:
    """Why the override `name` cannot render the sample incident, if it cannot."""
    context = variables(sample_postmortem(config), config, FLAVOURS[name])
    try:
        env.get_template(name).render(context)
    except TemplateSyntaxError as err:
        file = err.filename or str(folder / name)
        return Problem(file, err.lineno, "", f"syntax error: {err.message}: fix the template")
    except UndefinedError as err:
        file, line = _where(err, folder, name)
        return Problem(
            file,
            line,
            "",
            f"undefined variable{_rendering(file, folder, name)}: {err.message}: a template "
            f"can use the variables listed in {VARIABLES_DOC} (test one that may be missing "
            "with {% if %})",
        )
    except Exception as err:  # any failure of a team's template refuses it, with its words
        file, line = _where(err, folder, name)
        failure = f"{type(err).__name__}: {err}"
        return Problem(
            file, line, "", f"fails to render{_rendering(file, folder, name)} ({failure}): fix it"
        )
    return None


def _rendering(file: str, folder: Path, name: str) -> str:
    """` (rendering summary.slack.j2)` when the error is in a template `name` includes."""
    return "" if Path(file).resolve() == (folder / name).resolve() else f" (rendering {name})"


def _where(err: BaseException, folder: Path, name: str) -> tuple[str, int | None]:
    """The template file and line a render error happened at (Jinja2 puts template
    lines in the traceback); the override itself, with no line, if none is there."""
    places = [folder.resolve(), SHIPPED.resolve()]
    frames = [
        frame
        for frame in traceback.extract_tb(err.__traceback__)
        if any(Path(frame.filename).resolve().is_relative_to(place) for place in places)
    ]
    if not frames:
        return str(folder / name), None
    return frames[-1].filename, frames[-1].lineno


def _used(env: SandboxedEnvironment, folder: Path, overridden: Iterable[str]) -> set[str]:
    """The names of the folder's templates firebell renders, directly or through another."""
    used: set[str] = set()
    todo = list(overridden)
    while todo:
        name = todo.pop()
        if name in used or not (folder / name).is_file():
            continue
        used.add(name)
        try:
            source = (folder / name).read_text(encoding="utf-8")
            todo += [ref for ref in meta.find_referenced_templates(env.parse(source)) if ref]
        except (TemplateError, OSError, UnicodeDecodeError):
            continue  # an override that does not parse is refused by `_render_problem`
    return used


def _line_of_templates(config_path: Path) -> int | None:
    """The line of the `templates` key in the config file."""
    try:
        _, report = read_yaml(config_path.read_text(encoding="utf-8"), str(config_path))
    except (OSError, UnicodeDecodeError):
        return None
    return report.lines.get(("templates",))


def _overrides_line(folder: str, overridden: list[str]) -> str:
    """`Templates: summary.slack.j2 from ./templates; short.slack.j2 and ... shipped`."""
    shipped = [name for name in FLAVOURS if name not in overridden]
    if not overridden:
        return f"Templates: none overridden in {folder}; {_names(shipped)} shipped"
    line = f"Templates: {_names(overridden)} from {folder}"
    return line + (f"; {_names(shipped)} shipped" if shipped else "")


def _names(names: Iterable[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    listed = list(names)
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
