"""Bandeja: a self-hosted unified social inbox."""

__version__ = "0.1.0"
