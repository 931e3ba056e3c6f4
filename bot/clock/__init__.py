"""The clock of every schedule: deadline rows, a registry of what each kind does, and
the APScheduler jobs that wake a process when one comes due."""
