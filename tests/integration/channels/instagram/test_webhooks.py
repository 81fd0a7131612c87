"""Instagram webhooks through the real route: signed deliveries, stored, processed by the ingest
worker, and what they leave in the inbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from bandeja.channels.sandbox.contract import SimMessage
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.models import RawEventStatus
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction, Message
from tests.integration.channels.instagram.conftest import (
    ACCOUNT,
    GIULIA,
    LUCIA,
    OLIVIA,
    VERIFY_TOKEN,
    signature,
)
from tests.support.webhooks import fixture, fixture_json, fixture_names

FIXTURES = fixture_names("instagram")


def mid(name: str, index: int = 0) -> str:
    """The mid of the ``index``-th messaging item of a fixture."""
    body = fixture_json("instagram", name)
    item = body["entry"][0]["messaging"][index]
    for key in ("message", "message_edit", "reaction", "read", "postback"):
        if key in item:
            return str(item[key]["mid"])
    raise KeyError(name)


def millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def test_there_is_a_fixture_per_event_and_variant():
    assert len(FIXTURES) >= 40
    assert all("__" in name for name in FIXTURES)


# What each fixture leaves on its own, in an empty inbox: (messages stored, ignored counters).
# An event about a message the inbox does not have waits for it (see the tests below); once
# time has passed (``drain`` settles), it is counted.
ALONE: dict[str, tuple[int, dict[str, int]]] = {
    "messages__batch": (3, {}),
    "messages__deleted": (0, {"delete_unknown_message": 1}),
    "messages__unsupported": (0, {"unsupported_message": 1}),
    "message_edit__text": (0, {"edit_unknown_message": 1}),
    "message_edit__num_edit_zero": (0, {"edit_without_change": 1}),
    "message_reactions__react": (0, {"reaction_unknown_message": 1}),
    "message_reactions__unreact": (0, {"reaction_unknown_message": 1}),
    "messaging_seen__mid": (0, {"status_unknown_message": 1}),
    "messaging_seen__watermark": (0, {}),
    "messaging_referral__ig_me": (0, {"referral": 1}),
    "messaging_handover__pass_thread_control": (0, {"handover": 1}),
    "standby__message": (0, {"standby": 1}),
    "story_insights__metrics": (0, {"story_insights": 1}),
    "comments__own_top_level": (0, {"own_comment": 1}),
    "comments__own_reply": (0, {"echo_without_thread": 1}),
    "envelope__other_account": (0, {"entry_for_other_account": 1}),
    "envelope__page_object": (0, {"object_not_instagram": 1}),
}


@pytest.mark.parametrize("name", FIXTURES)
async def test_every_fixture_is_accepted_and_processed(ig, workers, name):
    response = await ig.deliver_fixture(name)
    assert response.text == "ok"
    await workers.drain()
    raws = await ig.raw_events()
    assert [(r.status, r.error) for r in raws] == [(RawEventStatus.processed, None)]
    stored, ignored = ALONE.get(name, (1, {}))
    assert len(await ig.all_messages()) == stored
    assert await ig.ignored() == ignored


# --- direct messages ---------------------------------------------------------------------------


async def test_text_dm_opens_a_dm_conversation_with_the_person(ig, workers):
    await ig.deliver_fixture("messages__text")
    await workers.drain()
    conversation = await ig.conversation(LUCIA.id, Kind.dm)
    [message] = await ig.messages(conversation.id)
    assert message.text.startswith("Hola, ¿tenéis la chaqueta vaquera en talla M?")
    assert message.text.endswith("😍")
    assert message.direction is Direction.inbound
    assert message.status is DeliveryStatus.received
    assert message.external_id == mid("messages__text")
    assert message.sent_at == millis(1773158712000)
    identity, contact = await ig.identity_and_contact(LUCIA.id)
    # No sandbox plays Instagram here: the profile read fails and the IGSID stays the name.
    assert contact.name == LUCIA.id
    assert identity.display_name is None
    assert conversation.contact_id == contact.id
    assert conversation.last_inbound_at == message.sent_at


async def test_dm_sender_name_and_username_come_from_the_profile_api(ig, workers, sandbox):
    await ig.deliver_fixture("messages__text")
    await workers.drain()
    identity, contact = await ig.identity_and_contact(LUCIA.id)
    assert contact.name == "Lucía Fernández"
    assert (identity.display_name, identity.handle) == ("Lucía Fernández", "lucia.fdez")


async def test_profiles_are_not_read_when_the_channel_says_so(ig, workers, sandbox):
    await ig.set_settings(fetch_profiles=False)
    await ig.deliver_fixture("messages__text")
    await workers.drain()
    _, contact = await ig.identity_and_contact(LUCIA.id)
    assert contact.name == LUCIA.id


async def test_a_batch_delivers_every_entry_and_item(ig, workers):
    await ig.deliver_fixture("messages__batch")
    await workers.drain()
    giulia = await ig.conversation(GIULIA.id, Kind.dm)
    olivia = await ig.conversation(OLIVIA.id, Kind.dm)
    assert [m.text for m in await ig.messages(giulia.id)] == [
        "Buongiorno! Spedite anche in Italia?",
        "E quanto costa la spedizione?",
    ]
    assert [m.text for m in await ig.messages(olivia.id)] == ["Hi! Do you have a store in London?"]
    assert giulia.last_message_preview == "E quanto costa la spedizione?"


LOOKASIDE = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="


SHAPES = {  # fixture: (text, attachments without their URLs)
    "messages__image": ("", [{"type": "image"}]),
    "messages__video": ("", [{"type": "video"}]),
    "messages__audio": ("", [{"type": "audio"}]),
    "messages__file": ("", [{"type": "file"}]),
    "messages__share": ("", [{"type": "share"}]),
    "messages__story_mention": ("", [{"type": "story_mention"}]),
    "messages__ig_post": (
        "Questa borsa è ancora disponibile?",
        [
            {
                "type": "post",
                "media_id": "18139494541428835",
                "title": "Nuova collezione primavera: borse in pelle fatte a mano 🌸",
            }
        ],
    ),
    "messages__ig_reel": (
        "",
        [
            {
                "type": "reel",
                "reel_video_id": "18066409867531920",
                "title": "Behind the scenes of our spring shoot ✨",
            }
        ],
    ),
    "messages__reel": ("Mira este reel", [{"type": "reel", "reel_video_id": "17854360229135492"}]),
    "messages__reply_to_story": (
        "Che bello questo colore! 😍",
        [{"type": "story_reply", "story_id": "18021936688491207"}],
    ),
    "messages__like_heart": ("❤️", []),
    "messages__quick_reply": ("Track my order", []),
    "messages__ad_referral": ("Hola, me interesa la oferta del anuncio", []),
}


async def test_message_shapes_become_text_and_attachments(ig, workers):
    for name in SHAPES:
        await ig.deliver_fixture(name)
    await workers.drain()
    for name, (text, attachments) in SHAPES.items():
        message = await ig.message(mid(name))
        assert message is not None, name
        assert message.text == text, name
        assert len(message.attachments) == len(attachments), name
        for got, expected in zip(message.attachments, attachments, strict=True):
            assert got.items() >= expected.items(), name
            assert got["url"].startswith(LOOKASIDE), name
    # What a message carries besides its content is kept.
    quick = await ig.message(mid("messages__quick_reply"))
    assert quick is not None
    assert quick.extra == {"quick_reply_payload": "TRACK_ORDER"}
    from_ad = await ig.message(mid("messages__ad_referral"))
    assert from_ad is not None
    assert from_ad.extra["referral"] == {
        "source": "ADS",
        "type": "OPEN_THREAD",
        "ref": "spring_sale",
        "ad_id": "120208734561230045",
        "ad_title": "Rebajas de primavera",
    }
    olivia = await ig.conversation(OLIVIA.id, Kind.dm)
    assert olivia.message_count == 5
    giulia = await ig.conversation(GIULIA.id, Kind.dm)
    assert giulia.last_message_preview == "Che bello questo colore! 😍"


async def test_a_message_with_attachments_only_shows_their_kinds(ig, workers):
    await ig.deliver_fixture("messages__story_mention")
    await workers.drain()
    conversation = await ig.conversation(GIULIA.id, Kind.dm)
    assert conversation.last_message_preview == "[story_mention]"


async def test_a_reply_to_a_message_keeps_what_it_answers(ig, workers):
    await ig.deliver_fixture("messages__text")
    await ig.deliver_fixture("messages__reply_to_message")
    await workers.drain()
    conversation = await ig.conversation(LUCIA.id, Kind.dm)
    first, second = await ig.messages(conversation.id)
    assert second.reply_to_external_id == first.external_id == mid("messages__text")


async def test_the_dashboard_test_event_in_changes_is_a_message(ig, workers):
    await ig.deliver_fixture("messages__in_changes")
    await workers.drain()
    [message] = await ig.messages((await ig.conversation(OLIVIA.id, Kind.dm)).id)
    assert message.text == "Testing from the App Dashboard: is anyone there?"


async def test_ice_breaker_postback_is_what_the_person_said(ig, workers):
    await ig.deliver_fixture("messaging_postbacks__icebreaker")
    await workers.drain()
    [message] = await ig.messages((await ig.conversation(GIULIA.id, Kind.dm)).id)
    assert message.text == "Quali sono gli orari del negozio?"
    assert message.attachments == []
    stored = await ig.message(message.external_id or "")
    assert stored is not None
    assert stored.extra == {"postback_payload": "ICEBREAKER_HOURS"}
    assert message.direction is Direction.inbound


async def test_echo_from_the_instagram_app_is_stored_as_sent_outside_bandeja(ig, workers):
    await ig.deliver_fixture("messages__batch")
    await ig.deliver_fixture("messages__echo")
    await workers.drain()
    conversation = await ig.conversation(OLIVIA.id, Kind.dm)
    inbound, echo = await ig.messages(conversation.id)
    assert inbound.direction is Direction.inbound
    assert echo.direction is Direction.outbound
    assert echo.author_type is AuthorType.external
    assert echo.status is DeliveryStatus.sent
    assert echo.external_id == mid("messages__echo")
    assert echo.text.startswith("Hi Olivia! Yes, our London store")
    assert conversation.last_outbound_at == echo.sent_at


async def test_unsent_message_keeps_that_it_existed_but_not_its_text(ig, workers):
    await ig.deliver_fixture("messages__batch")
    await ig.deliver_fixture("messages__deleted")
    await workers.drain()
    deleted = await ig.message(mid("messages__deleted"))
    assert deleted is not None
    assert deleted.deleted_at == millis(1773158972000)
    assert deleted.text == ""
    kept = await ig.message(mid("messages__batch"))
    assert kept is not None
    assert kept.text == "Buongiorno! Spedite anche in Italia?"


async def test_edit_changes_the_text_and_a_zero_edit_changes_nothing(ig, workers):
    await ig.deliver_fixture("messages__text")
    await ig.deliver_fixture("message_edit__text")
    await workers.drain()
    message = await ig.message(mid("messages__text"))
    assert message is not None
    assert "talla L" in message.text
    assert message.edited_at == millis(1773158992000)
    await ig.deliver_fixture("message_edit__num_edit_zero")
    await workers.drain()
    again = await ig.message(mid("messages__text"))
    assert again is not None
    assert "talla L" in again.text
    assert again.edited_at == message.edited_at
    assert (await ig.ignored())["edit_without_change"] == 1


async def test_edits_arriving_out_of_order_keep_the_latest(ig, workers):
    await ig.deliver_fixture("messages__text")
    body = fixture_json("instagram", "message_edit__text")
    item = body["entry"][0]["messaging"][0]
    first, second = json.loads(json.dumps(body)), json.loads(json.dumps(body))
    first["entry"][0]["messaging"][0] = {
        **item,
        "timestamp": item["timestamp"] - 5_000,
        "message_edit": {**item["message_edit"], "num_edit": 1, "text": "first edit"},
    }
    second["entry"][0]["messaging"][0] = {
        **item,
        "message_edit": {**item["message_edit"], "num_edit": 2, "text": "second edit"},
    }
    await ig.deliver(json.dumps(second).encode())
    await ig.deliver(json.dumps(first).encode())
    await workers.drain()
    message = await ig.message(mid("messages__text"))
    assert message is not None
    assert message.text == "second edit"


async def test_reactions_are_added_and_removed_per_person(ig, workers):
    await ig.deliver_fixture("messages__echo")
    await ig.deliver_fixture("message_reactions__react")
    await workers.drain()
    echo = await ig.message(mid("messages__echo"))
    assert echo is not None
    assert echo.reactions == {OLIVIA.id: "❤️"}
    await ig.deliver_fixture("message_reactions__unreact")
    await workers.drain()
    echo = await ig.message(mid("messages__echo"))
    assert echo is not None
    assert echo.reactions == {}


async def test_seen_marks_that_message_read(ig, workers):
    await ig.deliver_fixture("messages__echo")
    await ig.deliver_fixture("messaging_seen__mid")
    await workers.drain()
    echo = await ig.message(mid("messages__echo"))
    assert echo is not None
    assert echo.status is DeliveryStatus.read


async def test_seen_watermark_reads_everything_sent_before_it(ig, workers):
    await ig.deliver_fixture("messages__echo")  # sent at T0 + 250 s; the watermark is T0 + 319 s
    await ig.deliver_fixture("messaging_seen__watermark")
    await workers.drain()
    echo = await ig.message(mid("messages__echo"))
    assert echo is not None
    assert echo.status is DeliveryStatus.read


async def test_an_event_about_a_message_never_seen_waits_then_is_counted(ig, workers):
    await ig.deliver_fixture("messaging_seen__mid")
    await workers.drain(settle=False)
    [raw] = await ig.raw_events()
    assert raw.status is RawEventStatus.pending
    assert raw.error is not None
    assert raw.error.startswith("waiting: status_unknown_message: ")
    assert await ig.ignored() == {}
    rounds = 0
    while await ig.make_due():
        await workers.drain(settle=False)
        rounds += 1
    assert rounds == 5  # about ten minutes of waiting, in the core's steps
    [raw] = await ig.raw_events()
    assert (raw.status, raw.error) == (RawEventStatus.processed, None)
    assert await ig.ignored() == {"status_unknown_message": 1}


async def test_edit_delete_and_reaction_before_the_message_are_applied_once_it_arrives(ig, workers):
    for name in ("message_edit__text", "message_reactions__react", "messages__deleted"):
        await ig.deliver_fixture(name)
    await workers.drain(settle=False)
    assert await ig.all_messages() == []
    for name in ("messages__text", "messages__echo", "messages__batch"):
        await ig.deliver_fixture(name)
    await workers.drain(settle=False)
    assert await ig.make_due() == 3
    await workers.drain(settle=False)
    edited = await ig.message(mid("messages__text"))
    assert edited is not None
    assert "talla L" in edited.text
    echo = await ig.message(mid("messages__echo"))
    assert echo is not None
    assert echo.reactions == {OLIVIA.id: "❤️"}
    deleted = await ig.message(mid("messages__deleted"))
    assert deleted is not None
    assert (deleted.deleted_at is not None, deleted.text) == (True, "")  # never shown
    assert {r.status for r in await ig.raw_events()} == {RawEventStatus.processed}
    assert await ig.ignored() == {}


async def test_unreact_overtaking_its_react_stays_unreacted(ig, workers):
    await ig.deliver_fixture("messages__echo")
    await ig.deliver_fixture("message_reactions__unreact")  # later on the platform's clock
    await ig.deliver_fixture("message_reactions__react")
    await workers.drain()
    echo = await ig.message(mid("messages__echo"))
    assert echo is not None
    assert echo.reactions == {}


async def test_a_delivery_naming_another_connected_account_lands_there(ig, workers, factory, db):
    other = await factory.channel(
        ig.workspace,
        external_id="17841400000000999",
        name="@aurora.outlet",
        credentials={"signing_secret": "unused", "access_token": "unused"},
    )
    await db.commit()
    await ig.deliver_fixture("envelope__other_account")  # Meta used the first account's URL
    await workers.drain()
    assert await ig.all_messages() == []
    assert await ig.ignored() == {"entry_for_other_account": 1}
    async with ig.sessions() as session:
        found = (
            (await session.execute(select(Message).where(Message.channel_account_id == other.id)))
            .scalars()
            .all()
        )
    assert [m.text for m in found] == ["Hello other shop"]


# --- comments ----------------------------------------------------------------------------------


async def test_comment_and_its_replies_are_one_conversation(ig, workers):
    await ig.deliver_fixture("comments__top_level")
    await ig.deliver_fixture("comments__reply")
    await workers.drain()
    conversation = await ig.conversation("18046812397560218", Kind.comment)
    assert conversation.subject == "Instagram post 18073159453512496"
    assert conversation.post_url is None
    top, reply = await ig.messages(conversation.id)
    assert (top.text, top.external_id) == (
        "Che meraviglia! Fate anche la taglia 46? 😍",
        "18046812397560218",
    )
    assert top.reply_to_external_id is None
    assert (reply.text, reply.reply_to_external_id) == (
        "¡Yo también la quiero en 46!",
        "18046812397560218",
    )
    assert top.sent_at == datetime.fromtimestamp(1773159112, UTC)
    # The conversation belongs to whoever started the thread; each comment keeps its author.
    identity, contact = await ig.identity_and_contact("17855631927041293")
    assert (identity.handle, contact.name) == ("marco.esposito", "@marco.esposito")
    assert conversation.contact_id == contact.id
    _, carmen = await ig.identity_and_contact("17843925631780041")
    assert reply.author_contact_id == carmen.id
    assert carmen.name == "@carmen_ruiz"


COMMENT_VARIANTS = {  # fixture: (thread key, subject)
    "comments__comment_id_key": ("17900413624058800", "Instagram post 18073159453512496"),
    "comments__reel": ("18122648513009274", "Instagram reel 17962305817743015"),
    "comments__ad": (
        "18233105474096638",
        "Instagram ad 120208734561230045 (ad: Rebajas de primavera)",
    ),
    "live_comments__comment": ("17987762204516330", "Instagram live video 17895530261428163"),
}


async def test_comment_variants(ig, workers):
    for name in COMMENT_VARIANTS:
        await ig.deliver_fixture(name)
    await workers.drain()
    for name, (thread, subject) in COMMENT_VARIANTS.items():
        conversation = await ig.conversation(thread, Kind.comment)
        assert conversation.subject == subject
        [message] = await ig.messages(conversation.id)
        value = fixture_json("instagram", name)["entry"][0]["changes"][0]["value"]
        assert message.text == value["text"]
        assert message.reply_to_external_id == value.get("parent_id")
        _, contact = await ig.identity_and_contact(value["from"]["id"])
        assert contact.name == "@" + value["from"]["username"]


async def test_live_comments_can_be_ignored_by_setting(ig, workers):
    await ig.set_settings(ignore_live_comments=True)
    await ig.deliver_fixture("live_comments__comment")
    await workers.drain()
    assert await ig.conversations() == []
    assert await ig.ignored() == {"live_comment": 1}


async def test_the_accounts_own_reply_joins_the_thread_as_sent_outside_bandeja(ig, workers):
    await ig.deliver_fixture("comments__top_level")
    await ig.deliver_fixture("comments__own_reply")
    await workers.drain()
    conversation = await ig.conversation("18046812397560218", Kind.comment)
    customer, ours = await ig.messages(conversation.id)
    assert customer.direction is Direction.inbound
    assert (ours.direction, ours.author_type) == (Direction.outbound, AuthorType.external)
    assert ours.external_id == "18050177260394115"
    assert ours.text.startswith("Ciao Marco!")
    assert len(await ig.conversations()) == 1
    # Instagram does not say whom the account answered: no contact is made up for it.
    with pytest.raises(NoResultFound):
        await ig.identity_and_contact(ACCOUNT)


# --- mentions ----------------------------------------------------------------------------------


async def test_mention_is_kept_with_its_ids_when_its_text_cannot_be_read(ig, workers):
    await ig.deliver_fixture("mentions__comment")
    await workers.drain()
    conversation = await ig.conversation("17918195224117851_17894227972186120", Kind.mention)
    [message] = await ig.messages(conversation.id)
    assert message.external_id == "17894227972186120"
    assert message.text == ""
    [note] = message.attachments
    assert note["type"] == "mention"
    assert (note["comment_id"], note["media_id"]) == ("17894227972186120", "17918195224117851")
    assert note["unresolved"] is True
    assert note["error"] == "190"  # no sandbox knows this token: Graph's invalid-token code
    assert conversation.last_message_preview == "[mention]"


async def test_caption_mention_without_the_graph_read(ig, workers):
    await ig.deliver_fixture("mentions__caption")
    await workers.drain()
    conversation = await ig.conversation("18004561297533810", Kind.mention)
    [message] = await ig.messages(conversation.id)
    assert message.external_id == "18004561297533810"
    assert message.attachments[0]["media_id"] == "18004561297533810"
    assert "comment_id" not in message.attachments[0]


async def test_comment_mention_text_and_author_are_read_from_the_graph_api(ig, workers, sandbox):
    at = datetime(2026, 11, 20, 9, 30, 5, tzinfo=UTC)
    await ig.emit(
        SimMessage(
            person=GIULIA,
            message_id="17899912230051144",
            kind="mention",
            text="@bottega.aurora avete questa borsa in rosso?",
            at=at,
            post_id="17910320517622450",
        )
    )
    await workers.drain()
    conversation = await ig.conversation("17910320517622450_17899912230051144", Kind.mention)
    [message] = await ig.messages(conversation.id)
    assert message.text == "@bottega.aurora avete questa borsa in rosso?"
    assert message.attachments == []
    stored = await ig.message("17899912230051144")
    assert stored is not None
    assert stored.extra == {"media_id": "17910320517622450", "comment_id": "17899912230051144"}
    assert message.sent_at == at
    assert conversation.subject == "Instagram mention by @giulia_ferrari (comment)"
    assert conversation.post_url is not None
    assert conversation.post_url.startswith("https://www.instagram.com/p/")
    identity, contact = await ig.identity_and_contact(
        GIULIA.id
    )  # the IGSID, as for her DMs and comments
    assert (identity.handle, contact.name) == ("giulia_ferrari", "@giulia_ferrari")


async def test_caption_mention_text_is_the_caption(ig, workers, sandbox):
    at = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    await ig.emit(
        SimMessage(
            person=OLIVIA,
            message_id="18004561297533811",
            kind="mention",
            text="Sunday brunch at @bottega.aurora 🥐",
            at=at,
            post_id="18004561297533811",
        )
    )
    await workers.drain()
    conversation = await ig.conversation("18004561297533811", Kind.mention)
    [message] = await ig.messages(conversation.id)
    assert message.text == "Sunday brunch at @bottega.aurora 🥐"
    assert conversation.subject == "Instagram mention by @olivia.bennett (caption)"
    # A caption read gives the author's username only: that is the identity's key.
    identity, _ = await ig.identity_and_contact("@olivia.bennett")
    assert identity.handle == "olivia.bennett"


# --- authenticity --------------------------------------------------------------------------------


async def test_signed_delivery_is_stored(ig):
    body = fixture("instagram", "messages__text")
    response = await ig.deliver(body, {"X-Hub-Signature-256": signature(body)})
    assert response.status_code == 200
    assert len(await ig.raw_events()) == 1


async def test_bad_signatures_are_refused_and_nothing_is_stored(ig, workers):
    body = fixture("instagram", "messages__text")
    cases = [  # (body sent, headers, counted reason)
        (
            body.replace(b"talla M", b"talla XL"),
            {"X-Hub-Signature-256": signature(body)},
            "rejected:bad signature",
        ),
        (
            body,
            {"X-Hub-Signature-256": signature(body, "another-app-secret")},
            "rejected:bad signature",
        ),
        (body, {"X-Hub-Signature-256": "sha256=not-a-signature"}, "rejected:bad signature"),
        (body, {}, "rejected:missing X-Hub-Signature-256"),
        (
            body,
            {"X-Hub-Signature": "sha1=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
            "rejected:missing X-Hub-Signature-256",
        ),
    ]
    for sent, headers, _ in cases:
        response = await ig.deliver(sent, headers)
        assert response.status_code == 401, headers
    await workers.drain()
    assert await ig.raw_events() == []
    assert await ig.all_messages() == []
    assert await ig.ignored() == {
        "rejected:bad signature": 3,
        "rejected:missing X-Hub-Signature-256": 2,
    }


async def test_a_channel_without_app_secret_refuses_everything(db, factory, client):
    workspace = await factory.workspace()
    channel = await factory.channel(
        workspace, external_id=ACCOUNT, credentials={"verify_token": VERIFY_TOKEN}
    )
    await db.commit()
    body = fixture("instagram", "messages__text")
    response = await client.post(
        f"/webhooks/instagram/{channel.id}",
        content=body,
        headers={"X-Hub-Signature-256": signature(body, "")},
    )
    assert response.status_code == 403


async def test_handshake(ig):
    url = f"/webhooks/instagram/{ig.channel.id}"
    ok = await ig.client.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": VERIFY_TOKEN,
        },
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    for query in (
        {"hub.mode": "subscribe", "hub.verify_token": "meatyhamhock", "hub.challenge": "1"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    ):
        refused = await ig.client.get(url, params=query)
        assert refused.status_code == 403, query
        assert "1" not in refused.text


# --- at least once, in any order -----------------------------------------------------------------


async def test_the_same_delivery_five_times_is_one_message(ig, workers):
    for _ in range(5):
        await ig.deliver_fixture("messages__text")
    await workers.drain()
    assert len(await ig.raw_events()) == 1
    assert len(await ig.all_messages()) == 1


async def test_the_same_message_in_different_deliveries_is_one_message(ig, workers):
    body = fixture_json("instagram", "messages__text")
    for n in range(5):
        body["entry"][0]["time"] += n  # Meta's retry of a batch: another body, the same mid
        await ig.deliver(json.dumps(body).encode())
    await workers.drain()
    assert len(await ig.raw_events()) == 5
    [message] = await ig.all_messages()
    assert message.external_id == mid("messages__text")
    [conversation] = await ig.conversations()
    assert conversation.message_count == 1


async def test_an_older_message_arriving_late_does_not_become_the_latest(ig, workers):
    batch = fixture_json("instagram", "messages__batch")
    later, earlier = json.loads(json.dumps(batch)), json.loads(json.dumps(batch))
    later["entry"] = [batch["entry"][1]]  # Giulia's second message
    earlier["entry"] = [batch["entry"][0]]
    await ig.deliver(json.dumps(later).encode())
    await workers.drain()
    await ig.deliver(json.dumps(earlier).encode())
    await workers.drain()
    conversation = await ig.conversation(GIULIA.id, Kind.dm)
    assert conversation.last_message_preview == "E quanto costa la spedizione?"
    assert [m.text for m in await ig.messages(conversation.id)] == [
        "Buongiorno! Spedite anche in Italia?",
        "E quanto costa la spedizione?",
    ]
