"""The sandbox: a Slack workspace in memory, its Web API over HTTP, and a browser page."""
