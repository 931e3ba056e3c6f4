"""Unit tests of the pure core, the config loader and the runbook index."""
