"""Unit tests of the LinkedIn parser and URN helpers on tricky shapes (no database)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bandeja.channels.base import ChannelConfig
from bandeja.channels.linkedin import urns
from bandeja.channels.linkedin.parse import (
    PendingComment,
    PendingEdit,
    PendingMention,
    parse,
)
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import Ignored, MessageDeleted, MessageEdited, MessageReceived

PAGE = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.linkedin,
    external_id="90412345",
    name="Café Aurora Group",
    secrets={},
    settings={},
)
ORG = "urn:li:organization:90412345"
ACT = "urn:li:activity:7270123456789012481"
C1 = f"urn:li:comment:({ACT},7270234567890123456)"


def run(*notifications: object, payload: dict[str, Any] | None = None):
    body = (
        payload
        if payload is not None
        else {
            "type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS",
            "notifications": list(notifications),
        }
    )
    return parse(PAGE, json.dumps(body).encode())


def note(action: str = "COMMENT", generated: str = C1, **extra: object) -> dict[str, Any]:
    return {
        "notificationId": 1,
        "organizationalEntity": ORG,
        "action": action,
        "sourcePost": ACT,
        "generatedActivity": generated,
        "lastModifiedAt": 1765101600000,
        **extra,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (C1, C1),
        ("urn:li:comment:(activity:7270123456789012481,7270234567890123456)", C1),
        ("urn:li:comment:(urn:li:ugcPost:7,8)", "urn:li:comment:(urn:li:ugcPost:7,8)"),
        ("urn:li:share:7", None),
        ("urn:li:comment:(urn:li:activity:7)", None),
        (None, None),
        (12, None),
    ],
)
def test_comment_urns_are_normalised(value, expected):
    assert urns.comment(value) == expected


def test_organization_urn_from_id_or_urn():
    assert urns.organization("90412345") == urns.organization(ORG) == ORG


def test_comment_is_pending_until_expanded_with_a_usable_fallback():
    [event] = run(note())
    assert isinstance(event, PendingComment)
    assert isinstance(event, MessageReceived)
    assert (event.external_id, event.thread.kind, event.thread.key) == (C1, Kind.comment, C1)
    assert event.text == ""
    assert event.post_urn == ACT
    assert event.sender.external_id == f"unknown-author:{C1}"  # one unknown per comment


def test_decorated_parent_puts_a_reply_in_its_thread():
    parent = f"urn:li:comment:({ACT},1)"
    [event] = run(
        note(
            decoratedGeneratedActivity={
                "comment": {
                    "entity": C1,
                    "owner": "urn:li:person:x",
                    "text": "hola",
                    "parentComment": parent,
                }
            }
        )
    )
    assert isinstance(event, PendingComment)
    assert (event.thread.key, event.reply_to_external_id, event.text) == (parent, parent, "hola")


def test_decorated_message_shape_with_text_object():
    [event] = run(
        note(
            decoratedGeneratedActivity={
                "comment": {"entity": C1, "actor": "urn:li:person:x", "message": {"text": "ciao"}}
            }
        )
    )
    assert isinstance(event, PendingComment)
    assert event.notified_text == "ciao"


def test_edit_and_delete():
    edit, delete, decorated = run(
        note("COMMENT_EDIT"),
        note("COMMENT_DELETE"),
        note("COMMENT_EDIT", decoratedGeneratedActivity={"comment": {"text": "new"}}),
    )
    assert isinstance(edit, PendingEdit)
    assert edit.post_urn == ACT
    assert isinstance(delete, MessageDeleted)
    assert delete.external_id == C1
    assert type(decorated) is MessageEdited
    assert decorated.text == "new"


def test_mention_without_text_is_pending():
    share = "urn:li:share:7270999888777666555"
    [event] = run(note("SHARE_MENTION", share, sourcePost=share))
    assert isinstance(event, PendingMention)
    assert (event.thread.kind, event.thread.key, event.external_id) == (Kind.mention, share, share)


@pytest.mark.parametrize(
    ("notification", "reason"),
    [
        (note("LIKE", ACT), "like"),
        (note("SHARE", "urn:li:share:1"), "share"),
        (note("SOMETHING_NEW"), "unknown_action"),
        (note(organizationalEntity="urn:li:organization:1"), "other_organization"),
        (note(generatedActivity="urn:li:share:1"), "malformed_notification"),
        (note("SHARE_MENTION", "not-a-urn", sourcePost=None), "malformed_notification"),
        (note(lastModifiedAt="yesterday"), "malformed_notification"),
        ("just a string", "malformed_notification"),
    ],
)
def test_other_and_broken_notifications_are_counted(notification, reason):
    assert run(notification) == [Ignored(reason)]


def test_one_broken_notification_does_not_hide_the_others():
    events = run(note(lastModifiedAt=[1]), note("LIKE", ACT), note())
    assert [type(e).__name__ for e in events] == ["Ignored", "Ignored", "PendingComment"]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            {"type": "LEAD_ACTION", "leadGenFormResponse": "urn:li:leadGenFormResponse:1"},
            "unknown_event_type",
        ),
        ({"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"}, "malformed_notification"),
        ({"notifications": "none"}, "malformed_notification"),
    ],
)
def test_other_payloads_are_counted(payload, reason):
    assert run(payload=payload) == [Ignored(reason)]


def test_empty_batch_is_nothing():
    assert run() == []


@pytest.mark.parametrize("body", [b"", b"<xml/>", b"[]", b"42"])
def test_a_body_that_is_not_a_json_object_raises(body):
    with pytest.raises(ValueError):  # noqa: PT011 - json errors are ValueErrors too
        parse(PAGE, body)
