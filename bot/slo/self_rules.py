"""Prometheus alerting rules for firebell's own health (pure), from its `/metrics`.

`firebell slo rules --self` writes them: one group, `firebell-self`, over the series of
the scrape job `job` (docs/metrics.md, "Alerting on firebell itself"). They guard what
makes firebell useless while it still looks alive: replicas down or unready, an
outbox that stops moving, deadlines firing late, rows given up on, Slack refusing or
not answering.

These alerts are about firebell, so they must not depend on firebell to be seen: each
carries `firebell_self: "true"`, which an Alertmanager route sends to whoever runs
firebell (a pager, e-mail) before any route into firebell's `/hooks/alertmanager`.
They carry no `service` label, so one that reaches firebell anyway opens nothing on a
product's service (without `alerts.default_area` it goes to the backlog channel as
unrouted). `firebell_severity` and the conventional `severity` (`critical` for P1,
`warning` for P2) let either kind of route grade them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.slo.promql import label_value, number, prometheus_duration

SELF_GROUP = "firebell-self"
SELF_LABEL = "firebell_self"
DEFAULT_JOB = "firebell"
CONVENTIONAL_SEVERITY = {"P1": "critical", "P2": "warning"}

# Thresholds: a backlog older than five minutes means pages are not going out (a 429's
# Retry-After or a channel's pace holds a row seconds, not minutes); deadlines are
# polled every few seconds, so a p99 half a minute late is a clock that is stuck or
# starved; a tenth of Slack calls throttled or unanswered is more than bursts explain.
BACKLOG_AGE = timedelta(minutes=5)
LATENESS_P99 = timedelta(seconds=30)
SLACK_FAILING_RATIO = 0.1
WINDOW = timedelta(minutes=10)  # the range of the rates, and how long a ratio must hold
DOWN_FOR = timedelta(minutes=2)  # a replica unscraped or unready: a restart takes seconds
STUCK_FOR = timedelta(minutes=5)  # no target at all, a backlog, late deadlines
# Failures seen in every 5 minutes for 10: a page made moot by an ack counts as failed,
# and one alone must not fire.
FAILURE_WINDOW = timedelta(minutes=5)

AS_DURATION = "{{ $value | humanizeDuration }}"
AS_PERCENT = "{{ $value | humanizePercentage }}"
AS_COUNT = '{{ $value | printf "%.0f" }}'
INSTANCE = "{{ $labels.instance }}"
JOB = "{{ $labels.job }}"


@dataclass(frozen=True)
class _Self:
    job: str
    scale: float

    def window(self, value: timedelta) -> str:
        return prometheus_duration(value / self.scale)

    def selector(self, extra: str = "") -> str:
        """The job's matcher, then `extra` matchers as PromQL writes them."""
        job = f'job="{label_value(self.job)}"'
        return "{" + (f"{job},{extra}" if extra else job) + "}"

    def over(
        self, function: str, metric: str, extra: str = "", *, window: timedelta = WINDOW
    ) -> str:
        """`function(metric{job...}[10m])`, the window scaled."""
        return f"{function}({metric}{self.selector(extra)}[{self.window(window)}])"

    def alert(
        self,
        name: str,
        expr: str,
        *,
        hold: timedelta,
        severity: str,
        summary: str,
        description: str,
        runbook: str,
    ) -> dict[str, Any]:
        return {
            "alert": name,
            "expr": expr,
            "for": self.window(hold),
            "labels": {
                SELF_LABEL: "true",
                "firebell_severity": severity,
                "severity": CONVENTIONAL_SEVERITY[severity],
            },
            "annotations": {"summary": summary, "description": description, "runbook": runbook},
        }


