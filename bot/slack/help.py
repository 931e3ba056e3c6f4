"""`/incident help`."""

HELP = """*firebell* - `/incident` commands
*Anywhere*
`/incident` - open the declare form
`/incident declare <P0-P3> <title> [service:<name>] [area:<name>]` - declare right away
`/incident list` - open incidents
`/incident show INC-<n>` - one incident with its timeline
`/incident oncall [team]` - who is on call now and next
`/incident help` - this list
*In an incident channel*
`/incident ack` - acknowledge: stops escalation, records who and when
`/incident sev <P0-P3>` - change the severity; deadline and paging follow
`/incident status <text>` - post a status update
`/incident lead <@user>` - set the incident lead
`/incident note <text>` - add a timeline entry
`/incident page <team or @user>` - page someone now
`/incident escalate` - page the next escalation level now
`/incident mitigated` - impact contained
`/incident resolve [summary]` - close it and post the summary
Severities: P0 total outage, P1 core feature, P2 partial, P3 minor (backlog)."""
