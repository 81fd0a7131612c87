"""Saved replies: canned answers with per-language variants and safe variables."""
