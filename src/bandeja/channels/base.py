"""The interface every platform connector implements, and the types it exchanges.

A connector is stateless: the channel account's configuration and secrets are passed in. It
  - answers the platform's webhook handshake (``handshake``),
  - checks a delivery's signature over the raw body, in constant time (``verify``),
  - turns a verified body into the core's platform events (``parse``; ``expand`` may call the
    platform's API when a notification carries only ids, as LinkedIn's do),
  - judges a reply against the platform's rules (``check_reply``),
  - sends a reply with the platform's real request shape (``send``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import PlatformEvent
from bandeja.core.outbox.types import ReplyContext, RuleViolation, Template


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """A channel account as a connector sees it (secrets decrypted, no database handle)."""

    id: int
    workspace_id: int
    platform: Platform
    external_id: str
    name: str
    secrets: Mapping[str, str]
    settings: Mapping[str, Any]

    @property
    def signing_secret(self) -> str:
        return self.secrets.get("signing_secret", "")

    def api_base_url(self, default: str) -> str:
        return str(self.settings.get("api_base_url") or default).rstrip("/")


class WebhookRejected(Exception):
    """A delivery that is not authentic or not for this channel account (HTTP 401/403)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class HandshakeReply:
    status: int
    body: str
    media_type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class SendRequest:
    """One outbound message, as the send worker hands it to a connector."""

    message_id: int
    idempotency_key: str
    text: str
    kind: Kind
    thread_key: str
    recipient_id: str  # the contact's id on the platform (PSID, IGSID, wa_id, user id, chat id)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # For comments and mentions: the platform id of the customer message being answered.
    reply_to_external_id: str | None = None
    # Private reply by DM to this comment (Messenger/Instagram).
    private_reply_to_external_id: str | None = None
    tag: str | None = None
    template: Template | None = None
    extra_recipients: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SendResult:
    external_id: str | None
    recipient_id: str | None = None


class SendError(Exception):
    """The platform did not take the message.

    ``retryable``: nothing was delivered and trying later may work (429, 5xx, connection refused).
    ``ambiguous``: the platform may have accepted it (a timeout after the request was sent); the
    worker then never retries on its own.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class Connector:
    platform: ClassVar[Platform]
    default_api_base_url: ClassVar[str] = ""

    def handshake(self, channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply | None:
        """Answer a GET on the webhook URL; None: this platform has no handshake (405)."""
        return None

    def verify(self, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
        raise NotImplementedError

    def parse(self, channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
        raise NotImplementedError

    def accounts_in(self, body: bytes) -> set[str]:
        """The external ids of the accounts a delivery is about, when one webhook URL can carry
        several (a Meta app subscribes all its Pages or numbers to one callback URL). Empty:
        only the channel account of the URL."""
        return set()

    async def expand(
        self, client: httpx.AsyncClient, channel: ChannelConfig, events: Sequence[PlatformEvent]
    ) -> list[PlatformEvent]:
        return list(events)

    def check_reply(self, context: ReplyContext) -> list[RuleViolation]:
        raise NotImplementedError

    async def send(
        self, client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
    ) -> SendResult:
        raise NotImplementedError


# --- helpers shared by connectors --------------------------------------------------------------


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two signatures."""
    return hmac.compare_digest(a.encode(), b.encode())


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (Starlette's headers are, a plain dict is not)."""
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lower), None)


def from_millis(value: int | str | float) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def from_seconds(value: int | str | float) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def send_error_from_response(
    response: httpx.Response, *, code: str | None = None, message: str | None = None
) -> SendError:
    """The usual mapping of an HTTP failure: 429 and 5xx retry (honouring Retry-After)."""
    status = response.status_code
    retry_after: float | None = None
    raw = response.headers.get("retry-after")
    if raw:
        try:
            retry_after = float(raw)
        except ValueError:
            retry_after = None
    retryable = status == 429 or status >= 500
    return SendError(
        code or f"http_{status}",
        message or response.text[:500],
        retryable=retryable,
        retry_after=retry_after,
    )
