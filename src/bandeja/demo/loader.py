"""Load the demo workspace: Café Aurora's team inbox, a month of conversations in three languages.

Two steps. :func:`plan_demo` decides everything (people, channels, scripts, timestamps, who
answers, statuses) with a seeded ``random.Random``, touching no database: the same seed and
``now`` always give the same plan. :func:`load_demo` then writes the plan through the core's own
actions (the ones webhooks, the API and the CLI call), so the demo exercises the real write paths:
counters, search documents, read state, activity and events all come out as in production.

The only writes that bypass an action set *times*: actions stamp ``utcnow()``, and a demo whose
messages span thirty days would otherwise show every assignment, note and completion as made
"just now". None of those columns feeds the live counters (see ``conversations/counters.py``).
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.channels.sandbox.app import api_base_url as sandbox_api_base_url
from bandeja.core.access import Actor
from bandeja.core.activity.models import Activity
from bandeja.core.channels.actions import create_channel_account
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.channels.schemas import ChannelAccountIn
from bandeja.core.contacts.actions import IdentityInfo
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.conversations.actions import (
    assign,
    change_tags,
    complete,
    follow_up,
    mark_read,
    set_priority,
    set_team,
)
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.models import Conversation, Kind, Status
from bandeja.core.messages.actions import (
    IncomingMessage,
    ThreadInfo,
    receive_message,
    record_outbound,
)
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Message
from bandeja.core.notes.actions import add_note
from bandeja.core.notes.models import Note
from bandeja.core.saved_replies.actions import create_saved_reply
from bandeja.core.saved_replies.schemas import SavedReplyIn, VariantIn
from bandeja.core.security import SecretBox
from bandeja.core.tags.actions import create_tag
from bandeja.core.tags.models import TagGroup
from bandeja.core.tags.schemas import TagIn
from bandeja.core.text import fold
from bandeja.core.users.actions import add_member, create_team
from bandeja.core.users.models import Role, Team
from bandeja.core.users.schemas import TeamIn, UserIn
from bandeja.core.views.actions import create_view
from bandeja.core.views.schemas import ViewIn
from bandeja.core.workspaces.actions import create_workspace
from bandeja.core.workspaces.models import Workspace
from bandeja.demo import corpus
from bandeja.demo.corpus import Script, Side
from bandeja.storage.base import utcnow

DEMO_SLUG = "demo"
DEMO_NAME = "Demo: Café Aurora"

# How many conversations of each language and kind: about 45/30/25 % English/Spanish/Italian and
# 65/22/13 % DMs/comments/mentions, which is roughly what a European consumer brand receives.
MIX: dict[str, dict[Kind, int]] = {
    "en": {Kind.dm: 70, Kind.comment: 24, Kind.mention: 14},
    "es": {Kind.dm: 47, Kind.comment: 16, Kind.mention: 9},
    "it": {Kind.dm: 39, Kind.comment: 13, Kind.mention: 8},
}
CONVERSATIONS = sum(sum(kinds.values()) for kinds in MIX.values())
# Exact status counts (35 / 15 / 50 %), so that the inbox tabs look the same for every seed.
STATUS_COUNTS = {Status.open: 84, Status.follow_up: 36}
DAYS = 30


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    name: str


@dataclass(frozen=True)
class DemoResult:
    workspace_slug: str
    logins: list[DemoLogin]
    conversations: int
    messages: int


# --- The team ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Member:
    key: str  # also the local part of the e-mail, hence the @mention handle in notes
    name: str
    password: str
    role: Role
    locale: str
    speaks: tuple[str, ...]  # who may answer a customer in which language
    channels: tuple[str, ...] = ()  # agents only: what they see (admins see everything)

    @property
    def email(self) -> str:
        return f"{self.key}@cafe-aurora.example"


_MEMBERS = (
    _Member("olivia", "Olivia Grant", "demo-owner-pass", Role.owner, "en", ("en", "it")),
    _Member("tom", "Tom Hughes", "demo-admin-pass", Role.admin, "en", ("en", "es")),
    _Member(
        "lucia",
        "Lucía Martín",
        "demo-lucia-pass",
        Role.agent,
        "es",
        ("es", "en"),
        ("messenger", "instagram", "wa_madrid", "telegram"),
    ),
    _Member(
        "giulia",
        "Giulia Romano",
        "demo-giulia-pass",
        Role.agent,
        "it",
        ("it", "en"),
        ("instagram", "wa_milano", "telegram"),
    ),
    _Member(
        "sam",
        "Sam Patel",
        "demo-sam-pass",
        Role.agent,
        "en",
        ("en",),
        ("messenger", "instagram", "x", "linkedin"),
    ),
)
_MEMBER = {m.key: m for m in _MEMBERS}

DEMO_LOGINS: tuple[DemoLogin, ...] = tuple(
    DemoLogin(email=m.email, password=m.password, role=m.role.value, name=m.name) for m in _MEMBERS
)

_TEAMS = (("Customer care", ("lucia", "giulia", "sam")), ("Social & community", ("tom", "sam")))
_CARE, _SOCIAL = (name for name, _ in _TEAMS)


@dataclass(frozen=True, slots=True)
class _Channel:
    key: str
    platform: Platform
    external_id: str
    name: str
    handle: str  # what customers type after "@" in a mention
    city: str | None = None  # a local number serves one city's shops


_CHANNELS = (
    _Channel("messenger", Platform.messenger, "104857600000142", "Café Aurora", "cafeaurora"),
    _Channel("instagram", Platform.instagram, "17841400000000142", "@cafeaurora", "cafeaurora"),
    _Channel(
        "wa_madrid",
        Platform.whatsapp,
        "109876543210134",
        "Café Aurora Madrid",
        "cafeaurora",
        "madrid",
    ),
    _Channel(
        "wa_milano",
        Platform.whatsapp,
        "109876543210139",
        "Café Aurora Milano",
        "cafeaurora",
        "milan",
    ),
    _Channel("x", Platform.x, "1453987654321098752", "@CafeAurora", "CafeAurora"),
    _Channel(
        "linkedin",
        Platform.linkedin,
        "urn:li:organization:90412345",
        "Café Aurora Group",
        "cafe-aurora",
    ),
    _Channel("telegram", Platform.telegram, "7012345678", "@CafeAuroraBot", "CafeAuroraBot"),
)
_CHANNEL = {c.key: c for c in _CHANNELS}

# Where each language's conversations of each kind arrive (weights). WhatsApp numbers are local,
# so only their city's language arrives there; LinkedIn only has comments on the company page.
_ROUTES: dict[tuple[str, Kind], dict[str, int]] = {
    ("en", Kind.dm): {"messenger": 35, "instagram": 45, "x": 20},
    ("es", Kind.dm): {"instagram": 35, "wa_madrid": 45, "messenger": 15, "telegram": 5},
    ("it", Kind.dm): {"instagram": 30, "wa_milano": 35, "telegram": 25, "messenger": 10},
    ("en", Kind.comment): {"instagram": 55, "messenger": 25, "linkedin": 20},
    ("es", Kind.comment): {"instagram": 60, "messenger": 25, "linkedin": 15},
    ("it", Kind.comment): {"instagram": 60, "messenger": 20, "linkedin": 20},
    ("en", Kind.mention): {"x": 65, "instagram": 35},
    ("es", Kind.mention): {"x": 35, "instagram": 65},
    ("it", Kind.mention): {"x": 30, "instagram": 70},
}

# Shops keep local time; fixed offsets (winter time) keep the demo free of time-zone data files.
_UTC_OFFSET = {"london": 0, "madrid": 1, "milan": 1}
# When customers write, by local hour: a morning peak, lunch, and the evening scroll.
_HOUR_WEIGHTS = dict(
    zip(range(7, 24), (2, 5, 7, 7, 6, 6, 7, 5, 4, 4, 5, 6, 6, 5, 4, 3, 1), strict=True)
)


def _views(tag: dict[str, int], channel: dict[str, int]) -> list[tuple[str, ViewIn]]:
    """(member key, view): a few shared views for everybody and a personal one per agent."""
    open_or_waiting = [Status.open, Status.follow_up]
    return [
        (
            "olivia",
            ViewIn(
                name="Urgent & high priority",
                shared=True,
                position=1,
                filters=ConversationFilter(status=open_or_waiting, priorities=["urgent", "high"]),
            ),
        ),
        (
            "olivia",
            ViewIn(
                name="Complaints",
                shared=True,
                position=2,
                filters=ConversationFilter(status=open_or_waiting, tag_ids=[tag["complaint"]]),
            ),
        ),
        (
            "tom",
            ViewIn(
                name="Jobs",
                shared=True,
                position=3,
                filters=ConversationFilter(tag_ids=[tag["jobs"]]),
            ),
        ),
        (
            "lucia",
            ViewIn(
                name="Pedidos Madrid",
                position=1,
                filters=ConversationFilter(
                    status=[Status.open], channel_account_ids=[channel["wa_madrid"]]
                ),
            ),
        ),
        (
            "giulia",
            ViewIn(
                name="Milano: WhatsApp e Telegram",
                position=1,
                filters=ConversationFilter(
                    status=[Status.open],
                    channel_account_ids=[channel["wa_milano"], channel["telegram"]],
                ),
            ),
        ),
        (
            "sam",
            ViewIn(
                name="Mentions on X",
                position=1,
                filters=ConversationFilter(platforms=[Platform.x], kinds=[Kind.mention]),
            ),
        ),
    ]


# --- The plan ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    lang: str
    first: str
    last: str
    email: str
    # Per channel account: (external id, handle, display name). One identity per account, as
    # the platforms give them; the same person on two accounts is two contacts until merged.
    identities: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)
    dm_channels: list[str] = field(default_factory=list)

    @property
    def fullname(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    inbound: bool
    text: str
    sent_at: datetime
    external_id: str


@dataclass(slots=True)
class PlannedConversation:
    channel: str
    kind: Kind
    lang: str
    script: str
    person: _Person
    thread_key: str
    subject: str | None
    post_url: str | None
    status: Status
    messages: list[PlannedMessage]
    author: str  # the member who replies
    assignee: str | None
    team: str | None
    tags: list[str]
    priority: str
    triaged_at: datetime
    note: tuple[str, str, datetime] | None  # (author, text, time)
    readers: list[str]  # members who have read it
    follow_up_until: datetime | None = None
    completed_at: datetime | None = None

    @property
    def channel_name(self) -> str:
        return _CHANNEL[self.channel].name

    @property
    def identity(self) -> IdentityInfo:
        external_id, handle, display = self.person.identities[self.channel]
        return IdentityInfo(
            external_id=external_id, display_name=display, handle=handle, language=self.lang
        )


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


class _Planner:
    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.people: dict[str, list[_Person]] = {lang: [] for lang in corpus.LANGUAGES}
        self.names: set[tuple[str, str]] = set()
        self.taken_ids: set[tuple[str, str]] = set()
        self.decks: dict[str, list[Script]] = {}
        self.post_urls: dict[tuple[str, str], str] = {}
        self.serial = 0

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    # People ---------------------------------------------------------------------------------

    def new_person(self, lang: str) -> _Person:
        rng = self.rng
        while True:
            first = rng.choice(corpus.FIRST_NAMES[lang])
            last = rng.choice(corpus.LAST_NAMES[lang])
            if (first, last) not in self.names:
                break
        self.names.add((first, last))
        domain = rng.choice(("example.com", "example.net", "example.org"))
        person = _Person(lang, first, last, f"{_ascii(first)}.{_ascii(last)}@{domain}")
        self.people[lang].append(person)
        return person

    def handle(self, first: str, last: str, platform: Platform) -> str | None:
        if platform not in (Platform.instagram, Platform.x, Platform.telegram):
            return None  # Messenger, WhatsApp and LinkedIn show names, not handles
        f, surname, n = _ascii(first), _ascii(last), self.rng.randrange(2, 99)
        handle = self.rng.choice(
            (
                f"{f}.{surname}",
                f"{f}{surname}",
                f"{f}_{surname}",
                f"{f}.{surname}{n}",
                f"{f}{surname[0]}{n}",
                f"{f[0]}{surname}",
                f"{f}_{surname[:3]}{n}",
            )
        )
        return handle if platform is Platform.instagram else handle.replace(".", "_")

    def platform_id(self, channel: _Channel, lang: str) -> str:
        """A new id in the shape the platform uses (PSID, IGSID, phone number, URN, ...)."""
        rng = self.rng
        while True:
            match channel.platform:
                case Platform.messenger:
                    value = str(rng.randrange(10**15, 10**16))
                case Platform.instagram:
                    value = str(rng.randrange(10**16, 10**17))
                case Platform.whatsapp:
                    prefix = {"es": "346", "it": "393", "en": "447"}[lang]
                    value = prefix + str(rng.randrange(10**8, 10**9))
                case Platform.x:
                    value = str(rng.randrange(10**17, 10**19))
                case Platform.linkedin:
                    chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
                    value = "urn:li:person:" + "".join(rng.choice(chars) for _ in range(10))
                case _:
                    value = str(rng.randrange(10**8, 10**10))
            if (channel.key, value) not in self.taken_ids:
                self.taken_ids.add((channel.key, value))
                return value

    def identity(self, person: _Person, channel: _Channel) -> None:
        if channel.key in person.identities:
            return
        handle = self.handle(person.first, person.last, channel.platform)
        # WhatsApp shows the profile name people chose, often just a first name.
        display = (
            person.first
            if channel.platform is Platform.whatsapp and self.rng.random() < 0.3
            else person.fullname
        )
        person.identities[channel.key] = (self.platform_id(channel, person.lang), handle, display)

    def person_for(self, index: int, lang: str, channel: _Channel, kind: Kind) -> _Person:
        """Mostly new people; some come back on another platform, some on the same one."""
        earlier = self.people[lang]
        if index % 20 == 19:  # wrote on two platforms: two identities, two contacts (unmerged)
            candidates = [p for p in earlier if channel.key not in p.identities]
        elif index % 29 == 28:  # a regular: a comment and a DM on the same account
            candidates = [
                p
                for p in earlier
                if channel.key in p.identities
                and not (kind is Kind.dm and channel.key in p.dm_channels)
            ]
        else:
            candidates = []
        person = self.rng.choice(candidates) if candidates else self.new_person(lang)
        self.identity(person, channel)
        if kind is Kind.dm:
            person.dm_channels.append(channel.key)
        return person

    # Scripts ----------------------------------------------------------------------------------

    def script(self, lang: str, kind: Kind, channel: _Channel) -> Script:
        """Deal scripts from a shuffled deck per pool, so that all of them get used evenly."""
        if kind is Kind.dm:
            pool, scripts = "dm", corpus.DM_SCRIPTS[lang]
        elif kind is Kind.mention:
            pool, scripts = "mention", corpus.MENTION_SCRIPTS[lang]
        elif channel.platform is Platform.linkedin:
            pool, scripts = "linkedin", corpus.LINKEDIN_SCRIPTS[lang]
        else:
            pool, scripts = "comment", corpus.COMMENT_SCRIPTS[lang]
        deck = self.decks.setdefault(f"{lang}:{pool}", [])
        if not deck:
            deck.extend(scripts)
            self.rng.shuffle(deck)
        return deck.pop()

    def shortcode(self) -> str:
        chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        return "".join(self.rng.choice(chars) for _ in range(11))

    def post_url(self, channel: _Channel, post: corpus.Post) -> str:
        key = (channel.key, post.text)
        if key not in self.post_urls:
            rng = self.rng
            if channel.platform is Platform.instagram:
                url = f"https://www.instagram.com/p/{self.shortcode()}/"
            elif channel.platform is Platform.linkedin:
                url = (
                    "https://www.linkedin.com/feed/update/urn:li:activity:"
                    f"{rng.randrange(10**18, 10**19)}/"
                )
            else:
                url = f"https://www.facebook.com/cafeaurora/posts/{rng.randrange(10**15, 10**16)}"
            self.post_urls[key] = url
        return self.post_urls[key]

    # Time -------------------------------------------------------------------------------------

    def start(self, status: Status, assigned: bool, offset: int) -> datetime:
        rng = self.rng
        if status is Status.complete:
            days_ago = rng.randint(1, DAYS - 1)
        elif status is Status.follow_up:
            days_ago = rng.randint(1, 9)
        else:  # open work is recent: new messages today, ongoing ones this week
            days_ago = rng.randint(0, 3) if assigned else rng.randint(0, 1)
        local_day = (self.now + timedelta(hours=offset) - timedelta(days=days_ago)).date()
        hour = rng.choices(list(_HOUR_WEIGHTS), weights=list(_HOUR_WEIGHTS.values()))[0]
        local = datetime.combine(local_day, time(hour, rng.randrange(60), rng.randrange(60)))
        return (local - timedelta(hours=offset)).replace(tzinfo=UTC)

    def business(self, at: datetime, offset: int, opens: int = 8, closes: int = 20) -> datetime:
        """The team works ``opens``-``closes`` local time; later messages wait for the morning."""
        local = at + timedelta(hours=offset)
        if opens <= local.hour < closes:
            return at
        day = local.date() if local.hour < opens else local.date() + timedelta(days=1)
        morning = datetime.combine(day, time(opens)).replace(tzinfo=UTC) - timedelta(hours=offset)
        return morning + timedelta(minutes=self.rng.randint(10, 90), seconds=self.rng.randrange(60))

    def timeline(self, sides: list[Side], start: datetime, offset: int) -> list[datetime]:
        rng = self.rng
        times = [start]
        for previous, side in itertools.pairwise(sides):
            at = times[-1]
            if side is Side.agent:
                band = rng.choices(((3, 30), (30, 180), (180, 480)), weights=(55, 35, 10))[0]
                if previous is Side.agent:  # checked with the shop, then came back
                    band = (20, 150)
                at = self.business(at + timedelta(minutes=rng.randint(*band)), offset)
            elif previous is Side.customer:  # a second message right after the first
                at += timedelta(seconds=rng.randint(20, 240))
            else:
                band = rng.choices(((1, 60), (60, 600)), weights=(70, 30))[0]
                at = self.business(at + timedelta(minutes=rng.randint(*band)), offset, 7, 24)
            times.append(at + timedelta(seconds=rng.randrange(60)))
        latest = self.now - timedelta(minutes=5)
        if times[-1] > latest:  # a thread that would end in the future happened a bit earlier
            shift = times[-1] - latest + timedelta(minutes=rng.randint(0, 180))
            times = [t - shift for t in times]
        return times

    # Conversations ----------------------------------------------------------------------------

    def slots(
        self,
        person: _Person,
        channel: _Channel,
        lang: str,
        author: str,
        first_at: datetime,
        offset: int,
        post: corpus.Post | None,
    ) -> dict[str, str]:
        rng = self.rng
        city = channel.city or corpus.CITY_OF_LANGUAGE[lang]
        item = post.item if post and post.item else rng.choice(corpus.ITEMS[lang])
        local = first_at + timedelta(hours=offset)

        def clock(minutes: int) -> str:
            at = local + timedelta(minutes=minutes)
            return f"{at.hour}:{at.minute - at.minute % 5:02d}"

        friend = self.handle(
            rng.choice(corpus.FIRST_NAMES[lang]),
            rng.choice(corpus.LAST_NAMES[lang]),
            Platform.instagram,
        )
        return {
            "name": person.first,
            "fullname": person.fullname,
            "agent": _MEMBER[author].name.split()[0],
            "shop": rng.choice(corpus.SHOPS[city]),
            "item": item,
            "Item": item[:1].upper() + item[1:],
            "drink": rng.choice(corpus.DRINKS[lang]),
            "order": f"#{corpus.ORDER_PREFIX[lang]}-{rng.randrange(10000, 99999)}",
            "time": clock(-rng.randint(50, 80)),
            "pickup": clock(rng.randint(30, 45)),
            "day": corpus.WEEKDAYS[lang][(local.weekday() + rng.randint(2, 5)) % 7],
            "email": person.email,
            "friend": friend or "",
            "brand": channel.handle,
        }

    def author(self, channel: _Channel, lang: str) -> str:
        """Who answers: someone who sees the channel and speaks the language, mostly the agent
        whose own language it is; the leads step in now and then."""
        candidates, weights = [], []
        for m in _MEMBERS:
            if lang not in m.speaks or (m.role is Role.agent and channel.key not in m.channels):
                continue
            candidates.append(m.key)
            if m.role is Role.agent:
                weights.append(8 if m.locale == lang else 1)
            else:
                weights.append(2 if m.role is Role.admin else 1)
        return self.rng.choices(candidates, weights=weights)[0]

    def cut(self, script: Script, status: Status, assigned: bool) -> int:
        """How many turns of the script have happened so far."""
        turns = script.turns
        customer_ends = [i + 1 for i, t in enumerate(turns) if t.side is Side.customer]
        agent_ends = [i + 1 for i, t in enumerate(turns) if t.side is Side.agent]
        if status is Status.follow_up:  # the team spoke last and is waiting for something
            return self.rng.choice([n for n in agent_ends if n < len(turns)])
        if status is Status.open:
            if not assigned:  # nobody has answered yet: only the customer's opening words
                return agent_ends[0] - 1 if agent_ends else len(turns)
            later = [n for n in customer_ends if n > 1]
            return self.rng.choice(later or customer_ends)
        # Many finished threads end on the team's answer, without the customer's "thanks".
        if turns[-1].side is Side.customer and agent_ends and self.rng.random() < 0.3:
            return agent_ends[-1]
        return len(turns)

    def conversation(
        self,
        index: int,
        lang: str,
        kind: Kind,
        channel: _Channel,
        script: Script,
        status: Status,
        assigned: bool,
    ) -> PlannedConversation:
        rng, now = self.rng, self.now
        person = self.person_for(index, lang, channel, kind)
        city = channel.city or corpus.CITY_OF_LANGUAGE[lang]
        offset = _UTC_OFFSET[city]
        turns = script.turns[: self.cut(script, status, assigned)]
        sides = [t.side for t in turns]
        times = self.timeline(sides, self.start(status, assigned, offset), offset)
        author = self.author(channel, lang)
        post = None
        subject = post_url = None
        if kind is Kind.dm:
            thread_key = person.identities[channel.key][0]
        elif kind is Kind.comment:
            posts = (
                corpus.LINKEDIN_POSTS if channel.platform is Platform.linkedin else corpus.POSTS
            )[lang]
            post = rng.choice(posts)
            subject, post_url = post.text, self.post_url(channel, post)
            thread_key = f"demo-comment-{self.next_serial():05d}"
        else:
            thread_key = f"demo-mention-{self.next_serial():05d}"
            handle = person.identities[channel.key][1] or "user"
            post_url = (
                f"https://x.com/{handle}/status/{rng.randrange(10**18, 10**19)}"
                if channel.platform is Platform.x
                else f"https://www.instagram.com/p/{self.shortcode()}/"
            )
        slots = self.slots(person, channel, lang, author, times[0], offset, post)
        messages = []
        for turn, at in zip(turns, times, strict=True):
            inbound = turn.side is Side.customer
            prefix = f"demo-{channel.key}" if inbound else "demo-out"
            messages.append(
                PlannedMessage(
                    inbound,
                    rng.choice(turn.texts).format(**slots),
                    at,
                    f"{prefix}-{self.next_serial():05d}",
                )
            )

        first_reply = next((m.sent_at for m in messages if not m.inbound), None)
        last_at = messages[-1].sent_at
        triaged_at = min(
            first_reply - timedelta(minutes=1)
            if first_reply
            else times[0] + timedelta(minutes=rng.randint(2, 40)),
            now - timedelta(minutes=1),
        )
        triaged_at = max(triaged_at, times[0])

        if status is Status.complete:
            assignee = author if rng.random() < 0.9 else None
        else:
            assignee = author if assigned else None
        team = None
        if assignee and rng.random() < 0.7:
            team = _CARE if script.type in ("complaint", "order") else _SOCIAL

        tag_chance = {Status.complete: 0.75, Status.follow_up: 0.9}.get(
            status, 0.6 if assigned else 0.2
        )
        tagged = rng.random() < tag_chance
        if script.escalated:
            priority = "urgent"
        elif script.angry:
            priority = "urgent" if rng.random() < 0.3 else "high"
        elif tagged and script.type == "order":
            priority = "medium" if rng.random() < 0.5 else "none"
        elif tagged and script.type == "question":
            priority = "low" if rng.random() < 0.15 else "none"
        else:
            priority = "none"
        tags: list[str] = []
        if tagged or script.angry:
            tags = [script.type, *script.topics]
            if priority == "urgent":
                tags.append("urgent")
            if script.escalated:
                tags.append("escalated")
            if rng.random() < 0.04:
                tags.append("vip")

        note = None
        if assignee and len(messages) >= 2 and rng.random() < 0.16:
            note = self.note(assignee, script, slots, first_reply or triaged_at, last_at)

        # Read state is per member: the owner keeps up with everything, the others have read
        # what they handled.
        readers = list(dict.fromkeys(k for k in ("olivia", author, assignee) if k))
        if status is Status.open and messages[-1].inbound:
            # New customer words: unread for the whole team, or seen only by the assignee.
            if rng.random() < (0.85 if not assignee else 0.6):
                readers = []
            else:
                readers = [assignee] if assignee else []

        planned = PlannedConversation(
            channel=channel.key,
            kind=kind,
            lang=lang,
            script=script.key,
            person=person,
            thread_key=thread_key,
            subject=subject,
            post_url=post_url,
            status=status,
            messages=messages,
            author=author,
            assignee=assignee,
            team=team,
            tags=tags,
            priority=priority,
            triaged_at=triaged_at,
            note=note,
            readers=readers,
        )
        if status is Status.complete:
            planned.completed_at = min(
                last_at + timedelta(minutes=rng.randint(2, 90)), now - timedelta(minutes=1)
            )
        elif status is Status.follow_up:
            local_now = now + timedelta(hours=offset)
            day = local_now.date() + timedelta(days=rng.randint(1, 3))
            local = datetime.combine(day, time(9)) + timedelta(minutes=15 * rng.randint(0, 6))
            planned.follow_up_until = (local - timedelta(hours=offset)).replace(tzinfo=UTC)
        return planned

    def note(
        self,
        author: str,
        script: Script,
        slots: dict[str, str],
        after: datetime,
        before: datetime,
    ) -> tuple[str, str, datetime]:
        rng = self.rng
        # Complaints go to whoever approves refunds; the rest to any teammate.
        mates = [
            m
            for m in _MEMBERS
            if m.key != author and (script.type != "complaint" or m.role is not Role.agent)
        ]
        mate = rng.choice(mates)
        # Written in the author's language when the teammate reads it, else in English.
        lang = _MEMBER[author].locale if _MEMBER[author].locale in mate.speaks else "en"
        text = rng.choice(corpus.NOTES[lang][script.type]).format(mate=mate.key, **slots)
        at = after + timedelta(minutes=rng.randint(1, 15))
        return author, text, min(at, max(before, after), self.now - timedelta(minutes=1))

    def plan(self) -> list[PlannedConversation]:
        rng = self.rng
        slots = [
            (lang, kind)
            for lang, kinds in MIX.items()
            for kind, n in kinds.items()
            for _ in range(n)
        ]
        rng.shuffle(slots)
        routed = []
        for lang, kind in slots:
            route = _ROUTES[(lang, kind)]
            channel = _CHANNEL[rng.choices(list(route), weights=list(route.values()))[0]]
            routed.append((lang, kind, channel, self.script(lang, kind, channel)))

        # Exact status counts. A follow-up needs a script where the team spoke and more was to
        # come; the open ones are split between untouched (unassigned) and in progress.
        indices = list(range(len(routed)))
        waiting = [i for i in indices if any(t.side is Side.agent for t in routed[i][3].turns[:-1])]
        follow_ups = set(rng.sample(waiting, STATUS_COUNTS[Status.follow_up]))
        rest = [i for i in indices if i not in follow_ups]
        opens = set(rng.sample(rest, STATUS_COUNTS[Status.open]))

        planned = []
        for i, (lang, kind, channel, script) in enumerate(routed):
            status = (
                Status.follow_up
                if i in follow_ups
                else Status.open
                if i in opens
                else Status.complete
            )
            assigned = status is not Status.open or rng.random() < 0.55
            planned.append(self.conversation(i, lang, kind, channel, script, status, assigned))

        # Oldest first, so that ids grow with time as they would have in real life.
        planned.sort(key=lambda c: c.messages[0].sent_at)
        return planned


def plan_demo(*, now: datetime, seed: int = 7) -> list[PlannedConversation]:
    """Everything the demo will contain, decided without touching a database."""
    if now.tzinfo is None:
        raise ValueError("now needs a time zone")
    return _Planner(seed, now).plan()


# --- Writing it ----------------------------------------------------------------------------


def _stamp(session: AsyncSession, at: datetime) -> None:
    """Date the activity rows an action just added (still pending) to when it happened."""
    for obj in session.new:
        if isinstance(obj, Activity) and obj.created_at is None:
            obj.created_at = at


def _credentials(seed: int, channel: _Channel) -> dict[str, str]:
    # A stream of its own, so that changing the corpus never changes the demo's secrets.
    rng = random.Random(f"bandeja-demo:{seed}:{channel.key}")
    return {
        "signing_secret": rng.randbytes(16).hex(),
        "access_token": f"demo-{channel.platform.value}-" + rng.randbytes(24).hex(),
        "verify_token": f"demo-verify-{rng.randbytes(6).hex()}",
    }


async def demo_exists(session: AsyncSession) -> bool:
    return await session.scalar(select(Workspace.id).where(Workspace.slug == DEMO_SLUG)) is not None


@dataclass(slots=True)
class _Context:
    workspace_id: int
    actors: dict[str, Actor]
    channels: dict[str, ChannelAccount]
    # The Team objects themselves, not ids: the session's identity map holds objects weakly, and
    # keeping them referenced lets ``set_team``'s lookup answer without a query.
    teams: dict[str, Team]
    tags: dict[str, int]


async def _setup(
    session: AsyncSession,
    *,
    box: SecretBox,
    seed: int,
    setup_at: datetime,
    sandbox_base_url: str | None,
) -> _Context:
    workspace = await create_workspace(session, slug=DEMO_SLUG, name=DEMO_NAME)
    workspace.created_at = setup_at
    actors: dict[str, Actor] = {}
    for member in _MEMBERS:
        user = await add_member(
            session,
            workspace_id=workspace.id,
            data=UserIn(
                email=member.email,
                name=member.name,
                password=member.password,
                role=member.role,
                locale=member.locale,
            ),
        )
        _stamp(session, setup_at)
        actors[member.key] = Actor(
            user_id=user.id, workspace_id=workspace.id, role=member.role, name=member.name
        )
    owner = actors["olivia"]
    channels: dict[str, ChannelAccount] = {}
    for spec in _CHANNELS:
        members = [actors[m.key].user_id for m in _MEMBERS if spec.key in m.channels]
        # The sandbox serves each platform's API under its own prefix (the Graph API paths of
        # Messenger, Instagram and WhatsApp would collide otherwise): ask it for the URL.
        settings = (
            {"api_base_url": sandbox_api_base_url(sandbox_base_url, spec.platform)}
            if sandbox_base_url
            else {}
        )
        channel = await create_channel_account(
            session,
            workspace_id=workspace.id,
            box=box,
            actor=owner,
            data=ChannelAccountIn(
                platform=spec.platform,
                external_id=spec.external_id,
                name=spec.name,
                credentials=_credentials(seed, spec),
                settings=settings,
                member_ids=members,
            ),
        )
        channel.created_at = setup_at
        _stamp(session, setup_at)
        channels[spec.key] = channel
    teams: dict[str, Team] = {}
    for name, keys in _TEAMS:
        team = await create_team(
            session, owner, TeamIn(name=name, member_ids=[actors[k].user_id for k in keys])
        )
        team.created_at = setup_at
        _stamp(session, setup_at)
        teams[name] = team
    tags: dict[str, int] = {}
    for name, group, color in corpus.TAGS:
        tag = await create_tag(session, owner, TagIn(name=name, group=TagGroup(group), color=color))
        tag.created_at = setup_at
        _stamp(session, setup_at)
        tags[name] = tag.id
    for key, data in _views(tags, {k: c.id for k, c in channels.items()}):
        view = await create_view(session, actors[key], data)
        view.created_at = setup_at
        _stamp(session, setup_at)
    for name, shortcut, texts in corpus.SAVED_REPLIES:
        reply = await create_saved_reply(
            session,
            owner,
            SavedReplyIn(
                name=name,
                shortcut=shortcut,
                shared=True,
                variants=[VariantIn(language=lang, body=body) for lang, body in texts.items()],
            ),
        )
        reply.created_at = reply.updated_at = setup_at
        _stamp(session, setup_at)
    return _Context(
        workspace_id=workspace.id, actors=actors, channels=channels, teams=teams, tags=tags
    )


async def _write(session: AsyncSession, ctx: _Context, planned: PlannedConversation) -> None:
    channel = ctx.channels[planned.channel]
    thread = ThreadInfo(
        kind=planned.kind,
        key=planned.thread_key,
        subject=planned.subject,
        post_url=planned.post_url,
    )
    author = ctx.actors[planned.author]
    conversation: Conversation | None = None
    last_outbound = max((i for i, m in enumerate(planned.messages) if not m.inbound), default=-1)
    # Every message goes in before any status change: a customer message dated after
    # ``completed_at`` would reopen the conversation.
    for i, planned_message in enumerate(planned.messages):
        if planned_message.inbound:
            message, _ = await receive_message(
                session,
                channel,
                planned.identity,
                thread,
                IncomingMessage(
                    external_id=planned_message.external_id,
                    text=planned_message.text,
                    sent_at=planned_message.sent_at,
                ),
            )
            if conversation is None:
                conversation = await session.get(Conversation, message.conversation_id)
        else:
            assert conversation is not None  # every script opens with the customer
            # Comment replies and mentions have no read receipts; the last DM may be unseen.
            seen = planned.kind is Kind.dm and (
                i != last_outbound or planned.status is Status.complete
            )
            message = await record_outbound(
                session,
                conversation,
                text=planned_message.text,
                sent_at=planned_message.sent_at,
                author_type=AuthorType.user,
                author_user_id=author.user_id,
                status=DeliveryStatus.read if seen else DeliveryStatus.delivered,
                external_id=planned_message.external_id,
            )
    assert conversation is not None
    # The triage below is several actions in a row. Flushing once after all of them, rather
    # than before each action's query, writes one UPDATE of the conversation and only the net
    # counter moves (about a third fewer statements in all). The actions only read rows that
    # were flushed before, so what they see does not change; the counter hook diffs per flush.
    with session.no_autoflush:
        await _triage(session, ctx, planned, conversation)


async def _triage(
    session: AsyncSession, ctx: _Context, planned: PlannedConversation, conversation: Conversation
) -> None:
    cid = conversation.id
    actor = ctx.actors[planned.assignee or planned.author]
    at = planned.triaged_at
    if planned.team:
        await set_team(session, actor, cid, ctx.teams[planned.team].id)
        _stamp(session, at)
    if planned.assignee:
        await assign(session, actor, cid, actor.user_id)
        _stamp(session, at)
    if planned.tags:
        await change_tags(session, actor, cid, add=[ctx.tags[t] for t in planned.tags])
        _stamp(session, at)
    if planned.priority != "none":
        await set_priority(session, actor, cid, planned.priority)
        _stamp(session, at)
    if planned.note:
        note_author, text, note_at = planned.note
        out = await add_note(session, ctx.actors[note_author], cid, text)
        note = await session.get(Note, out.id)
        assert note is not None
        note.created_at = note_at
        _stamp(session, note_at)
    if planned.status is Status.complete:
        assert planned.completed_at is not None
        await complete(session, actor, cid)
        conversation.completed_at = planned.completed_at
        _stamp(session, planned.completed_at)
    elif planned.status is Status.follow_up:
        until = planned.follow_up_until
        assert until is not None
        # ``follow_up`` wants a time in the future of the wall clock; a demo planned for an
        # earlier ``now`` (tests pin it) still gets its planned time, set after the action.
        wall = utcnow()
        await follow_up(session, actor, cid, max(until, wall + timedelta(minutes=5)))
        conversation.follow_up_until = until
        _stamp(session, planned.messages[-1].sent_at + timedelta(minutes=1))
    for reader in planned.readers:
        await mark_read(session, ctx.actors[reader], cid)


async def _date_rows(session: AsyncSession, workspace_id: int) -> None:
    """Creation times follow the story: a row was created when its first message arrived.

    Ingest stamps the wall clock on messages, conversations, contacts and identities; four
    set-based UPDATEs date them all at once instead of one UPDATE per row (none of these
    columns feeds the counters, and nothing in the session reads them afterwards).
    """
    ws = workspace_id
    statements = [
        update(Message).where(Message.workspace_id == ws).values(created_at=Message.sent_at),
        update(Conversation)
        .where(Conversation.workspace_id == ws)
        .values(
            created_at=select(func.min(Message.sent_at))
            .where(Message.conversation_id == Conversation.id)
            .scalar_subquery()
        ),
        update(Contact)
        .where(Contact.workspace_id == ws)
        .values(
            created_at=select(func.min(Conversation.created_at))
            .where(Conversation.contact_id == Contact.id)
            .scalar_subquery()
        ),
        update(ContactIdentity)
        .where(ContactIdentity.workspace_id == ws)
        .values(
            created_at=select(func.min(Conversation.created_at))
            .where(
                Conversation.contact_id == ContactIdentity.contact_id,
                Conversation.channel_account_id == ContactIdentity.channel_account_id,
            )
            .scalar_subquery()
        ),
    ]
    for statement in statements:
        await session.execute(statement.execution_options(synchronize_session=False))


async def load_demo(
    session: AsyncSession,
    *,
    box: SecretBox,
    now: datetime | None = None,
    seed: int = 7,
    sandbox_base_url: str | None = None,
) -> DemoResult:
    """Create the "demo" workspace and its month of conversations. Flushes; the caller commits.

    With ``sandbox_base_url`` (the sandbox's root URL), every channel account sends through the
    sandbox instead of the real platform.

    Deterministic for a given ``seed`` and ``now`` (except the wall-clock times that actions
    stamp and the demo does not override, such as read receipts).
    """
    now = now or utcnow()
    plan = plan_demo(now=now, seed=seed)
    ctx = await _setup(
        session,
        box=box,
        seed=seed,
        setup_at=now - timedelta(days=45),
        sandbox_base_url=sandbox_base_url,
    )
    for planned in plan:
        await _write(session, ctx, planned)
    await session.flush()
    await _date_rows(session, ctx.workspace_id)
    return DemoResult(
        workspace_slug=DEMO_SLUG,
        logins=list(DEMO_LOGINS),
        conversations=len(plan),
        messages=sum(len(p.messages) for p in plan),
    )


def summary(plan: list[PlannedConversation]) -> dict[str, Counter[str]]:
    """Counts by language, kind, status and platform: what the demo promises, for tests and docs."""
    return {
        "lang": Counter(p.lang for p in plan),
        "kind": Counter(p.kind.value for p in plan),
        "status": Counter(p.status.value for p in plan),
        "platform": Counter(_CHANNEL[p.channel].platform.value for p in plan),
    }
