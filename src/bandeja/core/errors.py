"""Domain errors. The web layer maps each class to one HTTP status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller can cause; ``code`` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "permission_denied"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Conflict(DomainError):
    code = "conflict"
