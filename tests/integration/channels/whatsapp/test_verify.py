"""Meta's webhook handshake and X-Hub-Signature-256, through the real webhook route."""

from __future__ import annotations

import pytest

from bandeja.channels.base import ChannelConfig, WebhookRejected
from bandeja.channels.whatsapp import CONNECTOR
from bandeja.core.channels.models import Platform
from tests.support.webhooks import fixture

from .conftest import APP_SECRET, PHONE_ID, VERIFY_TOKEN, signature

# An independent vector (computed with `openssl dgst -sha256 -hmac`), so the scheme itself is
# pinned: lowercase hex HMAC-SHA256 of the raw bytes, prefixed "sha256=".
VECTOR_BODY = b'{"object":"whatsapp_business_account","entry":[]}'
VECTOR_SIGNATURE = "sha256=9d568a77660208d6943cc506f9d9e182d6eda906804f355a801cebdddac84ed4"


def config(secret: str = APP_SECRET) -> ChannelConfig:
    return ChannelConfig(
        id=1,
        workspace_id=1,
        platform=Platform.whatsapp,
        external_id=PHONE_ID,
        name="Pastelería Sol",
        secrets={"signing_secret": secret},
        settings={},
    )


def test_signature_vector():
    assert signature(VECTOR_BODY) == VECTOR_SIGNATURE
    CONNECTOR.verify(config(), {"x-hub-signature-256": VECTOR_SIGNATURE}, VECTOR_BODY)
    CONNECTOR.verify(
        config(),
        {"X-Hub-Signature-256": VECTOR_SIGNATURE.upper().replace("SHA256=", "sha256=")},
        VECTOR_BODY,
    )


@pytest.mark.parametrize(
    ("headers", "body", "secret", "reason"),
    [
        (
            {"X-Hub-Signature-256": VECTOR_SIGNATURE},
            VECTOR_BODY + b" ",
            APP_SECRET,
            "bad signature",
        ),
        ({"X-Hub-Signature-256": VECTOR_SIGNATURE}, VECTOR_BODY, "another-secret", "bad signature"),
        ({"X-Hub-Signature-256": VECTOR_SIGNATURE[7:]}, VECTOR_BODY, APP_SECRET, "bad signature"),
        (
            {"X-Hub-Signature": VECTOR_SIGNATURE},
            VECTOR_BODY,
            APP_SECRET,
            "missing X-Hub-Signature-256",
        ),
    ],
)
def test_signature_refusals(headers, body, secret, reason):
    with pytest.raises(WebhookRejected) as refused:
        CONNECTOR.verify(config(secret), headers, body)
    assert refused.value.reason == reason


async def test_signed_delivery_is_stored(wa):
    response = await wa.deliver(fixture("whatsapp", "message__text"))
    assert (response.status_code, response.text) == (200, "ok")
    assert len(await wa.raw_events()) == 1


async def test_bad_signatures_are_refused_and_nothing_is_stored(wa, workers):
    body = fixture("whatsapp", "message__text")
    refused = [
        {"X-Hub-Signature-256": signature(body + b"tampered")},
        {"X-Hub-Signature-256": signature(body, "wrong-app-secret")},
        {"X-Hub-Signature-256": "sha1=" + signature(body)[7:]},
        {"X-Hub-Signature-256": ""},
        {},
    ]
    for headers in refused:
        response = await wa.deliver(body, headers)
        assert response.status_code == 401, headers
    await workers.drain()
    assert await wa.raw_events() == []
    assert await wa.messages() == []
    assert await wa.ignored() == {
        "rejected:bad signature": 3,
        "rejected:missing X-Hub-Signature-256": 2,
    }


async def test_tampered_body_with_the_original_signature(wa):
    body = fixture("whatsapp", "message__text")
    forged = body.replace(b"una tarta", b"diez tartas")
    response = await wa.deliver(forged, {"X-Hub-Signature-256": signature(body)})
    assert response.status_code == 401
    assert await wa.raw_events() == []


async def test_handshake_echoes_the_challenge(wa):
    response = await wa.client.get(
        f"/webhooks/whatsapp/{wa.channel.id}",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert (response.status_code, response.text) == (200, "1158201444")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
async def test_handshake_refused(wa, params):
    response = await wa.client.get(f"/webhooks/whatsapp/{wa.channel.id}", params=params)
    assert response.status_code == 403
    assert "1" not in response.text


async def test_a_delivery_to_another_platforms_url_is_not_found(wa):
    body = fixture("whatsapp", "message__text")
    response = await wa.client.post(
        f"/webhooks/messenger/{wa.channel.id}",
        content=body,
        headers={"X-Hub-Signature-256": signature(body)},
    )
    assert response.status_code == 404
