"""All wording and Block Kit, rendered from stored facts when a message is posted or read.

Users' words are escaped here, at the last moment, and only here: whatever reaches
Slack from an entry, an incident or a page goes through one of these functions.
"""
