"""Storage: engine, sessions, column types and Alembic migrations. Knows nothing of the domain."""
