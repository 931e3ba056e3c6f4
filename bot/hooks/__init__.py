"""`POST /hooks/*`: reports from pipelines and monitoring, authenticated, then recorded."""
