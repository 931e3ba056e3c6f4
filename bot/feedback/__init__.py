"""Failure cases an AI product reports (`POST /hooks/feedback`): parsed (`model`), kept
once per `ref` (`cases`), shown in Slack and the terminal (`render`, `command`)."""
