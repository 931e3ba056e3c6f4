"""The weekly failure review: the week's incidents, misses, repeats, rollbacks, follow-ups
and trend, scheduled as a deadline row and posted to the review channel (issue 15)."""
