"""Passwords, opaque tokens and secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

_hasher = PasswordHasher()

# Verifying against this keeps the time of a login for an unknown e-mail equal to a known one.
_DUMMY_HASH = _hasher.hash("not a password anybody has")

TOKEN_PREFIX = "bdj_"  # noqa: S105 - a label that makes leaked tokens easy to spot


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """API and session tokens carry 256 random bits: a fast hash is enough and keeps auth cheap."""
    return hashlib.sha256(token.encode()).hexdigest()


class SecretBox:
    """Encrypts platform credentials with a key derived from the settings' secret key."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"bandeja-secrets:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured secret key") from exc