def self_rules(*, job: str = DEFAULT_JOB, window_scale: float = 1.0) -> dict[str, Any]:
    """The rule file of firebell's own alerts over the scrape job `job`.

    `window_scale` divides every range and `for` (tests run minutes in seconds); the
    thresholds stay.
    """
    s = _Self(job, window_scale)
    late = s.over("rate", "firebell_deadline_lateness_seconds_bucket")
    failing = s.over("rate", "firebell_slack_api_calls_total", 'result=~"ratelimited|failed"')
    calls = s.over("rate", "firebell_slack_api_calls_total")
    given_up = s.over(
        "increase", "firebell_deliveries_total", 'result="failed"', window=FAILURE_WINDOW
    )
    rules = [
        s.alert(
            "FirebellDown",
            f"up{s.selector()} == 0",
            hold=DOWN_FOR,
            severity="P1",
            summary=f"firebell {INSTANCE} is down: Prometheus cannot scrape it (job {JOB})",
            description=(
                f"Prometheus has failed to scrape {INSTANCE}'s /metrics for "
                f"{s.window(DOWN_FOR)}. While no replica runs, no incident is declared, "
                "no page is sent and no deadline escalates."
            ),
            runbook=(
                "Is the process running? Check its log and GET /healthz on the replica; "
                "a replica that crashes at start-up logs why (config refused, database "
                "unreachable)."
            ),
        ),
        s.alert(
            "FirebellAbsent",
            f"absent(up{s.selector()})",
            hold=STUCK_FOR,
            severity="P1",
            summary=f"No firebell target is scraped (job {JOB})",
            description=(
                f"Prometheus has had no target of job {JOB} for {s.window(STUCK_FOR)}: "
                "firebell is not deployed, or service discovery lost it."
            ),
            runbook=(
                "Check the deployment and Prometheus' scrape config (Status > Targets); "
                "docs/metrics.md has the scrape job."
            ),
        ),
        s.alert(
            "FirebellDatabaseDown",
            f"firebell_database_up{s.selector()} == 0",
            hold=DOWN_FOR,
            severity="P1",
            summary=f"firebell {INSTANCE} cannot reach its database: it is not ready",
            description=(
                f"{INSTANCE} has not read its database for {s.window(DOWN_FOR)} "
                "(firebell_database_up 0; GET /readyz answers 503): nothing is declared, "
                "delivered or escalated until it is back."
            ),
            runbook=(
                "Check the database (DATABASE_URL) and GET /readyz on the replica, which "
                "says what is wrong; the outbox and deadlines resume on their own."
            ),
        ),
        s.alert(
            "FirebellOutboxStuck",
            f"max by (job) (firebell_outbox_oldest_age_seconds{s.selector()}) > "
            f"{number(BACKLOG_AGE.total_seconds())}",
            hold=STUCK_FOR,
            severity="P1",
            summary=(
                f"firebell's oldest undelivered message is {AS_DURATION} old: pages and "
                "messages are not going out"
            ),
            description=(
                "The oldest outbox row waiting to be delivered (firebell_outbox_oldest_age_"
                f"seconds) has been older than {prometheus_duration(BACKLOG_AGE)} for "
                f"{s.window(STUCK_FOR)}: no delivery worker is sending, or Slack keeps "
                "refusing."
            ),
            runbook=(
                "Look at firebell_outbox_pending and firebell_slack_api_calls_total by "
                "result, and the delivery worker's log lines (a row's last error is logged)."
            ),
        ),
        s.alert(
            "FirebellDeadlinesLate",
            f"histogram_quantile(0.99, sum by (job, le) ({late})) > "
            f"{number(LATENESS_P99.total_seconds())}",
            hold=STUCK_FOR,
            severity="P2",
            summary=f"firebell's deadlines fire late: p99 {AS_DURATION} after they were due",
            description=(
                "The p99 of firebell_deadline_lateness_seconds over "
                f"{s.window(WINDOW)} has been above {prometheus_duration(LATENESS_P99)} "
                f"for {s.window(STUCK_FOR)}: escalations and reminders reach people late."
            ),
            runbook=(
                "Is the database slow or the process starved (CPU)? Check the clock's log "
                "lines and the replicas' process_cpu_seconds_total."
            ),
        ),
        s.alert(
            "FirebellDeliveriesFailing",
            f"sum by (job) ({given_up}) > 0",
            hold=WINDOW,
            severity="P2",
            summary=(
                f"firebell gave up on {AS_COUNT} message(s) in the last "
                f"{s.window(FAILURE_WINDOW)}: they were never sent"
            ),
            description=(
                'Outbox rows have been given up on (firebell_deliveries_total{result="failed"}) '
                f"in every {s.window(FAILURE_WINDOW)} for {s.window(WINDOW)}: messages, pages or "
                "rollback webhooks that Slack or a receiver refused for good. A page made moot "
                "by an acknowledgement counts as failed too, so a lone one does not fire this."
            ),
            runbook=(
                "The delivery worker logs each row given up on with its error (e.g. "
                "channel_not_found, not_in_channel, invalid_auth); "
                "firebell_webhook_deliveries_total tells rollback webhooks apart."
            ),
        ),
        s.alert(
            "FirebellSlackApiFailing",
            f"sum by (job) ({failing}) / sum by (job) ({calls}) > {number(SLACK_FAILING_RATIO)}",
            hold=WINDOW,
            severity="P2",
            summary=(
                f"{AS_PERCENT} of firebell's Slack Web API calls are rate limited or unanswered"
            ),
            description=(
                "Slack Web API calls answered 429 or not at all (a timeout, a connection "
                f"error) made up more than {number(SLACK_FAILING_RATIO * 100)}% of calls over "
                f"{s.window(WINDOW)}, for {s.window(WINDOW)}: messages go out late."
            ),
            runbook=(
                "Check Slack's status page and the network path to SLACK_API_URL; "
                "firebell_slack_api_calls_total by method shows which calls suffer."
            ),
        ),
    ]
    return {"groups": [{"name": SELF_GROUP, "rules": rules}]}
