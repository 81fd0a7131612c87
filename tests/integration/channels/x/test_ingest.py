"""X webhooks through the real route and the ingest worker, checked in the inbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bandeja.channels.sandbox.contract import SimEcho, SimMessage
from bandeja.channels.x.fake import XFake
from bandeja.core.conversations.models import Kind
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from tests.integration.channels.x.conftest import GIULIA, LUCIA, MARCO, TOM
from tests.support.webhooks import fixture_json, fixture_names

OUR_POST = "2120063911326991041"  # the post Lucía answers in tweet_create_events__reply_to_us
GROUP = "2121558257955910337"  # direct_message_events__group's dm_conversation_id


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# What is not inbox content is counted, by reason.
IGNORED = {
    "tweet_create_events__retweet": "retweet",
    "tweet_create_events__quote": "quote",
    "tweet_create_events__blocked_user": "blocked_user",
    "favorite_events__by_us": "own_like",
    "direct_message_indicate_typing_events__typing": "typing",
    "direct_message_events__other_account": "other_account",
    "user_event__revoke": "revoked",
    "follow_events__follow": "follow",
    "block_events__block": "block",
    "mute_events__unmute": "unmute",
    "xaa_chat_received__encrypted": "encrypted_chat",
    "xaa_oauth_revoke__revoke": "revoked",
    "xaa_follow_follow__follow": "follow.follow",
    "xaa_post_create__own_post": "own_post",
    "xaa_dm_indicate_typing__typing": "typing",
    "replay_job_status__complete": "replay_job_status",
}


@pytest.mark.parametrize("name", fixture_names("x"))
async def test_every_fixture_is_accepted_and_processed(x, workers, name):
    response = await x.deliver_fixture(name)
    assert response.text == "ok"
    await workers.drain()
    raws = await x.raw_events()
    assert len(raws) == 1
    assert raws[0].status.value == "processed", raws[0].error
    ignored = await x.ignored()
    if name in IGNORED:
        assert ignored == {IGNORED[name]: 1}
        assert await x.conversations() == []
    elif not name.endswith("__read"):  # a read receipt with nothing to mark is neither
        assert await x.messages() or ignored, name


async def test_a_dm_opens_a_conversation_with_the_sender(x, workers):
    await x.deliver_fixture("direct_message_events__text")
    await workers.drain()
    conversation = await x.detail(LUCIA.id)
    assert conversation.kind is Kind.dm
    assert conversation.contact.name == "Lucía Fernández"
    [message] = await x.thread(LUCIA.id)
    assert message.direction is Direction.inbound
    assert message.text.startswith("Hola, ¿hacéis envíos a Sevilla?")
    assert message.external_id == "2120807324498031297"
    assert message.status is DeliveryStatus.received
    assert message.sent_at == at("2026-11-12T09:14:03.512")
    identity = await x.identity(LUCIA.id)
    assert (identity.handle, identity.display_name) == ("luciafdz", "Lucía Fernández")
    assert identity.avatar_url.endswith("lF7s0aQe_normal.jpg")
    assert identity.accepts_messages is True


async def test_a_dm_with_a_photo_keeps_it_and_expands_links(x, workers):
    await x.deliver_fixture("direct_message_events__media")
    await workers.drain()
    [message] = await x.thread(GIULIA.id)
    assert "https://cafeaurora.example/ordini/88213" in message.text
    assert "https://t.co/4HkQw9bZ2c" not in message.text
    assert message.text.endswith("/ordini/88213")  # the photo's own t.co link is dropped
    assert message.attachments == [
        {
            "type": "image",
            "id": message.attachments[0]["id"],
            "url": "https://pbs.twimg.com/dm_gif/1857112233445566789/pacco.jpg",
        }
    ]
    # receives_your_dm: false → the identity says so, and replies are refused (test_rules).
    assert (await x.identity(GIULIA.id)).accepts_messages is False


async def test_one_delivery_with_several_dms_lands_them_all(x, workers):
    await x.deliver_fixture("direct_message_events__batch")
    await workers.drain()
    conversations = await x.conversations()
    assert sorted(c.thread_key for c in conversations) == sorted([TOM.id, LUCIA.id])
    assert (await x.thread(TOM.id))[0].text == "Morning! Is the Bristol shop open on Sunday?"
    assert (await x.contact(TOM.id)).name == "Tom Harris"


async def test_a_group_dm_is_one_conversation_per_group(x, workers):
    await x.deliver_fixture("direct_message_events__group")
    await workers.drain()
    conversation = await x.detail(GROUP)
    assert conversation.kind is Kind.dm
    assert conversation.contact.name == "Marco Rossi"  # who wrote first
    [message] = await x.thread(GROUP)
    assert message.text.startswith("Ciao a tutti")
    assert not [c for c in await x.conversations() if c.thread_key == MARCO.id]


async def test_a_dm_sent_from_the_x_app_is_kept_as_an_outside_message(x, workers):
    await x.deliver_fixture("direct_message_events__text")
    await x.deliver_fixture("direct_message_events__sent_from_app")
    await workers.drain()
    _inbound, outbound = await x.thread(LUCIA.id)
    assert outbound.direction is Direction.outbound
    assert outbound.author_type is AuthorType.external
    assert outbound.status is DeliveryStatus.sent
    assert outbound.text.startswith("¡Hola Lucía!")
    assert len(await x.conversations()) == 1


async def test_read_receipts_mark_what_was_read_and_never_go_back(x, workers):
    await x.deliver_fixture("direct_message_events__text")
    await x.deliver_fixture("direct_message_events__sent_from_app")  # 09:31, read at 10:00
    later = SimEcho(
        person=LUCIA,
        message_id="2120827870391328769",
        text="¿Algo más?",
        at=at("2026-11-12T10:01:00"),
    )
    await x.emit(later)
    await x.deliver_fixture("direct_message_mark_read_events__read")
    await workers.drain()
    _, read, unread = await x.thread(LUCIA.id)
    assert read.status is DeliveryStatus.read
    assert unread.status is DeliveryStatus.sent  # sent after the message she read
    # The echo of the read message arrives again, late: it stays read.
    await x.emit(
        SimEcho(person=LUCIA, message_id=read.external_id, text=read.text, at=read.sent_at)
    )
    await workers.drain()
    assert (await x.message(read.id)).status is DeliveryStatus.read


async def test_a_mention_then_our_reply_a_like_and_a_delete(x, workers):
    await x.deliver_fixture("tweet_create_events__mention")
    await workers.drain()
    mention_id = "2122306215605490369"
    conversation = await x.detail(mention_id)
    assert conversation.kind is Kind.mention
    assert conversation.post_url == f"https://x.com/tomharris_uk/status/{mention_id}"
    assert conversation.contact.name == "Tom Harris"
    [mention] = await x.thread(mention_id)
    assert mention.text.startswith("@cafeaurora your delivery app keeps crashing")

    await x.deliver_fixture("tweet_create_events__own_reply")  # posted from TweetDeck
    await x.deliver_fixture("favorite_events__our_post")
    await workers.drain()
    _, reply = await x.thread(mention_id)
    assert reply.direction is Direction.outbound
    assert reply.author_type is AuthorType.external
    # The @handle X puts before a reply is outside display_text_range: not part of the text.
    assert reply.text.startswith("Sorry about that, Tom!")
    assert reply.reactions == {TOM.id: "❤️"}

    await x.deliver_fixture("tweet_delete_events__delete")
    await workers.drain()
    deleted = await x.message(mention.id)
    assert deleted.deleted_at is not None
    assert deleted.text == ""


async def test_a_reply_to_one_of_our_posts_is_threaded_under_that_post(x, workers):
    await x.deliver_fixture("tweet_create_events__reply_to_us")
    await workers.drain()
    conversation = await x.detail(OUR_POST)
    assert conversation.kind is Kind.mention
    [message] = await x.thread(OUR_POST)
    assert message.text == (
        "¡Qué pinta! ¿El menú de otoño está también en la tienda de Triana? "
        "https://cafeaurora.example/tiendas/triana"
    )
    assert message.reply_to_external_id == OUR_POST


async def test_a_long_post_arrives_whole(x, workers):
    await x.deliver_fixture("tweet_create_events__extended")
    await workers.drain()
    [message] = await x.messages()
    assert message.text.endswith("complimenti a tutto il team! ☕")
    assert len(message.text) > 280


async def test_a_mention_with_a_photo(x, workers):
    await x.deliver_fixture("tweet_create_events__photo")
    await workers.drain()
    [message] = await x.messages()
    assert message.text == "@cafeaurora il cornetto al pistacchio di oggi era perfetto 😍"
    assert message.attachments[0]["type"] == "image"
    assert message.attachments[0]["url"] == "https://pbs.twimg.com/media/GcX2pQ7WkAAm9Zr.jpg"


async def test_xaa_typing_and_read_receipts(x, workers):
    await x.deliver_fixture("xaa_dm_received__text")
    await x.deliver_fixture("xaa_dm_sent__from_app")
    await x.deliver_fixture("xaa_dm_indicate_typing__typing")
    await x.deliver_fixture("xaa_dm_read__read")
    await workers.drain()
    _, ours = await x.thread(TOM.id)
    assert ours.status is DeliveryStatus.read
    assert await x.ignored() == {"typing": 1}


async def test_xaa_dms_received_and_sent(x, workers):
    await x.deliver_fixture("xaa_dm_received__text")
    await x.deliver_fixture("xaa_dm_sent__from_app")
    await workers.drain()
    inbound, outbound = await x.thread(TOM.id)
    assert inbound.text.startswith("Hi! Do you sell gift cards?")
    assert outbound.author_type is AuthorType.external
    identity = await x.identity(TOM.id)
    assert (identity.handle, identity.accepts_messages) == ("tomharris_uk", True)


async def test_xaa_thread_groups_by_conversation_id_in_any_order(x, workers):
    # Lucía's answer arrives before her first mention: both land in one conversation.
    await x.deliver_fixture("xaa_post_reply_create__reply")
    await x.deliver_fixture("xaa_post_mention_create__mention")
    await x.deliver_fixture("xaa_post_create__own_reply")
    await workers.drain()
    root = "2123446747526701761"
    [conversation] = await x.conversations()
    assert conversation.thread_key == root
    messages = await x.thread(root)
    assert [m.direction for m in messages] == [
        Direction.inbound,
        Direction.outbound,
        Direction.inbound,
    ]
    assert messages[0].text.startswith("@cafeaurora ¿abrís en festivos?")
    assert messages[1].text == "¡Sí! Abrimos el 8 de diciembre de 9:00 a 14:00."
    assert messages[2].text == "Perfecto, ¡allí estaremos! ¿Hace falta reservar?"
    detail = await x.detail(root)
    assert detail.last_activity_at == messages[2].sent_at
    # The subject is what the first delivery knew of the post replied to.
    assert detail.subject == "¡Sí! Abrimos el 8 de diciembre de 9:00 a 14:00."

    await x.deliver_fixture("xaa_like_create__inbound")
    await x.deliver_fixture("xaa_post_delete__delete")
    await workers.drain()
    ours = await x.message(messages[1].id)
    assert ours.reactions == {LUCIA.id: "❤️"}
    assert ours.deleted_at is not None


async def test_the_same_delivery_five_times_is_one_message(x, workers):
    for _ in range(5):
        await x.deliver_fixture("direct_message_events__text")
    await workers.drain()
    assert len(await x.raw_events()) == 1
    assert len(await x.messages()) == 1


async def test_the_same_dm_in_both_formats_is_one_message(x, workers):
    message = SimMessage(
        person=TOM, message_id="2123436317852877505", text="Hi again!", at=at("2026-11-19T15:20:44")
    )
    await x.emit(message)
    await x.emit(message, fake=XFake("xaa"))
    await x.emit(message)
    await workers.drain()
    assert len(await x.raw_events()) == 2  # the two bodies differ; the message id does not
    [stored] = await x.messages()
    assert stored.text == "Hi again!"


async def test_a_like_before_the_post_is_known_is_counted_not_failed(x, workers):
    await x.deliver_fixture("favorite_events__our_post")
    await workers.drain()
    assert await x.failed_raw_events() == []
    assert await x.ignored() == {"reaction_unknown_message": 1}


async def test_a_broken_entry_does_not_take_the_delivery_with_it(x, workers):
    document = fixture_json("x", "direct_message_events__batch")
    document["direct_message_events"].insert(
        0, {"type": "message_create", "id": "1", "message_create": "surprise"}
    )
    document["direct_message_events"].append(["not", "an", "event"])
    await x.deliver(json.dumps(document).encode())
    await workers.drain()
    assert await x.failed_raw_events() == []
    assert len(await x.messages()) == 2
    assert await x.ignored() == {"malformed_dm": 2}


async def test_a_body_that_is_not_an_object_fails_and_stays_stored(x, workers):
    await x.deliver(b"[1, 2, 3]")
    await workers.drain()
    [failed] = await x.failed_raw_events()
    assert "ValueError" in (failed.error or "")
    assert await x.messages() == []
