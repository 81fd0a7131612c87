"""An Instagram channel account, deliveries signed as Meta signs them, and reads of what landed
in the inbox (through the core's models and queries, each in a fresh session)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import select, update

import bandeja.channels.instagram  # noqa: F401 - registers the connector
from bandeja.channels.instagram.fake import FAKE
from bandeja.channels.sandbox.contract import SimPerson
from bandeja.core.channels.models import Platform
from bandeja.core.ingest.models import RawEvent, RawEventStatus
from bandeja.core.messages.models import Message
from tests.support.harness import ChannelHarness

ACCOUNT = "17841405822304914"  # the fixtures' entry[].id: @bottega.aurora
APP_SECRET = "9c4e2b7a1f0d4e6b8a3c5d7e9f1b2a4c"
VERIFY_TOKEN = "bandeja-ig-verify-7Hq2"
ACCESS_TOKEN = "EAAJx7ZBInstagramTestTokenBandeja0123"

# The people of the fixtures (IGSIDs as in the files).
LUCIA = SimPerson(id="6523081971089342", name="Lucía Fernández", handle="lucia.fdez", language="es")
GIULIA = SimPerson(
    id="7181960392514783", name="Giulia Ferrari", handle="giulia_ferrari", language="it"
)
OLIVIA = SimPerson(
    id="5920476613847259", name="Olivia Bennett", handle="olivia.bennett", language="en"
)


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Instagram(ChannelHarness):
    platform = Platform.instagram
    fake = FAKE
    secrets = {
        "signing_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "access_token": ACCESS_TOKEN,
    }
    # API auth of the workspace's owner, created on first use (only the tests that use the API
    # pay for it).
    lazy_owner = True

    def signed(self, body: bytes) -> dict[str, str]:
        return {"X-Hub-Signature-256": signature(body)}

    async def all_messages(self) -> list[Message]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Message)
                .where(Message.channel_account_id == self.channel.id)
                .order_by(Message.id)
            )
            return list(rows.scalars())

    async def make_due(self) -> int:
        """Deliveries waiting for a message not stored yet: due now (as if their wait passed)."""
        async with self.sessions() as session:
            result = await session.execute(
                update(RawEvent)
                .where(
                    RawEvent.channel_account_id == self.channel.id,
                    RawEvent.status == RawEventStatus.pending,
                )
                .values(retry_at=None)
            )
            await session.commit()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


@pytest.fixture
async def ig(db, factory, client, sessions) -> Instagram:
    return await Instagram.create(
        db,
        factory,
        client,
        sessions,
        external_id=ACCOUNT,
        name="@bottega.aurora",
        credentials=dict(Instagram.secrets),
    )


@pytest.fixture
def sandbox(ig, workers):
    """The in-process sandbox of ``workers`` plays Instagram for ``ig``'s account: it knows the
    channel (its token), and the people of the fixtures."""
    state = workers.sandbox
    state.add_channel(ig.sandbox_channel())
    for person in (LUCIA, GIULIA, OLIVIA):
        state.add_person(Platform.instagram, person)
    return state
