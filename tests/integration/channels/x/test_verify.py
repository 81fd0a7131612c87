"""X's CRC handshake and delivery signatures, through the real webhook route."""

from __future__ import annotations

from bandeja.core.channels.models import Platform
from tests.integration.channels.x.conftest import CONSUMER_SECRET, signature
from tests.support.webhooks import fixture

# Computed with openssl, independently of Python:
#   printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$CONSUMER_SECRET" -binary | base64
BODY = b'{"for_user_id":"1587346721094627328","direct_message_indicate_typing_events":[]}'
BODY_SIGNATURE = "sha256=yeCfKFl5BUKqeyCuGFvEUPqsggYz5vHw+DnNjK3hryk="
CRC_TOKEN = "b3c1d3b2-6f0e-4a4e-9b1a-crc-token"
CRC_RESPONSE = "sha256=poGrb6yQOXfwVOXZWAnCVveGlsg9QNxWPdKOQpnsWGk="


async def test_crc_answers_the_hmac_of_the_token_as_json(x):
    response = await x.client.get(f"/webhooks/x/{x.channel.id}", params={"crc_token": CRC_TOKEN})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"response_token": CRC_RESPONSE}


async def test_crc_without_a_token_is_a_bad_request(x):
    response = await x.client.get(f"/webhooks/x/{x.channel.id}")
    assert response.status_code == 400


async def test_crc_for_a_channel_of_another_platform_is_not_found(x, factory, db):
    other = await factory.channel(await factory.workspace(), Platform.telegram)
    await db.commit()
    response = await x.client.get(f"/webhooks/x/{other.id}", params={"crc_token": CRC_TOKEN})
    assert response.status_code == 404


async def test_a_known_signature_vector_is_accepted(x, workers):
    assert signature(BODY) == BODY_SIGNATURE
    response = await x.deliver(BODY, {"x-twitter-webhooks-signature": BODY_SIGNATURE})
    assert response.status_code == 200
    await workers.drain()
    assert await x.ignored() == {"empty:direct_message_indicate_typing_events": 1}


async def test_the_prefix_is_case_insensitive_but_the_base64_is_not(x):
    ok = await x.deliver(BODY, {"x-twitter-webhooks-signature": "SHA256=" + BODY_SIGNATURE[7:]})
    assert ok.status_code == 200
    swapped = BODY_SIGNATURE[:7] + BODY_SIGNATURE[7:].swapcase()
    bad = await x.deliver(BODY, {"x-twitter-webhooks-signature": swapped})
    assert bad.status_code == 401


async def test_unsigned_or_badly_signed_deliveries_are_refused_and_not_stored(x, workers):
    body = fixture("x", "direct_message_events__text")
    bad = {"x-twitter-webhooks-signature": signature(body + b" ")}
    wrong_secret = {"x-twitter-webhooks-signature": signature(body, "not-the-consumer-secret")}
    missing: list[dict[str, str]] = [
        {},
        {"x-twitter-webhooks-signature": ""},
        {"x-hub-signature-256": "sha256=" + "0" * 64},  # Meta's header is not X's
    ]
    for headers in (bad, wrong_secret, *missing):
        response = await x.deliver(body, headers)
        assert response.status_code == 401, headers
    await workers.drain()
    assert await x.raw_events() == []
    assert await x.messages() == []
    assert await x.ignored() == {
        "rejected:bad signature": 2,
        "rejected:missing x-twitter-webhooks-signature": 3,
    }


async def test_a_tampered_body_is_refused(x, workers):
    body = fixture("x", "direct_message_events__text")
    tampered = body.replace(b"dos bolsas", b"diez bolsas")
    assert tampered != body
    response = await x.deliver(tampered, {"x-twitter-webhooks-signature": signature(body)})
    assert response.status_code == 401
    assert await x.raw_events() == []


async def test_a_channel_without_consumer_secret_refuses_everything(factory, db, client):
    ws = await factory.workspace()
    channel = await factory.channel(
        ws, Platform.x, external_id="1587346721094627328", credentials={"access_token": "t"}
    )
    await db.commit()
    response = await client.post(
        f"/webhooks/x/{channel.id}",
        content=BODY,
        headers={"x-twitter-webhooks-signature": signature(BODY, "")},
    )
    assert response.status_code == 403
    crc = await client.get(f"/webhooks/x/{channel.id}", params={"crc_token": CRC_TOKEN})
    assert crc.status_code == 403
    assert CONSUMER_SECRET not in crc.text
