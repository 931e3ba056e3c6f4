"""Service level objectives as Prometheus rules (issue 17)."""
