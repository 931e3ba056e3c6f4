"""Alerts in words: the main message's alert section, `/incident alerts`, the backlog
post for unrouted alerts, the storm incident's title and the alert timeline entries.

Everything a monitoring system wrote (names, labels, annotations, URLs) is escaped
here: a `<!channel>` in a summary annotation notifies nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.config.model import Config
from bot.core.escaping import escape
from bot.messages.words import when
from bot.store.tables import Alert, Incident

STORM_TITLE = "Alert storm"  # the storm incident's title until its first group is counted
SOURCES = {"alertmanager": "Alertmanager", "grafana": "Grafana"}
ON_MAIN = 8  # alerts (or storm groups) the main message lists
IN_ANSWER = 40  # alerts `/incident alerts` lists
SECTION = 2900  # characters per section (Slack allows 3,000)
MAX_URL = 1000  # a longer generator URL is not linked: it would crowd out the list
MAX_SUMMARY = 300  # characters of a summary annotation `/incident alerts` shows
MAX_LABELS = 400  # characters of an alert's labels `/incident alerts` shows
MAX_ENTITY = len("&amp;")  # the longest escape `escape` writes
Line = tuple[str, str]  # a line with its links, and the same line without them
_ICONS = {"firing": ":fire:", "resolved": ":white_check_mark:"}


def storm_title(groups: Sequence[Mapping[str, Any]]) -> str:
    """`Alert storm: 47 groups from 12 services` from the facts of the groups that
    joined (their `service`, else their `area`)."""
    services = {g["service"] for g in groups if g.get("service")}
    areas = {g["area"] for g in groups if not g.get("service") and g.get("area")}
    sources = [_count(len(services), "service")] if services else []
    if areas:
        sources.append(_count(len(areas), "other area" if services else "area"))
    where = f" from {' and '.join(sources)}" if sources else ""
    return f"{STORM_TITLE}: {_count(len(groups), 'group')}{where}"


def resolved_count(alerts: Sequence[Alert]) -> str:
    """`3 of 4 alerts resolved` (`1 alert firing` while none is)."""
    done = sum(1 for a in alerts if a.status == "resolved")
    if not done:
        return f"{_count(len(alerts), 'alert')} firing"
    return f"{done} of {_count(len(alerts), 'alert')} resolved"


def alert_section(incident: Incident, config: Config, alerts: Sequence[Alert]) -> Block | None:
    """The main message's *Alerts* section: how many resolved, then the alerts (the
    groups, for the storm incident) with links to where they were generated."""
    if not alerts:
        return None
    lines = _group_lines(config, alerts) if incident.origin == "storm" else _alert_lines(alerts)
    head = f"*Alerts* · {resolved_count(alerts)}"
    text = fit_lines(head, lines, more=_more_on_main, most=ON_MAIN)
    return SectionBlock(text=MarkdownTextObject(text=text))


def alerts_answer(
    incident: Incident, alerts: Sequence[Alert], *, received: int, last: datetime | None
) -> tuple[str, list[Block]]:
    """`/incident alerts`: each alert with its status, since when, labels and link."""
    if not alerts:
        text = f"{incident.ref} has no alerts: it was not opened by or joined by any."
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    head = f"*Alerts of {incident.ref}* · {resolved_count(alerts)}"
    ordered = sorted(alerts, key=lambda a: (a.status != "firing", a.name, a.id or 0))
    entries = [_alert_entry(a) for a in ordered[:IN_ANSWER]]
    if len(ordered) > IN_ANSWER:
        entries.append(f"… and {len(ordered) - IN_ANSWER} more")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=head))]
    chunk = ""
    for entry in entries:
        if chunk and len(chunk) + len(entry) + 1 > SECTION:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
            chunk = ""
        chunk = f"{chunk}\n{entry}" if chunk else entry
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    if received and last is not None:
        tail = f"{_count(received, 'notification')} received, the last {when(last)}"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=tail)]))
    return head, blocks


def unrouted_post(facts: Mapping[str, Any]) -> str:
    """The backlog channel's post about alerts that matched no service or area."""
    source = SOURCES.get(str(facts.get("source")), "a monitoring system")
    names = ", ".join(f"`{escape(str(n))}`" for n in facts.get("names", [])) or "alerts"
    firing = int(facts.get("firing") or 0)
    seen = [
        f"{escape(str(facts[label]))}={escape(str(facts[key]))}"
        for key, label in (("service", "service_label"), ("area", "area_label"))
        if facts.get(key)
    ]
    labelled = f" (labelled {', '.join(seen)}, which firebell does not know)" if seen else ""
    return (
        f":inbox_tray: {_count(firing, 'alert')} from {source} matched no service or area"
        f"{labelled}, so no incident was opened: {names}. Give them a "
        f"`{escape(str(facts.get('service_label')))}` label naming a service or an "
        f"`{escape(str(facts.get('area_label')))}` label naming an area, or set "
        "`alerts.default_area` in the config."
    )


