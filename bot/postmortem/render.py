"""Rendering a postmortem through Jinja2 templates a team may override.

Templates are looked up in the config's `templates` folder first, then among the shipped
ones (`bot/postmortem/templates/`), which an override can also reach as
`shipped/<name>` (to `{% extends %}` one and replace a block). The environment is
sandboxed (a template cannot reach Python internals) with `StrictUndefined` (a misspelt
variable is an error, not an empty string). An override that does not parse, names
an unknown variable or fails while rendering is logged once, as a warning naming the
file and the error, and the shipped template is rendered instead: a team's template
never keeps an incident from being resolved or a summary from being posted.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateSyntaxError,
)
from jinja2.sandbox import SandboxedEnvironment
from slack_sdk.models.blocks import Block

from bot.config.model import Config
from bot.postmortem.facts import Postmortem
from bot.postmortem.flavours import MARKDOWN, SLACK, Flavour
from bot.postmortem.limits import fitted
from bot.postmortem.view import variables

log = logging.getLogger(__name__)
SHIPPED = Path(__file__).parent / "templates"
SUMMARY = "summary.slack.j2"  # the full summary, in the incident channel
SHORT = "short.slack.j2"  # a few lines and a link, for announcements and informed teams
MARKDOWN_EXPORT = "postmortem.md.j2"  # `firebell export`
FLAVOURS: dict[str, Flavour] = {SUMMARY: SLACK, SHORT: SLACK, MARKDOWN_EXPORT: MARKDOWN}


def templates_folder(config: Config) -> Path | None:
    """The folder of the team's overrides (the config's `templates`), if it names one.

    A relative path is taken from the working directory, as every other path firebell
    reads (`FIREBELL_CONFIG`, `FIREBELL_RUNBOOKS`) is.
    """
    return None if not config.templates else Path(config.templates)


@lru_cache(maxsize=8)
def _environment(folder: str | None) -> SandboxedEnvironment:
    shipped = FileSystemLoader(SHIPPED)
    loaders: list[BaseLoader] = [PrefixLoader({"shipped": shipped}), shipped]
    if folder is not None:
        loaders.insert(0, FileSystemLoader(folder))
    return SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,  # words are escaped per flavour before a template sees them
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def environment(folder: Path | None) -> SandboxedEnvironment:
    """The environment templates render in: `folder`'s overrides first, then the shipped
    ones (also as `shipped/<name>`). `firebell check` renders overrides in it too."""
    return _environment(None if folder is None else str(folder))


def render_template(name: str, context: dict[str, object], folder: Path | None) -> str:
    """Render template `name`: the team's override if it works, else the shipped one."""
    if folder is not None:
        override = folder / name
        if not folder.is_dir():
            log.warning(
                "postmortem templates folder %s does not exist (config `templates`); "
                "using the shipped %s",
                folder,
                name,
            )
        elif override.is_file():
            try:
                return _environment(str(folder)).get_template(name).render(context)
            except TemplateSyntaxError as err:
                where = f"{err.filename or override}, line {err.lineno}"
                log.warning(
                    "postmortem template %s is broken (%s: %s); using the shipped one",
                    where,
                    type(err).__name__,
                    err.message,
                )
            except Exception as err:  # any failure of a team's template: the shipped one
                log.warning(
                    "postmortem template %s failed to render (%s: %s); using the shipped one",
                    override,
                    type(err).__name__,
                    err,
                )
    return _environment(None).get_template(name).render(context)


def _render(pm: Postmortem, config: Config, name: str, flavour: Flavour) -> str:
    return render_template(name, variables(pm, config, flavour), templates_folder(config))


def summary_message(pm: Postmortem, config: Config) -> tuple[str, list[Block]]:
    """The full summary for the incident channel: text and blocks within Slack's limits."""
    return fitted(_render(pm, config, SUMMARY, SLACK), cut_note=_cut_note(pm))


def short_message(pm: Postmortem, config: Config) -> tuple[str, list[Block]]:
    """The short summary for announcements and informed teams' channels."""
    return fitted(_render(pm, config, SHORT, SLACK), cut_note=_cut_note(pm))


def markdown(pm: Postmortem, config: Config) -> str:
    """The postmortem as a Markdown document, with sections left for the team to write."""
    return _render(pm, config, MARKDOWN_EXPORT, MARKDOWN).rstrip("\n") + "\n"


def _cut_note(pm: Postmortem) -> str:
    ref = pm.incident.ref
    return (
        f"… the rest does not fit in one Slack message: `/incident timeline` posts the "
        f"timeline, and `firebell export {ref}` writes the whole postmortem."
    )
