"""Use cases: each is one function over one database transaction.

A use case changes state and writes, in the same transaction, the timeline entry, the
audit record and the outbox rows for every message the change must produce. It never
calls Slack itself.
"""
