"""Webhooks firebell sends (rollbacks) and receives (deploys), signed the standard way."""
