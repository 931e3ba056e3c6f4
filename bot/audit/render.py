"""The audit trail in words: a verification's verdict, and the records as a table, CSV
or JSON lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC

from bot.audit.chain import (
    Changed,
    HeadRecreated,
    Link,
    Missing,
    Point,
    Problem,
    hashed_fields,
)
from bot.logs import printable

# The columns of an export, in order (CSV header, JSON keys).
COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "object",
    "source",
    "outcome",
    "incident_id",
    "detail",
    "prev_hash",
    "hash",
)
_TABLE = ("seq", "time (UTC)", "actor", "source", "action", "object", "outcome", "detail")
_DETAIL = 80  # characters of a record's detail a table row shows


def _span(first: int, last: int) -> str:
    return f"record {first} is" if first == last else f"records {first} to {last} are"


def problem_text(problem: Problem) -> str:
    """What is wrong with the chain, and what that means."""
    if isinstance(problem, Changed):
        return (
            f"record {problem.seq} was changed: its hash, or its link to the record "
            "before it, does not match what it holds"
        )
    if isinstance(problem, Missing):
        return f"{_span(problem.after + 1, problem.before - 1)} missing (deleted)"
    if isinstance(problem, HeadRecreated):
        return (
            f"the chain's head was deleted and rebuilt at seq {problem.resumed_from}: "
            "records after it may have been deleted (see its audit.head_recreated record)"
        )
    head, last = problem.head, problem.last
    if head == Point(0, "") and last.seq > 0:
        return "the chain's head (its row in auditchain) is missing or was reset"
    if last.seq < head.seq:
        return (
            f"{_span(last.seq + 1, head.seq)} missing at the end (deleted): the chain's "
            f"head is at seq {head.seq}, the last record kept is seq {last.seq}"
        )
    if last.seq > head.seq:
        return (
            f"records after the chain's head (seq {head.seq}) were written around the "
            f"trail, up to seq {last.seq}"
        )
    return f"the last record (seq {last.seq}) does not match the chain's head"


def verdict(count: int, anchor: Point, head: Point, problem: Problem | None, loose: int) -> str:
    """`firebell audit verify`'s answer: intact with the span checked, or what is wrong."""
    if problem is not None:
        return f"audit trail BROKEN: {problem_text(problem)}."
    if loose:
        return (
            f"audit trail BROKEN: {loose} record{'s' if loose != 1 else ''} not in the "
            "chain (written around firebell's audit trail, or their seq was erased)."
        )
    pruned = f" (records up to seq {anchor.seq} pruned)" if anchor.seq else ""
    # The head's seq and hash, to keep elsewhere: whoever can write the database can
    # recompute the whole unkeyed chain, but not a copy kept out of their reach.
    ends = f"; head seq {head.seq} hash {head.hash or '(none)'}"
    if count == 0:
        return f"audit trail intact: 0 records{pruned}{ends}"
    return f"audit trail intact: {count} records, seq {anchor.seq + 1}..{head.seq}{pruned}{ends}"


def _detail(link: Link) -> str:
    return json.dumps(link.detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _fields(link: Link) -> dict[str, object]:
    return {**hashed_fields(link), "hash": link.hash}


def as_json_lines(links: Sequence[Link]) -> str:
    """One JSON object a record, a line each (for jq or a log shipper)."""
    return "".join(json.dumps(_fields(link), ensure_ascii=False) + "\n" for link in links)


def as_csv(links: Sequence[Link]) -> str:
    """CSV with a header row; `detail` as JSON; no cell a spreadsheet would run."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for link in links:
        fields = _fields(link)
        fields["detail"] = _detail(link)
        writer.writerow(_inert(fields[c]) for c in COLUMNS)
    return out.getvalue()


_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula


def _inert(value: object) -> object:
    """A cell as data: a text a spreadsheet would evaluate gets a leading `'` (OWASP's
    CSV injection advice); numbers and empty cells stay as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def as_table(links: Sequence[Link]) -> str:
    """A readable table: one line a record, users' words made printable."""
    if not links:
        return "No audit records in that time.\n"
    rows = [
        (
            str(link.seq),
            link.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            printable(link.actor, 40),
            link.source,
            printable(link.action, 60),
            printable(link.object, 60),
            link.outcome,
            printable(_detail(link), _DETAIL) if link.detail else "",
        )
        for link in links
    ]
    widths = [max(len(r[i]) for r in [_TABLE, *rows]) for i in range(len(_TABLE) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in [_TABLE, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"
