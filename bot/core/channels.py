"""Incident channel names: `inc-<n>-<slug-of-title>`."""

from __future__ import annotations

import re
import unicodedata

MAX_CHANNEL_NAME = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")


def slug(title: str) -> str:
    """Lowercase ASCII words joined by hyphens (`"API 5xx spike!"` -> `"api-5xx-spike"`)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _NOT_ALLOWED.sub("-", ascii_title.lower()).strip("-_")


def channel_name(number: int, title: str, *, suffix: int = 0) -> str:
    """The channel name of incident `number`, at most 80 characters of `[a-z0-9-_]`.

    `suffix` makes a distinct name when the plain one is taken by somebody else.
    """
    head = f"inc-{number}"
    tail = f"-{suffix}" if suffix else ""
    room = MAX_CHANNEL_NAME - len(head) - len(tail) - 1
    body = slug(title)[:room].rstrip("-_")
    return f"{head}-{body}{tail}" if body else f"{head}{tail}"
