"""Persistence: SQLModel tables, the engine, and the queries use cases share."""
