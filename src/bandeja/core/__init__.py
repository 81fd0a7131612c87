"""The domain core: models, checks, actions and queries. No HTTP, no queue, no platform."""
