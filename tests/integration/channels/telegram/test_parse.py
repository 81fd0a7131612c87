"""Unit tests of the Telegram parser on tricky shapes (no database)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bandeja.channels.base import ChannelConfig
from bandeja.channels.telegram.parse import bot_username, entity_text, parse
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import Ignored, MessageEdited, MessageReceived, ReactionChanged

BOT = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.telegram,
    external_id="7012345678",
    name="@CafeAuroraBot",
    secrets={},
    settings={},
)
GROUP = {"id": -1001876543210, "title": "Amici", "type": "supergroup"}
USER = {"id": 5219876543, "is_bot": False, "first_name": "Lucía"}


def run(update: object, channel: ChannelConfig = BOT):
    return parse(channel, json.dumps(update).encode())


def group_message(text: str, entities: list[dict[str, object]], **extra: object):
    return {
        "update_id": 1,
        "message": {
            "message_id": 5,
            "from": USER,
            "chat": GROUP,
            "date": 1765101600,
            "text": text,
            "entities": entities,
            **extra,
        },
    }


def test_entity_offsets_count_utf16_code_units():
    text = "🙌🙌 @CafeAuroraBot hola"
    assert entity_text(text, {"offset": 5, "length": 14}) == "@CafeAuroraBot"
    # Counting Python characters would have pointed two units too early.
    assert entity_text(text, {"offset": 3, "length": 14}) != "@CafeAuroraBot"


def test_a_mention_after_astral_emoji_is_found():
    [event] = run(
        group_message("🙌🙌 @CafeAuroraBot hola", [{"type": "mention", "offset": 5, "length": 14}])
    )
    assert isinstance(event, MessageReceived)
    assert event.thread.kind is Kind.mention


def test_a_mention_of_another_account_is_chatter():
    assert run(
        group_message("@CafeAuroraBotFan hola", [{"type": "mention", "offset": 0, "length": 17}])
    ) == [Ignored("group_message")]


def test_a_text_mention_of_the_bot_by_id_counts():
    [event] = run(
        group_message(
            "Café Aurora, hola",
            [{"type": "text_mention", "offset": 0, "length": 11, "user": {"id": 7012345678}}],
        )
    )
    assert isinstance(event, MessageReceived)
    assert event.thread.key == "-1001876543210"


def test_without_a_known_username_only_replies_and_text_mentions_count():
    anonymous = ChannelConfig(
        id=1,
        workspace_id=1,
        platform=Platform.telegram,
        external_id="7012345678",
        name="Café Aurora",
        secrets={},
        settings={},
    )
    mention = group_message("@CafeAuroraBot hola", [{"type": "mention", "offset": 0, "length": 14}])
    assert run(mention, anonymous) == [Ignored("group_message")]
    configured = ChannelConfig(
        **{
            **{f: getattr(anonymous, f) for f in anonymous.__slots__},
            "settings": {"bot_username": "CafeAuroraBot"},
        }
    )
    assert isinstance(run(mention, configured)[0], MessageReceived)


@pytest.mark.parametrize(
    ("name", "settings", "expected"),
    [
        ("@CafeAuroraBot", {}, "CafeAuroraBot"),
        ("CafeAurora_bot", {}, "CafeAurora_bot"),
        ("Café Aurora", {}, None),
        ("@cafeaurora", {}, None),  # not a bot username
        ("Café Aurora", {"bot_username": "@AuroraHelpBot"}, "AuroraHelpBot"),
    ],
)
def test_bot_username(name, settings, expected):
    assert bot_username(name, settings) == expected


def test_an_edit_also_carries_the_message_for_late_originals():
    original, edit = run(
        {
            "update_id": 2,
            "edited_message": {
                "message_id": 9,
                "from": USER,
                "chat": {**USER, "type": "private"},
                "date": 1765101600,
                "edit_date": 1765101700,
                "text": "corrected",
            },
        }
    )
    assert isinstance(original, MessageReceived)
    assert original.text == "corrected"
    assert isinstance(edit, MessageEdited)
    assert edit.external_id == original.external_id
    assert edit.at > original.sent_at


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"null"])
def test_a_body_that_is_not_a_json_object_raises(body):
    with pytest.raises(ValueError):  # noqa: PT011 - json errors are ValueErrors too
        parse(BOT, body)


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1},
        {"update_id": 1, "something_new": {"x": 1}},
        {"update_id": 1, "message": "text"},
    ],
)
def test_unknown_updates_are_counted(update):
    assert run(update) == [Ignored("unknown_update")]


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "no chat"}},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": "abc"}, "date": 1}},
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "chat": {"id": 5, "type": "private"},
                "from": USER,
                "text": "no date",
            },
        },
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "chat": {"id": 5, "type": "private"},
                "from": USER,
                "date": "yesterday",
                "text": "bad date",
            },
        },
        {"update_id": 1, "message_reaction": {"chat": {"id": 5}, "user": USER}},
        {"update_id": 1, "callback_query": {"id": "1", "data": "x"}},
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "chat": {"id": 5, "type": "private"},
                "from": USER,
                "date": 1,
                "photo": [{"width": "wide"}],
            },
        },
    ],
)
def test_broken_shapes_never_raise(update):
    assert run(update) == [Ignored("malformed_update")]


def test_a_message_without_from_uses_the_sending_chat():
    [event] = run(
        group_message(
            "@CafeAuroraBot ciao",
            [{"type": "mention", "offset": 0, "length": 14}],
            **{"from": None},
            sender_chat={"id": -1001876543210, "title": "Amici"},
        )
    )
    assert isinstance(event, MessageReceived)
    assert (event.sender.external_id, event.sender.display_name) == ("-1001876543210", "Amici")


def test_custom_and_paid_reactions_have_a_label():
    def reaction(new: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "update_id": 1,
            "message_reaction": {
                "chat": {"id": 5, "type": "private"},
                "message_id": 3,
                "user": USER,
                "date": 1,
                "old_reaction": [],
                "new_reaction": new,
            },
        }

    [custom] = run(reaction([{"type": "custom_emoji", "custom_emoji_id": "5368"}]))
    [paid] = run(reaction([{"type": "paid"}]))
    [both] = run(
        reaction(
            [{"type": "custom_emoji", "custom_emoji_id": "1"}, {"type": "emoji", "emoji": "🔥"}]
        )
    )
    assert isinstance(custom, ReactionChanged)
    assert custom.reaction == "custom_emoji:5368"
    assert isinstance(paid, ReactionChanged)
    assert paid.reaction == "⭐"
    assert isinstance(both, ReactionChanged)
    assert both.reaction == "🔥"
