"""Triage through the API: assignment, team, tags, status, follow-up, priority, read state, notes,
opening a conversation (messages paged back with a cursor), and the activity log of each action.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bandeja.core.conversations.actions import reopen_due_follow_ups
from bandeja.core.users.models import Role


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid(r) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input", error
    assert error["message"], error


async def _inbox(db, factory) -> SimpleNamespace:
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner, name="Olga Owner")
    ana, _ = await factory.user(ws, Role.agent, name="Ana Lima", email=f"ana.{ws.slug}@example.com")
    bruno, _ = await factory.user(ws, Role.agent, name="Bruno Díaz")
    channel = await factory.channel(ws, members=[ana, bruno])
    conv, _ = await factory.message(
        channel,
        person="c1",
        name="Carla",
        text="hi there",
        at=datetime.now(UTC) - timedelta(minutes=10),
    )
    w = SimpleNamespace(
        ws=ws,
        owner=owner,
        ana=ana,
        bruno=bruno,
        channel=channel,
        conv=conv,
        owner_h=bearer(await factory.token(ws, owner)),
        ana_h=bearer(await factory.token(ws, ana)),
        bruno_h=bearer(await factory.token(ws, bruno)),
    )
    w.url = f"/api/v1/conversations/{conv.id}"
    await db.commit()
    return w


async def _activity(client, w, headers=None) -> list[dict]:
    r = await client.get(w.url, headers=headers or w.owner_h)
    assert r.status_code == 200, r.text
    return r.json()["activity"]


async def test_assign_and_unassign(db, factory, client):
    w = await _inbox(db, factory)
    r = await client.post(f"{w.url}/assign", headers=w.ana_h, json={"assignee_id": w.bruno.id})
    assert r.status_code == 200, r.text
    assert r.json()["assignee"] == {"id": w.bruno.id, "name": "Bruno Díaz"}
    mine = (
        await client.get("/api/v1/conversations", headers=w.bruno_h, params={"assignee": "me"})
    ).json()
    assert [c["id"] for c in mine["items"]] == [w.conv.id]
    assert mine["counts"]["assignee"]["me"] == 1
    r = await client.post(f"{w.url}/assign", headers=w.ana_h, json={"assignee_id": None})
    assert r.status_code == 200, r.text
    assert r.json()["assignee"] is None, r.text
    activity = await _activity(client, w)
    assert [(a["verb"], a["actor_user_id"], a["data"]) for a in activity] == [
        ("conversation.assigned", w.ana.id, {"assignee_id": w.bruno.id}),
        ("conversation.unassigned", w.ana.id, {"assignee_id": None}),
    ]
    # Unknown users are refused; nothing is recorded.
    assert_invalid(
        await client.post(f"{w.url}/assign", headers=w.ana_h, json={"assignee_id": 999_999})
    )
    assert_invalid(await client.post(f"{w.url}/assign", headers=w.ana_h, json={}))
    assert len(await _activity(client, w)) == 2


async def test_team_is_set_and_cleared(db, factory, client):
    w = await _inbox(db, factory)
    team = (
        await client.post(
            "/api/v1/teams", headers=w.owner_h, json={"name": "Care", "member_ids": [w.ana.id]}
        )
    ).json()
    r = await client.post(f"{w.url}/team", headers=w.ana_h, json={"team_id": team["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["team_id"] == team["id"], r.text
    listed = (
        await client.get("/api/v1/conversations", headers=w.ana_h, params={"team": team["id"]})
    ).json()
    assert [c["id"] for c in listed["items"]] == [w.conv.id]
    assert_invalid(await client.post(f"{w.url}/team", headers=w.ana_h, json={"team_id": 424242}))
    r = await client.post(f"{w.url}/team", headers=w.ana_h, json={"team_id": None})
    assert r.status_code == 200, r.text
    assert r.json()["team_id"] is None, r.text
    assert [
        (a["verb"], a["actor_user_id"], a["data"]["team_id"]) for a in await _activity(client, w)
    ] == [
        ("conversation.team_set", w.ana.id, team["id"]),
        ("conversation.team_set", w.ana.id, None),
    ]


async def test_tags_are_added_and_removed(db, factory, client):
    w = await _inbox(db, factory)
    vip = (await client.post("/api/v1/tags", headers=w.ana_h, json={"name": "vip"})).json()
    bug = (
        await client.post(
            "/api/v1/tags",
            headers=w.ana_h,
            json={"name": "bug", "group": "type", "color": "#AA0000"},
        )
    ).json()
    r = await client.post(f"{w.url}/tags", headers=w.ana_h, json={"add": [vip["id"], bug["id"]]})
    assert r.status_code == 200, r.text
    assert [(t["name"], t["color"]) for t in r.json()["tags"]] == [
        ("bug", "#aa0000"),
        ("vip", "#6b7280"),
    ]
    r = await client.post(f"{w.url}/tags", headers=w.ana_h, json={"remove": [bug["id"]]})
    assert [t["id"] for t in r.json()["tags"]] == [vip["id"]]
    # An unknown tag makes the whole request fail: vip stays, nothing else changes.
    r = await client.post(
        f"{w.url}/tags", headers=w.ana_h, json={"add": [bug["id"], 777_777], "remove": [vip["id"]]}
    )
    assert_invalid(r)
    assert "777777" in r.json()["error"]["message"]
    opened = (await client.get(w.url, headers=w.ana_h)).json()
    assert [t["id"] for t in opened["conversation"]["tags"]] == [vip["id"]]
    tagged = [a for a in opened["activity"] if a["verb"] == "conversation.tagged"]
    assert [(a["actor_user_id"], a["data"]["added"], a["data"]["removed"]) for a in tagged] == [
        (w.ana.id, sorted([vip["id"], bug["id"]]), []),
        (w.ana.id, [], [bug["id"]]),
    ]
    # Adding what is there and removing what is not changes nothing and records nothing.
    r = await client.post(
        f"{w.url}/tags", headers=w.ana_h, json={"add": [vip["id"]], "remove": [bug["id"]]}
    )
    assert r.status_code == 200
    assert [t["id"] for t in r.json()["tags"]] == [vip["id"]]
    assert len(await _activity(client, w)) == 2


async def test_complete_and_reopen(db, factory, client):
    w = await _inbox(db, factory)
    r = await client.post(f"{w.url}/complete", headers=w.ana_h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "complete"
    assert r.json()["completed_at"] is not None
    again = await client.post(f"{w.url}/complete", headers=w.ana_h)
    assert again.json()["completed_at"] == r.json()["completed_at"]
    counts = (await client.get("/api/v1/conversations", headers=w.ana_h)).json()["counts"]
    assert counts["status"] == {"open": 0, "follow_up": 0, "complete": 1}
    r = await client.post(f"{w.url}/reopen", headers=w.bruno_h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "open"
    assert r.json()["completed_at"] is None
    assert [(a["verb"], a["actor_user_id"]) for a in await _activity(client, w)] == [
        ("conversation.completed", w.ana.id),
        ("conversation.reopened", w.bruno.id),
    ]


async def test_follow_up_sets_the_conversation_aside_until_a_time(db, factory, client, sessions):
    w = await _inbox(db, factory)
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    r = await client.post(
        f"{w.url}/follow-up", headers=w.ana_h, json={"until": until.astimezone().isoformat()}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "follow_up"
    assert datetime.fromisoformat(r.json()["follow_up_until"]) == until
    listed = (
        await client.get("/api/v1/conversations", headers=w.ana_h, params={"view": "follow_up"})
    ).json()
    assert [c["id"] for c in listed["items"]] == [w.conv.id]
    # Not yet due: stays; due: back to open, recorded as a system action.
    async with sessions() as s:
        assert await reopen_due_follow_ups(s, now=until - timedelta(minutes=1)) == 0
        assert await reopen_due_follow_ups(s, now=until + timedelta(seconds=1)) == 1
        await s.commit()
    opened = (await client.get(w.url, headers=w.ana_h)).json()
    assert opened["conversation"]["status"] == "open"
    assert opened["conversation"]["follow_up_until"] is None
    assert [(a["verb"], a["actor_user_id"]) for a in opened["activity"]] == [
        ("conversation.follow_up", w.ana.id),
        ("conversation.follow_up_due", None),
    ]


async def test_follow_up_refuses_past_and_naive_times(db, factory, client):
    w = await _inbox(db, factory)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    naive = (datetime.now() + timedelta(days=1)).replace(tzinfo=None).isoformat()
    for body in ({"until": past}, {"until": naive}, {"until": "tomorrow"}, {}):
        assert_invalid(await client.post(f"{w.url}/follow-up", headers=w.ana_h, json=body))
    opened = (await client.get(w.url, headers=w.ana_h)).json()
    assert opened["conversation"]["status"] == "open"
    assert opened["activity"] == []


async def test_priority_is_set_and_bad_values_refused(db, factory, client):
    w = await _inbox(db, factory)
    r = await client.post(f"{w.url}/priority", headers=w.ana_h, json={"priority": "urgent"})
    assert r.status_code == 200, r.text
    assert r.json()["priority"] == "urgent", r.text
    listed = (
        await client.get("/api/v1/conversations", headers=w.ana_h, params={"priority": "urgent"})
    ).json()
    assert [c["id"] for c in listed["items"]] == [w.conv.id]
    for bad in ("URGENT", "critical", 4, None):
        assert_invalid(
            await client.post(f"{w.url}/priority", headers=w.ana_h, json={"priority": bad})
        )
    opened = (await client.get(w.url, headers=w.ana_h)).json()
    assert opened["conversation"]["priority"] == "urgent"
    assert [(a["verb"], a["actor_user_id"], a["data"]) for a in opened["activity"]] == [
        ("conversation.priority", w.ana.id, {"priority": "urgent"})
    ]


async def _unread_ids(client, headers) -> list[int]:
    r = await client.get("/api/v1/conversations", headers=headers, params={"unread": "true"})
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_read_state_is_per_agent(db, factory, client):
    w = await _inbox(db, factory)
    r = await client.post(f"{w.url}/read", headers=w.ana_h)
    assert r.status_code == 200, r.text
    assert r.json()["unread"] is False, r.text
    assert (await client.get(w.url, headers=w.bruno_h)).json()["conversation"]["unread"] is True
    assert await _unread_ids(client, w.ana_h) == []
    assert await _unread_ids(client, w.bruno_h) == [w.conv.id]
    read = (
        await client.get("/api/v1/conversations", headers=w.ana_h, params={"unread": "false"})
    ).json()
    assert [c["id"] for c in read["items"]] == [w.conv.id]
    # A new message from the customer makes it unread again.
    await factory.message(
        w.channel, person="c1", text="are you there?", at=datetime.now(UTC) + timedelta(seconds=5)
    )
    await db.commit()
    assert await _unread_ids(client, w.ana_h) == [w.conv.id]
    await client.post(f"{w.url}/read", headers=w.ana_h)
    r = await client.post(f"{w.url}/unread", headers=w.ana_h)
    assert r.status_code == 200, r.text
    assert r.json()["unread"] is True, r.text
    assert await _unread_ids(client, w.ana_h) == [w.conv.id]


async def test_a_message_delivered_after_i_read_makes_the_conversation_unread(db, factory, client):
    """Platforms deliver late (retries for hours). A message sent before I read but delivered
    after I read is one I have not seen: the conversation must be unread again."""
    w = await _inbox(db, factory)
    await client.post(f"{w.url}/read", headers=w.ana_h)
    assert await _unread_ids(client, w.ana_h) == []
    await factory.message(
        w.channel,
        person="c1",
        text="sent a minute ago, delivered now",
        at=datetime.now(UTC) - timedelta(minutes=1),
    )
    await db.commit()
    opened = (await client.get(w.url, headers=w.ana_h)).json()
    assert opened["conversation"]["message_count"] == 2
    assert opened["conversation"]["unread"] is True
    assert await _unread_ids(client, w.ana_h) == [w.conv.id]


async def test_notes_resolve_mentions_and_are_recorded(db, factory, client):
    w = await _inbox(db, factory)
    stranger_ws = await factory.workspace()
    stranger, _ = await factory.user(stranger_ws, Role.owner, name="Zed")
    await db.commit()
    local = w.ana.email.split("@")[0]
    text = f"@{local} and @[Bruno Díaz] please look; cc @zed @{stranger.email.split('@')[0]}"
    r = await client.post(f"{w.url}/notes", headers=w.owner_h, json={"text": text})
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["mentioned_user_ids"] == sorted([w.ana.id, w.bruno.id])
    assert note["author_id"] == w.owner.id
    assert note["text"] == text
    # Name without spaces, accents folded.
    r = await client.post(f"{w.url}/notes", headers=w.ana_h, json={"text": "  @brunodiaz ok  "})
    assert r.json()["mentioned_user_ids"] == [w.bruno.id]
    assert r.json()["text"] == "@brunodiaz ok"
    opened = (await client.get(w.url, headers=w.bruno_h)).json()
    assert [(n["author_id"], n["mentioned_user_ids"]) for n in opened["notes"]] == [
        (w.owner.id, sorted([w.ana.id, w.bruno.id])),
        (w.ana.id, [w.bruno.id]),
    ]
    assert [
        (a["verb"], a["actor_user_id"], a["data"]["mentioned_user_ids"]) for a in opened["activity"]
    ] == [
        ("note.added", w.owner.id, sorted([w.ana.id, w.bruno.id])),
        ("note.added", w.ana.id, [w.bruno.id]),
    ]
    assert [a["data"]["note_id"] for a in opened["activity"]] == [n["id"] for n in opened["notes"]]
    for bad in ("", "   ", "x" * 10_001):
        assert_invalid(await client.post(f"{w.url}/notes", headers=w.ana_h, json={"text": bad}))
    assert len((await client.get(w.url, headers=w.ana_h)).json()["notes"]) == 2


async def test_opening_a_conversation_pages_back_through_every_message_once(db, factory, client):
    w = await _inbox(db, factory)
    start = datetime.now(UTC) - timedelta(days=2)
    # 119 more messages; every third pair shares a timestamp so the cursor's id tie-break counts.
    for i in range(119):
        at = start + timedelta(minutes=i - (i % 3 == 1))
        await factory.message(
            w.channel, person="c1", text=f"message {i}", at=at, external_id=f"m-{i}"
        )
    await db.commit()
    r = await client.get(w.url, headers=w.ana_h, params={"limit": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["conversation"]["message_count"] == 120
    seen = list(body["messages"]["items"])
    assert len(seen) == 50
    cursor = body["messages"]["next_cursor"]
    pages = 1
    while cursor:
        page = await client.get(
            f"{w.url}/messages", headers=w.ana_h, params={"before": cursor, "limit": 50}
        )
        assert page.status_code == 200, page.text
        seen.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
        pages += 1
    assert pages == 3
    ids = [m["id"] for m in seen]
    assert len(ids) == len(set(ids)) == 120
    keys = [(datetime.fromisoformat(m["sent_at"]), m["id"]) for m in seen]
    assert keys == sorted(keys, reverse=True)
    assert seen[0]["text"] == "hi there"  # the newest (10 minutes ago)
    assert seen[-1]["text"] == "message 0"
    assert_invalid(
        await client.get(f"{w.url}/messages", headers=w.ana_h, params={"before": "garbage!"})
    )


async def test_every_action_is_in_the_activity_log_with_its_actor(db, factory, client):
    w = await _inbox(db, factory)
    tag = (await client.post("/api/v1/tags", headers=w.owner_h, json={"name": "t"})).json()
    team = (await client.post("/api/v1/teams", headers=w.owner_h, json={"name": "T"})).json()
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    steps = [
        (w.ana_h, w.ana.id, "assign", {"assignee_id": w.ana.id}, "conversation.assigned"),
        (w.bruno_h, w.bruno.id, "team", {"team_id": team["id"]}, "conversation.team_set"),
        (w.ana_h, w.ana.id, "tags", {"add": [tag["id"]]}, "conversation.tagged"),
        (w.owner_h, w.owner.id, "priority", {"priority": "low"}, "conversation.priority"),
        (w.bruno_h, w.bruno.id, "follow-up", {"until": later}, "conversation.follow_up"),
        (w.ana_h, w.ana.id, "reopen", None, "conversation.reopened"),
        (w.owner_h, w.owner.id, "complete", None, "conversation.completed"),
        (w.bruno_h, w.bruno.id, "notes", {"text": "done"}, "note.added"),
        (w.ana_h, w.ana.id, "assign", {"assignee_id": None}, "conversation.unassigned"),
    ]
    for headers, _, action, body, _ in steps:
        r = await client.post(f"{w.url}/{action}", headers=headers, json=body)
        assert r.status_code in (200, 201), (action, r.text)
    # Reading is personal state, not an activity.
    await client.post(f"{w.url}/read", headers=w.ana_h)
    activity = await _activity(client, w, w.bruno_h)
    assert [(a["verb"], a["actor_user_id"]) for a in activity] == [
        (verb, actor) for _, actor, _, _, verb in steps
    ]
    assert all(a["conversation_id"] == w.conv.id for a in activity)
    stamps = [datetime.fromisoformat(a["created_at"]) for a in activity]
    assert stamps == sorted(stamps)
