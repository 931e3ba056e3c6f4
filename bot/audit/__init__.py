"""The tamper-evident audit trail: every action as a hash-chained record (`trail` writes,
`chain` hashes and verifies, `prune` applies retention, `command` reads in the terminal)."""
