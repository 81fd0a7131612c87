"""The ``bandeja`` command."""
