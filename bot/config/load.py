"""Loading the YAML config, refusing a bad file with the line and the reason of each problem.

`bot.config.source` reads the text with the line of every key path. Pydantic checks the
shape of each block, and its errors are reworded here at the line they point to;
`bot.config.references` checks what one block cannot see alone (teams named by areas,
channels the severity table needs, runbooks named by services). Every problem is
reported at once, so a file gets fixed in one pass rather than one error per run.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Collection
from pathlib import Path

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.config.model import Config
from bot.config.references import check_references
from bot.config.source import ConfigError, KeyPath, Problem, Report, did_you_mean, read_yaml, show

__all__ = ["ConfigError", "KeyPath", "Problem", "load_config", "parse_config"]


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
    data, report = read_yaml(text, filename)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        for error in err.errors(include_url=False):
            _report_model_error(error, report)
    check_references(data, report, runbooks)
    if report.problems or config is None:
        raise ConfigError(report.sorted())
    return config


def _report_model_error(error: ErrorDetails, report: Report) -> None:
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
            loc[:-2], f"keys must be text, got {show(error['input'])}{hint}", line_of=loc[:-1]
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
    return message + did_you_mean(key, expected)


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
    shown = show(error["input"])
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