def alerts_added_line(data: Mapping[str, Any]) -> str:
    """A timeline line: alerts that arrived."""
    names = _names(data)
    if data.get("joined"):
        source = SOURCES.get(str(data.get("source")), "monitoring")
        return f"An alert group from {source} joined: {names}"
    return f"New alerts: {names}"


def alerts_resolved_line(data: Mapping[str, Any]) -> str:
    """A timeline line: alerts that resolved, and how many still fire."""
    firing, total = int(data.get("firing") or 0), int(data.get("total") or 0)
    if firing:
        return f"Resolved: {_names(data)} ({total - firing} of {total} alerts resolved)"
    return f"All {_count(total, 'alert')} resolved (last: {_names(data)})"


def alerts_resolved_post(data: Mapping[str, Any], incident: Incident) -> str:
    """The channel post when the last alert of the incident resolved."""
    total = int(data.get("total") or 0)
    text = f":white_check_mark: All {_count(total, 'alert')} of {incident.ref} resolved"
    if data.get("mitigating"):
        return f"{text}: firebell marks it mitigated. `/incident resolve` closes it."
    if data.get("unacknowledged"):
        return (
            f"{text}, but nobody has acknowledged it: it stays open and escalating until "
            "someone checks and presses `Acknowledge` (alerts also resolve when what they "
            "watch goes silent)."
        )
    return f"{text}. `/incident mitigated` or `/incident resolve` when you have checked."


def alert_refired_line(data: Mapping[str, Any]) -> str:
    """A timeline line: a resolved alert fires again."""
    fired = int(data.get("fired") or 2)
    return f"`{escape(str(data.get('name')))}` fires again ({_count(fired, 'time')} so far)"


def storm_group_line(data: Mapping[str, Any]) -> str:
    """A timeline line: an alert group joined the storm incident."""
    scope = data.get("service") or data.get("area") or "no service"
    return (
        f"Alert group of {escape(str(scope))} ({data.get('severity')}) joined the storm: "
        f"{_names(data)}"
    )


def fit_lines(
    head: str, lines: Sequence[Line], *, more: Callable[[int], str], most: int, limit: int = SECTION
) -> str:
    """`head`, then whole lines while they fit in `limit` characters (at most `most` of
    them), then `more(n)` for the `n` left out, for which room is always kept. A line
    (linked, plain) that does not fit is shown plain (without its links); the first line
    alone too long for the room is cut at a safe point (`cut`)."""
    out = [head]
    used = len(head)
    shown = 0
    for index, (linked, plain) in enumerate(lines[:most]):
        later = len(lines) - index - 1
        room = limit - used - 1 - (len(more(later)) + 1 if later else 0)
        line = next((t for t in (linked, plain) if len(t) <= room), None)
        if line is None and shown == 0 and room > 0:
            line = cut(plain, room)
        if line is None:
            break
        out.append(line)
        used += len(line) + 1
        shown += 1
    if len(lines) > shown:
        out.append(more(len(lines) - shown))
    return "\n".join(out)


