"""Integration tests create many users; Argon2 at production cost (~0.13 s each) is not what
they test. Hashes made here use the cheapest parameters, and still verify like real ones (the
parameters travel inside the hash). ``tests/unit`` keeps the production cost."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from bandeja.core import security
from bandeja.core.users import actions as user_actions

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_actions, "hash_password", FAST_HASHER.hash)
    # Logins with unknown e-mails verify against a dummy hash: cheap too.
    monkeypatch.setattr(security, "_DUMMY_HASH", FAST_HASHER.hash("dummy"))
