"""Platform connectors: one folder per platform behind the small interface in ``base.py``.

Connectors know their platform and the core's types; they never touch the database.
"""
