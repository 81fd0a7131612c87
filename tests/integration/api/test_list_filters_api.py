"""The inbox list: every filter, views, keyset pagination and facet counts, each checked against a
brute-force evaluation of the same filter over the data the test created.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from bandeja.core.access import Actor
from bandeja.core.channels.models import Platform
from bandeja.core.conversations import actions
from bandeja.core.conversations.models import Kind
from bandeja.core.tags.actions import create_tag
from bandeja.core.tags.schemas import TagIn
from bandeja.core.users import actions as user_actions
from bandeja.core.users.models import Role
from bandeja.core.users.schemas import TeamIn

PRIORITIES = ["none", "low", "medium", "high", "urgent"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Row:
    """What the test knows about one conversation it created."""

    id: int
    channel: int
    platform: str
    kind: str
    contact: int
    at: datetime
    status: str = "open"
    assignee: int | None = None
    team: int | None = None
    tags: set[int] = field(default_factory=set)
    priority: str = "none"
    read_by: set[int] = field(default_factory=set)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def matches(row: Row, params: dict[str, Any], me: int) -> bool:
    """The documented meaning of each list parameter, written out by hand."""
    if "status" in params and row.status not in _as_list(params["status"]):
        return False
    if "assignee" in params:
        a = params["assignee"]
        named = {
            "me": row.assignee == me,
            "unassigned": row.assignee is None,
            "anyone": row.assignee is not None,
        }
        if not (named[a] if a in named else row.assignee == int(a)):
            return False
    if "team" in params and row.team != params["team"]:
        return False
    if "platform" in params and row.platform not in _as_list(params["platform"]):
        return False
    if "channel" in params and row.channel not in _as_list(params["channel"]):
        return False
    if "kind" in params and row.kind not in _as_list(params["kind"]):
        return False
    if "tag" in params:
        wanted = set(_as_list(params["tag"]))
        if params.get("tag_match") == "all":
            if not wanted <= row.tags:
                return False
        elif not wanted & row.tags:
            return False
    if "priority" in params and row.priority not in _as_list(params["priority"]):
        return False
    if "contact" in params and row.contact != params["contact"]:
        return False
    unread_wanted = params.get("unread")
    return unread_wanted is None or (me not in row.read_by) == (unread_wanted == "true")


def expected_ids(rows: list[Row], params: dict[str, Any], me: int) -> list[int]:
    chosen = [r for r in rows if matches(r, params, me)]
    oldest = params.get("sort") == "oldest"
    chosen.sort(key=lambda r: (r.at, r.id), reverse=not oldest)
    return [r.id for r in chosen]


def expected_counts(rows: list[Row], params: dict[str, Any], me: int) -> dict[str, Any]:
    """status: per status under every other filter; assignee: per assignee under every other
    filter; total: the whole filter."""
    no_status = {k: v for k, v in params.items() if k != "status"}
    no_assignee = {k: v for k, v in params.items() if k != "assignee"}
    status = dict.fromkeys(("open", "follow_up", "complete"), 0)
    for r in rows:
        if matches(r, no_status, me):
            status[r.status] += 1
    assignee: Counter[str] = Counter()
    for r in rows:
        if matches(r, no_assignee, me):
            assignee["unassigned" if r.assignee is None else str(r.assignee)] += 1
            assignee["me"] += r.assignee == me
    return {
        "status": status,
        "assignee": {k: v for k, v in assignee.items() if v},
        "total": sum(matches(r, params, me) for r in rows),
    }


def nonzero(counts: dict[str, Any]) -> dict[str, Any]:
    """Zero-valued assignee entries carry no information (live counter cells may linger at 0)."""
    return {**counts, "assignee": {k: v for k, v in counts["assignee"].items() if v}}


async def _dataset(db, factory, n: int = 24) -> SimpleNamespace:
    ws = await factory.workspace()
    owner, owner_actor = await factory.user(ws, Role.owner, name="Olga")
    ana, _ = await factory.user(ws, Role.agent, name="Ana")
    bob, _ = await factory.user(ws, Role.agent, name="Bob")
    ig = await factory.channel(ws, Platform.instagram, members=[ana, bob])
    x = await factory.channel(ws, Platform.x, members=[ana])
    ms = await factory.channel(ws, Platform.messenger)
    channels = [ig, x, ms]
    members = {ig.id: {ana.id, bob.id}, x.id: {ana.id}, ms.id: set()}
    tags = [(await create_tag(db, owner_actor, TagIn(name=f"tag{i}"))).id for i in range(3)]
    team = await user_actions.create_team(db, owner_actor, TeamIn(name="Care"))
    kinds = [Kind.dm, Kind.comment, Kind.mention]
    base = datetime.now(UTC) - timedelta(hours=1)
    later = datetime.now(UTC) + timedelta(days=2)
    rows: list[Row] = []
    for i in range(n):
        channel = channels[i % 3]
        kind = kinds[(i // 3) % 3]
        at = base - timedelta(minutes=i)
        conv, _ = await factory.message(
            channel,
            person=f"p{i % 12}",
            name=f"Person {i % 12}",
            kind=kind,
            thread=f"t{i}",
            text=f"text {i}",
            at=at,
        )
        row = Row(
            id=conv.id,
            channel=channel.id,
            platform=channel.platform.value,
            kind=kind.value,
            contact=conv.contact_id,
            at=at,
        )
        wanted = [None, ana.id, owner.id, bob.id, None][i % 5]
        if wanted in (ana.id, bob.id) and wanted not in members[channel.id]:
            wanted = owner.id
        if wanted is not None:
            await actions.assign(db, owner_actor, conv.id, wanted)
            row.assignee = wanted
        if i % 6 == 0:
            await actions.set_team(db, owner_actor, conv.id, team.id)
            row.team = team.id
        row.tags = {tags[0]} if i % 2 == 0 else set()
        row.tags |= {tags[1]} if i % 3 == 0 else set()
        row.tags |= {tags[2]} if i == 5 else set()
        if row.tags:
            await actions.change_tags(db, owner_actor, conv.id, add=sorted(row.tags))
        row.priority = PRIORITIES[(i // 2) % 5]
        if row.priority != "none":
            await actions.set_priority(db, owner_actor, conv.id, row.priority)
        if i % 4 == 0:
            await actions.complete(db, owner_actor, conv.id)
            row.status = "complete"
        elif i % 4 == 1:
            await actions.follow_up(db, owner_actor, conv.id, later)
            row.status = "follow_up"
        if i % 7 == 0:
            await actions.mark_read(db, owner_actor, conv.id)
            row.read_by.add(owner.id)
        rows.append(row)
    d = SimpleNamespace(
        ws=ws,
        owner=owner,
        ana=ana,
        bob=bob,
        ig=ig,
        x=x,
        ms=ms,
        tags=tags,
        team=team.id,
        rows=rows,
        owner_h=bearer(await factory.token(ws, owner)),
        ana_h=bearer(await factory.token(ws, ana)),
        visible={owner.id: rows, ana.id: [r for r in rows if ana.id in members[r.channel]]},
    )
    await db.commit()
    return d


async def _list(client, headers, params: dict[str, Any]) -> dict[str, Any]:
    r = await client.get("/api/v1/conversations", headers=headers, params={"limit": 200, **params})
    assert r.status_code == 200, (params, r.text)
    return r.json()


def _check(
    body: dict[str, Any], rows: list[Row], params: dict[str, Any], me: int, failures: list[str]
) -> None:
    got = [c["id"] for c in body["items"]]
    want = expected_ids(rows, params, me)
    if got != want:
        failures.append(f"{params}: items {got} != {want}")
    if nonzero(body["counts"]) != expected_counts(rows, params, me):
        failures.append(f"{params}: counts {body['counts']} != {expected_counts(rows, params, me)}")


async def test_each_filter_selects_what_a_brute_force_selects_with_exact_counts(
    db, factory, client
):
    d = await _dataset(db, factory)
    shared_contact = d.rows[1].contact  # p1 has two conversations (i = 1 and 13)
    assert sum(r.contact == shared_contact for r in d.rows) == 2
    cases: list[dict[str, Any]] = [
        {},
        {"status": "open"},
        {"status": ["open", "follow_up"]},
        {"status": "complete", "sort": "oldest"},
        {"sort": "oldest"},
        {"assignee": "me"},
        {"assignee": "unassigned"},
        {"assignee": "anyone"},
        {"assignee": str(d.ana.id)},
        {"team": d.team},
        {"platform": "x"},
        {"platform": ["instagram", "messenger"]},
        {"platform": "telegram"},
        {"channel": d.ms.id},
        {"channel": [d.ig.id, d.x.id], "status": "open"},
        {"kind": "comment"},
        {"kind": ["dm", "mention"], "assignee": "anyone"},
        {"tag": d.tags[0]},
        {"tag": [d.tags[0], d.tags[1]]},
        {"tag": [d.tags[0], d.tags[1]], "tag_match": "all"},
        {"tag": [d.tags[2], d.tags[1]], "tag_match": "any", "status": "follow_up"},
        {"priority": "high"},
        {"priority": ["low", "urgent"], "assignee": "unassigned"},
        {"contact": shared_contact},
        {"unread": "true"},
        {"unread": "false", "status": "complete"},
        {"status": "open", "platform": "instagram", "assignee": "unassigned"},
        {"status": "open", "tag": d.tags[0], "assignee": "anyone", "kind": "dm"},
        {"team": d.team, "priority": ["none", "medium"], "sort": "oldest"},
    ]
    failures: list[str] = []
    for params in cases:
        _check(await _list(client, d.owner_h, params), d.rows, params, d.owner.id, failures)
    # An agent: the same filters, within the channel accounts they can see.
    for params in (
        {},
        {"assignee": "me"},
        {"status": "open"},
        {"platform": "messenger"},
        {"tag": d.tags[0], "sort": "oldest"},
        {"assignee": str(d.bob.id)},
    ):
        _check(
            await _list(client, d.ana_h, params), d.visible[d.ana.id], params, d.ana.id, failures
        )
    assert not failures, "\n".join(failures)


async def test_text_search_covers_message_texts_and_contact_names_with_accents_folded(
    db,
    factory,
    client,
):
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    jose, _ = await factory.message(
        channel, person="j", name="José Núñez", text="Hola, ¿dónde está mi pedido?"
    )
    marta, _ = await factory.message(channel, person="m", name="Marta", text="Perché non funziona?")
    luca, _ = await factory.message(channel, person="l", name="Luca", text="PERCHÉ NO")
    ann, _ = await factory.message(channel, person="a", name="Ann", text="invoice please")
    await factory.message(channel, person="a", name="Ann", text="any news?")  # older text stays
    headers = bearer(await factory.token(ws, owner))
    await db.commit()
    cases = {
        "perche": {marta.id, luca.id},
        "PERCHÉ": {marta.id, luca.id},
        "perch": {marta.id, luca.id},
        "jose": {jose.id},
        "NUNEZ pedido": {jose.id},
        "donde": {jose.id},
        "perche marta": {marta.id},
        "invoice": {ann.id},
        "zzzz": set(),
    }
    for q, want in cases.items():
        body = await _list(client, headers, {"q": q})
        assert {c["id"] for c in body["items"]} == want, q
        assert body["counts"]["total"] == len(want), q
        assert sum(body["counts"]["status"].values()) == len(want), q


async def test_since_and_until_bound_the_last_activity(db, factory, client):
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    t0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    convs = []
    for h in range(5):
        conv, _ = await factory.message(channel, person=f"p{h}", at=t0 + timedelta(hours=h))
        convs.append(conv.id)
    headers = bearer(await factory.token(ws, owner))
    await db.commit()
    plus2 = timezone(timedelta(hours=2))

    async def ids(**params: datetime) -> set[int]:
        body = await _list(client, headers, {k: v.isoformat() for k, v in params.items()})
        assert body["counts"]["total"] == len(body["items"])
        return {c["id"] for c in body["items"]}

    assert await ids(since=t0 + timedelta(hours=1)) == set(convs[1:])  # inclusive
    assert await ids(until=t0 + timedelta(hours=1)) == {convs[0]}  # exclusive
    assert await ids(
        since=(t0 + timedelta(hours=1)).astimezone(plus2),
        until=(t0 + timedelta(hours=3)).astimezone(plus2),
    ) == set(convs[1:3])
    assert await ids(since=t0 + timedelta(hours=1, microseconds=1)) == set(convs[2:])
    assert await ids(until=t0) == set()


async def _page_through(client, headers, sort: str, on_page) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 50, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/api/v1/conversations", headers=headers, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        ids.extend(c["id"] for c in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return ids
        await on_page()


async def test_keyset_pagination_sees_each_conversation_once_while_new_ones_arrive(
    db,
    factory,
    client,
):
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    start = datetime.now(UTC) - timedelta(days=1)
    created: list[tuple[datetime, int]] = []
    for i in range(130):
        # Groups of three share a timestamp: the id breaks the tie.
        at = start + timedelta(seconds=i // 3)
        conv, _ = await factory.message(channel, person=f"p{i}", at=at)
        created.append((at, conv.id))
    headers = bearer(await factory.token(ws, owner))
    await db.commit()
    newest_first = [cid for _, cid in sorted(created, reverse=True)]
    arrived: list[int] = []

    async def a_customer_writes() -> None:
        conv, _ = await factory.message(channel, person=f"new{len(arrived)}", at=datetime.now(UTC))
        await db.commit()
        arrived.append(conv.id)

    # Newest first: those that arrive between pages are newer than the first page, so later
    # pages neither repeat nor skip anything.
    ids = await _page_through(client, headers, "newest", a_customer_writes)
    assert len(arrived) == 2  # three pages
    assert ids == newest_first
    # Oldest first: those that arrive are the newest, so they come last, in order.
    before = list(arrived)
    ids = await _page_through(client, headers, "oldest", a_customer_writes)
    assert len(ids) == len(set(ids)), "a conversation was listed twice"
    assert ids == newest_first[::-1] + before + arrived[len(before) :]
    total = (await _list(client, headers, {}))["counts"]["total"]
    assert total == 130 + len(arrived)


async def test_views_by_builtin_key_and_saved_id_narrowed_by_parameters(db, factory, client):
    d = await _dataset(db, factory, n=18)
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("open", {}, {"status": "open"}),
        (
            "unassigned",
            {"platform": "instagram"},
            {"status": "open", "assignee": "unassigned", "platform": "instagram"},
        ),
        ("mine", {}, {"status": "open", "assignee": "me"}),
        ("follow_up", {"kind": "comment"}, {"status": "follow_up", "kind": "comment"}),
        ("complete", {"sort": "oldest"}, {"status": "complete", "sort": "oldest"}),
        ("mentions", {}, {"status": "open", "kind": "mention"}),
    ]
    saved = await client.post(
        "/api/v1/views",
        headers=d.owner_h,
        json={
            "name": "tagged",
            "filters": {"tag_ids": [d.tags[0]], "status": ["open", "complete"]},
        },
    )
    assert saved.status_code == 201, saved.text
    vid = str(saved.json()["id"])
    cases += [
        (vid, {}, {"tag": d.tags[0], "status": ["open", "complete"]}),
        (
            vid,
            {"platform": "x"},
            {"tag": d.tags[0], "status": ["open", "complete"], "platform": "x"},
        ),
        (
            vid,
            {"assignee": "anyone", "priority": ["low", "high"]},
            {
                "tag": d.tags[0],
                "status": ["open", "complete"],
                "assignee": "anyone",
                "priority": ["low", "high"],
            },
        ),
    ]
    failures: list[str] = []
    for view, narrowing, meaning in cases:
        body = await _list(client, d.owner_h, {"view": view, **narrowing})
        got = [c["id"] for c in body["items"]]
        want = expected_ids(d.rows, meaning, d.owner.id)
        if got != want:
            failures.append(f"view={view} {narrowing}: {got} != {want}")
        if nonzero(body["counts"]) != expected_counts(d.rows, meaning, d.owner.id):
            failures.append(f"view={view} {narrowing}: counts {body['counts']}")
    # The view list's counts are the totals of the same filters.
    counts = {
        str(v["id"]): v["count"]
        for v in (await client.get("/api/v1/views", headers=d.owner_h)).json()
    }
    for view, narrowing, meaning in cases:
        if not narrowing and counts[view] != len(expected_ids(d.rows, meaning, d.owner.id)):
            failures.append(f"GET /views count of {view}: {counts[view]}")
    assert not failures, "\n".join(failures)


async def test_counts_from_live_counters_agree_with_counting_rows(db, factory, client):
    """Filters on counter fields only are answered from ``conversation_counts``; the others
    (q, tag, priority...) count rows. A q or tag that matches every conversation must give the
    same facets as no q or tag at all."""
    d = await _dataset(db, factory, n=15)
    everyone = (
        await create_tag(
            db, Actor(user_id=d.owner.id, workspace_id=d.ws.id, role=Role.owner), TagIn(name="all")
        )
    ).id
    owner_actor = Actor(user_id=d.owner.id, workspace_id=d.ws.id, role=Role.owner)
    for row in d.rows:
        await actions.change_tags(db, owner_actor, row.id, add=[everyone])
    await db.commit()
    for base in (
        {},
        {"status": "open"},
        {"assignee": "me"},
        {"platform": "x"},
        {"status": ["open", "complete"], "assignee": "unassigned", "kind": "dm"},
        {"channel": d.ig.id, "assignee": "anyone"},
    ):
        fast = (await _list(client, d.owner_h, base))["counts"]
        assert nonzero(fast) == expected_counts(d.rows, base, d.owner.id), base
        for slow_params in (
            {"q": "text"},
            {"tag": everyone},
            {"priority": PRIORITIES},
            {"since": "2000-01-01T00:00:00Z"},
        ):
            slow = (await _list(client, d.owner_h, {**base, **slow_params}))["counts"]
            assert nonzero(slow) == nonzero(fast), (base, slow_params)
        for headers in (d.ana_h,):
            fast_agent = (await _list(client, headers, base))["counts"]
            slow_agent = (await _list(client, headers, {**base, "tag": everyone}))["counts"]
            assert nonzero(fast_agent) == nonzero(slow_agent), base
            assert nonzero(fast_agent) == expected_counts(d.visible[d.ana.id], base, d.ana.id)
    r = await client.get("/api/v1/conversations", headers=d.owner_h, params={"counts": "false"})
    assert r.json()["counts"] is None
    assert len(r.json()["items"]) == 15


async def test_bad_list_parameters_are_422_with_the_error_body(db, factory, client):
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    await factory.message(channel)
    headers = bearer(await factory.token(ws, owner))
    await db.commit()
    bad: list[dict[str, Any]] = [
        {"cursor": "not-a-cursor"},
        {"cursor": "MjAyNi0wMS0wMVQwMDowMDowMHw="},  # "2026-01-01T00:00:00|" naive, no id
        {"limit": 0},
        {"limit": 1000},
        {"limit": "ten"},
        {"status": "closed"},
        {"assignee": "bob"},
        {"assignee": "-3"},
        {"since": "2026-01-01T00:00:00"},
        {"until": "2026-01-01T00:00:00"},
        {"since": "yesterday"},
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"view": "nope"},
        {"view": "-1"},
        {"platform": "myspace"},
        {"kind": "story"},
        {"priority": "HIGH"},
        {"tag_match": "some"},
        {"sort": "random"},
        {"unread": "maybe"},
        {"team": "x"},
        {"q": "x" * 201},
    ]
    for params in bad:
        r = await client.get("/api/v1/conversations", headers=headers, params=params)
        assert r.status_code == 422, (params, r.text)
        body = r.json()
        assert set(body) == {"error"}, body
        assert body["error"]["code"] == "invalid_input", (params, body)
        assert isinstance(body["error"]["message"], str), body
        assert body["error"]["message"], body
    r = await client.get("/api/v1/conversations", headers=headers, params={"view": "424242"})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found", r.text


async def test_a_tag_filter_follows_every_status_change(db, factory, client):
    """The status copied onto tag rows (for the tag index) follows completes, reopenings by a
    customer's new message and follow-ups coming due, so the tag filter never misses one."""
    from sqlalchemy import select

    from bandeja.core.conversations.models import Conversation, ConversationTag

    ws = await factory.workspace()
    owner, actor = await factory.user(ws, Role.owner, name="Olga")
    channel = await factory.channel(ws, Platform.instagram)
    tag = (await create_tag(db, actor, TagIn(name="legal"))).id
    first, _ = await factory.message(channel, person="a", thread="a")
    second, _ = await factory.message(channel, person="b", thread="b")
    for conv in (first, second):
        await actions.change_tags(db, actor, conv.id, add=[tag])
    await actions.complete(db, actor, first.id)
    await actions.follow_up(db, actor, second.id, datetime.now(UTC) + timedelta(hours=1))
    headers = bearer(await factory.token(ws, owner))
    await db.commit()

    async def tagged(status: str) -> list[int]:
        body = await _list(client, headers, {"tag": tag, "status": status})
        return [c["id"] for c in body["items"]]

    assert await tagged("open") == []
    assert await tagged("complete") == [first.id]
    assert await tagged("follow_up") == [second.id]
    # The customer writes again: the completed conversation is open again, under its tag too.
    await factory.message(channel, person="a", thread="a", at=datetime.now(UTC))
    # The follow-up comes due.
    await actions.reopen_due_follow_ups(db, now=datetime.now(UTC) + timedelta(hours=2))
    await db.commit()
    assert sorted(await tagged("open")) == sorted([first.id, second.id])
    assert await tagged("complete") == await tagged("follow_up") == []
    pairs = await db.execute(
        select(ConversationTag.status, Conversation.status).join(
            Conversation, Conversation.id == ConversationTag.conversation_id
        )
    )
    assert all(copy == real for copy, real in pairs)
