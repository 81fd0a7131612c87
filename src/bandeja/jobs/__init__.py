"""Background work: the ingest worker, the send worker, and the periodic system jobs."""
