"""A WhatsApp channel account, deliveries signed as Meta signs them, and reads of the inbox through
the core's queries."""

from __future__ import annotations

import hashlib
import hmac

import pytest

# Registers the connector (the registry imports every platform on first use; this keeps these
# tests independent of the other platforms' packages).
import bandeja.channels.whatsapp  # noqa: F401
from bandeja.channels.sandbox.contract import SimPerson
from bandeja.channels.whatsapp.fake import FAKE
from bandeja.core.channels.models import Platform
from tests.support.harness import ChannelHarness
from tests.support.harness import now as now  # re-exported for the tests

PHONE_ID = "114275881627340"  # the fixtures' value.metadata.phone_number_id
APP_SECRET = "6f1c0e2a9b7d4c3e8a5f2b1d0c9e8f7a"
VERIFY_TOKEN = "bandeja-verify-5Jq8"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBO7wWhatsAppTestToken"
LUCIA = SimPerson(id="34612345678", name="Lucía Fernández", handle="34612345678", language="es")
OLIVER = SimPerson(id="447700900123", name="Oliver Bennett", handle="447700900123", language="en")
GIULIA = SimPerson(id="393471234567", name="Giulia Ferrari", handle="393471234567", language="it")


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WhatsApp(ChannelHarness):
    platform = Platform.whatsapp
    fake = FAKE
    secrets = {
        "signing_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "access_token": ACCESS_TOKEN,
    }
    default_kind = None  # a thread key is a phone number: one conversation

    def signed(self, body: bytes) -> dict[str, str]:
        return {"X-Hub-Signature-256": signature(body)}


@pytest.fixture
async def wa(db, factory, client, sessions) -> WhatsApp:
    """A WhatsApp channel account (the fixtures' phone-number id) and an owner's view of it."""
    return await WhatsApp.create(
        db,
        factory,
        client,
        sessions,
        external_id=PHONE_ID,
        name="Pastelería Sol",
        credentials=dict(WhatsApp.secrets),
    )


@pytest.fixture
async def api(wa: WhatsApp) -> WhatsApp:
    """``wa`` with an owner's API token, for the JSON API."""
    return await wa.with_owner()


@pytest.fixture
def sandbox(wa: WhatsApp, workers):
    """The in-process sandbox of ``workers``, playing WhatsApp for ``wa``'s channel."""
    state = workers.sandbox
    state.add_channel(wa.sandbox_channel())
    for person in (LUCIA, OLIVER, GIULIA):
        state.add_person(Platform.whatsapp, person)
    return state
