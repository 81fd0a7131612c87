"""The domain core: models, checks, actions and queries. No HTTP, no queue, no platform."""

# Every mapper must be known before the first flush (foreign keys across domains), whichever
# part of the core a program imports first.
import bandeja.core.models  # noqa: F401
