"""Monitoring payloads (Alertmanager, Grafana) as plain values: `bot.integrations.model`."""
