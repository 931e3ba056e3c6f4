"""Outbox delivery: workers that claim rows, send them to Slack, and settle them."""