def cut(text: str, limit: int) -> str:
    """Rendered mrkdwn `text` in at most `limit` characters, ending in `…` when cut, never
    inside an `&amp;`-style escape or a `<...>` link or mention."""
    if len(text) <= limit:
        return text
    end = max(limit - 1, 0)
    opened = text.rfind("<", 0, end)
    if opened > text.rfind(">", 0, end):
        end = opened  # inside a `<...>` token: cut before it
    amp = text.rfind("&", max(0, end - MAX_ENTITY), end)
    if amp >= 0 and ";" not in text[amp:end]:
        end = amp  # inside an escape such as `&amp;`: cut before it
    return text[:end].rstrip() + "…"


def _more_on_main(left: int) -> str:
    return f"… and {left} more: `/incident alerts` lists them"


def _alert_lines(alerts: Sequence[Alert]) -> list[Line]:
    ordered = sorted(alerts, key=lambda a: (a.status != "firing", a.id or 0))
    return [
        (f"{icon} {_link(a.generator_url, a.name)}", f"{icon} {escape(a.name)}")
        for a in ordered
        for icon in (_ICONS.get(a.status, ""),)
    ]


def _group_lines(config: Config, alerts: Sequence[Alert]) -> list[Line]:
    """One line per alert group: what it is about (its service or area label), its
    alerts' names (linked, and plain), how many fire."""
    groups: dict[int | None, list[Alert]] = {}
    for alert in alerts:
        groups.setdefault(alert.group_id, []).append(alert)
    rules = config.alerts
    lines = []
    for members in groups.values():
        labels = members[0].labels
        scope = labels.get(rules.service_label) or labels.get(rules.area_label) or "no service"
        linked = ", ".join(dict.fromkeys(_link(a.generator_url, a.name) for a in members))
        plain = ", ".join(dict.fromkeys(escape(a.name) for a in members))
        firing = sum(1 for a in members if a.status == "firing")
        about = f"• *{escape(str(scope))}*: "
        counted = f" ({firing} of {len(members)} firing)"
        lines.append((about + linked + counted, about + plain + counted))
    return lines


def _alert_entry(alert: Alert) -> str:
    since = when(alert.starts_at or alert.first_seen_at)
    status = f"firing since {since}"
    if alert.status == "resolved":
        status = f"resolved {when(alert.resolved_at or alert.last_seen_at)} (fired {since})"
    again = f" · fired {alert.fired} times" if alert.fired > 1 else ""
    labels = ", ".join(f"{k}={v}" for k, v in alert.labels.items() if k != "alertname")
    summary = str(alert.annotations.get("summary") or "")
    rest = []
    if summary:
        rest.append(f"    {escape(_shortened(summary, MAX_SUMMARY))}")
    if labels:
        rest.append(f"    _{escape(_shortened(labels, MAX_LABELS))}_")
    for name in (_link(alert.generator_url, alert.name), escape(alert.name)):
        entry = "\n".join([f"{_ICONS.get(alert.status, '')} *{name}* · {status}{again}", *rest])
        if len(entry) <= SECTION:
            return entry
    return cut(entry, SECTION)


def _shortened(text: str, limit: int) -> str:
    """Unescaped `text` cut to `limit` characters (escape after: never inside `&amp;`)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(url: str | None, text: str) -> str:
    """`text` linked to `url` when it is a plain http(s) URL, else just `text` (escaped)."""
    label = escape(text)
    if not url or len(url) > MAX_URL or not url.startswith(("http://", "https://")):
        return label
    if any(c in "<>|" or c.isspace() or not c.isprintable() for c in url):
        return label
    return f"<{url.replace('&', '&amp;')}|{label}>"


def _names(data: Mapping[str, Any]) -> str:
    alerts = data.get("alerts", [])
    names = ", ".join(dict.fromkeys(f"`{escape(str(a.get('name')))}`" for a in alerts))
    more = int(data.get("count") or len(alerts)) - len(alerts)
    return names + (f" and {more} more" if more > 0 else "") if names else "none"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
