"""A Facebook Page connected to Bandeja, deliveries signed as Meta signs them, the in-process
sandbox playing the Graph API, and reads of what landed in the inbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

# Registers the connector. The registry imports every platform on first use; registering this
# one first keeps these tests independent of the other platforms' packages.
import bandeja.channels.messenger  # noqa: F401
from bandeja.channels.messenger import profiles
from bandeja.channels.messenger.fake import FAKE
from bandeja.channels.sandbox.contract import SimPerson
from bandeja.channels.sandbox.state import SandboxState
from bandeja.core.channels.models import Platform
from bandeja.core.messages.schemas import MessageOut
from tests.support.harness import ChannelHarness

# The ids the fixtures use (tests/fixtures/channels/messenger/).
PAGE_ID = "104857600123456"
PAGE_NAME = "Horno Bandeja"
APP_SECRET = "3f9c2b7e1a6d4c8b9e0f1a2b3c4d5e6f"
VERIFY_TOKEN = "bandeja-verify-Hq7Zp"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAHornoBandejaPageToken"
LUCIA_ID, OLIVIA_ID, GIULIA_ID = "7234561098765432", "6123450987654321", "5012349876543210"
MID_TEXT = (
    "m_Hq0tlCbY2nqsC9ZQ3rF7jWkLxV1pD8eR4uT6yI0oP2aS5dF7gH9jK1lZ3xC5vB7nM9qW2eR4tY6uI8oP0aS2dF4g"
)
MID_OUT = (
    "m_Pf2kR8sT1uV4wX7yZ0aB3cD6eF9gH2iJ5kL8mN1oP4qR7sT0uV3wX6yZ9aB2cD5eF8gH1iJ4kL7mN0oP3qR6sT9u"
)
POST_ID = f"{PAGE_ID}_1122334455667788"
TOP_COMMENT = "1122334455667788_2233445566778899"
REPLY_COMMENT = "1122334455667788_3344556677889900"
PAGE_REPLY = "1122334455667788_4455667788990011"
OLIVIA_FB = "8765432109876543"  # Olivia's id on Page comments (not her PSID)

LUCIA = SimPerson(id=LUCIA_ID, name="Lucía Fernández", handle="lucia.fernandez", language="es")
OLIVIA = SimPerson(id=OLIVIA_ID, name="Olivia Bennett", handle="olivia.bennett", language="en")
GIULIA = SimPerson(id=GIULIA_ID, name="Giulia Ferrari", handle="giulia.ferrari", language="it")


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


@pytest.fixture(autouse=True)
def _fresh_platform_memory():
    """The profile cache and the fake's memory are per process; tests start without them."""
    profiles.clear_cache()
    FAKE.reset()
    yield
    profiles.clear_cache()
    FAKE.reset()


class Page(ChannelHarness):
    """The Page's harness processes every delivery: ``emit`` and the ``deliver_*`` helpers run
    the workers before returning."""

    platform = Platform.messenger
    fake = FAKE
    secrets = {
        "signing_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "access_token": ACCESS_TOKEN,
    }
    lazy_owner = True
    drain = True

    @property
    def sandbox(self) -> SandboxState:
        return self.workers.sandbox  # type: ignore[no-any-return]

    def signed(self, body: bytes) -> dict[str, str]:
        return {"X-Hub-Signature-256": signature(body)}

    async def deliver_fixtures(self, *names: str) -> None:
        """Deliver fixtures in this order, each processed before the next arrives."""
        for name in names:
            await self.deliver_fixture(name)
            await self.workers.drain()

    async def deliver_json(self, data: dict[str, Any]) -> None:
        response = await self.deliver(payload(data))
        assert response.status_code == 200, response.text
        await self.workers.drain()

    async def echo_sends(self) -> None:
        """Deliver what Messenger reports back after every send so far (echo, delivery, read)."""
        for record in list(self.sandbox.sent):
            await self.emit(*FAKE.echoes(self.sandbox_channel(), record))

    async def by_id(self, message_id: int) -> MessageOut:
        return await self.message(message_id)


@pytest.fixture
async def page(db, factory, client, workers, sessions) -> Page:
    result = await Page.create(
        db,
        factory,
        client,
        sessions,
        external_id=PAGE_ID,
        name=PAGE_NAME,
        credentials=dict(Page.secrets),
        workers=workers,
    )
    result.sandbox.add_channel(result.sandbox_channel())
    return result


def now() -> datetime:
    return datetime.now(UTC)
