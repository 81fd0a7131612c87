"""Inbox query benchmark: p50/p95 of the inbox reads over a large workspace, on both backends.

    .venv/bin/python -m bench.inbox_queries --conversations 20000          # quick, < 1 minute
    .venv/bin/python -m bench.inbox_queries --backends postgresql           # 1M conversations

It builds one workspace of N conversations (~5 messages each) straight into the tables created by
the Alembic migrations, then times the project's own query functions (``list_conversations``,
``count_conversations``, ``conversation_detail`` + ``list_messages`` + ``notes_of`` +
``activity_of``), exactly as a request calls them: one fresh session per run. It prints figures and
the targets; it asserts nothing about speed.

The load bypasses the ORM (COPY on PostgreSQL, ``executemany`` on SQLite), so it re-creates by hand
what the actions would have stored: ``conversation_counts`` is rebuilt with ``counters.rebuild``,
``search_document`` is built as ``search.initial_document`` + ``search.append`` build it (checked
against them on a sample), and each conversation's times, preview and count match its messages.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol, TextIO

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bandeja.core.access import Actor
from bandeja.core.activity.queries import activity_of
from bandeja.core.conversations import counters, search
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.queries import (
    conversation_detail,
    count_conversations,
    list_conversations,
)
from bandeja.core.messages.queries import list_messages
from bandeja.core.models import (
    ChannelAccount,
    ChannelMember,
    Conversation,
    Membership,
    Platform,
    Role,
    Status,
    Tag,
    TagGroup,
    User,
    Workspace,
)
from bandeja.core.notes.queries import notes_of
from bandeja.core.text import fold, snippet
from bandeja.storage.engine import create_engine, session_factory
from bandeja.storage.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
Row = tuple[Any, ...]
# Wide enough for the results table when the output goes to a file (rich assumes 80 columns).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)

# --------------------------------------------------------------------------------------------
# The shape of the workspace
# --------------------------------------------------------------------------------------------

WORKSPACE_SLUG = "bench"
# Timestamps are spread over the year before a fixed instant, so that runs are reproducible.
END = datetime(2026, 11, 22, tzinfo=UTC)
YEAR = timedelta(days=365)

# (email, name, role). The benchmark's agent is the third user.
USERS = [
    ("owner@bench.example", "Olga Owner", Role.owner),
    ("admin@bench.example", "Adrián Admin", Role.admin),
    ("agent1@bench.example", "Giulia Agente", Role.agent),
    ("agent2@bench.example", "Tom Agent", Role.agent),
    ("agent3@bench.example", "Lucía Agente", Role.agent),
]
AGENT = 2

# (platform, name, share of conversations in %, the benchmark agent is a member). Skewed like a
# real shop: Instagram and WhatsApp busy, LinkedIn nearly silent. The agent sees half the accounts.
CHANNELS = [
    ("messenger", "Tienda Roma (Facebook)", 16, True),
    ("messenger", "Outlet (Facebook)", 6, False),
    ("instagram", "@tienda.roma", 22, True),
    ("instagram", "@outlet", 8, False),
    ("whatsapp", "+34 WhatsApp", 18, True),
    ("whatsapp", "+39 WhatsApp", 10, False),
    ("x", "@tienda on X", 6, True),
    ("linkedin", "Tienda SL", 2, False),
    ("telegram", "Tienda bot", 7, True),
    ("telegram", "Outlet bot", 5, False),
]
THREE_PLATFORMS = [Platform.whatsapp, Platform.telegram, Platform.linkedin]

RARE_TAG = "legal"  # on exactly 1 conversation in 2,000 (0.05 %)
COMMON_TAG = "question"  # on ~30 %
OTHER_TAGS = ["order", "complaint", "urgent", "spam"]  # ~3 % each
RARE_TAG_EVERY, RARE_TAG_AT = 2_000, 1_001
COMMON_TAG_SHARE = 0.30
OTHER_TAG_SHARE = 0.03

# Text search: a word in exactly 1 conversation in 10,000 (0.01 %), and a word of the Spanish and
# Italian vocabularies that ends up in roughly a third of all conversations.
RARE_WORD = "quokka"
RARE_WORD_EVERY, RARE_WORD_AT = 10_000, 777
COMMON_WORD = "problema"

LANGUAGES = {
    "en": (
        0.40,
        "hello hi thanks order delivery refund price size shipping account password "
        "broken question help please tomorrow today store payment invoice discount return "
        "package address available color stock week wrong received still waiting update "
        "cancel problem great love product quality when where how much photo link number "
        "tracking late support",
    ),
    "es": (
        0.35,
        "hola buenas gracias pedido envío reembolso precio talla cuenta contraseña roto "
        "pregunta ayuda favor mañana hoy tienda pago factura descuento devolución paquete "
        "dirección disponible color semana equivocado recibí todavía esperando cancelar "
        "problema genial producto calidad cuándo dónde cómo cuánto foto enlace número "
        "seguimiento tarde servicio también",
    ),
    "it": (
        0.25,
        "ciao buongiorno grazie ordine consegna rimborso prezzo taglia spedizione "
        "account rotto domanda aiuto perché domani oggi negozio pagamento fattura sconto reso "
        "pacco indirizzo disponibile colore settimana sbagliato ricevuto ancora aspettando "
        "annullare problema bellissimo prodotto qualità quando dove come quanto foto link "
        "numero tracciamento ritardo servizio città già più",
    ),
}
# Contact names (folded into search_document, so accents matter); split once at import.
FIRST_NAMES_TEXT = (
    "José Lucía María Giulia Niccolò Zoë Renée Ana Pablo Sofía Chiara Luca Matteo Álvaro Inés "
    "Emma Olivia Noah Liam Ava Marco Francesca Andrés Camila Elena Tomás Irene Federico Paula "
    "Hugo Martina Lorenzo Valeria Diego Beatriz Alessandro Carmen Sergio Aurora Mateo"
)
LAST_NAMES_TEXT = (
    "García Rossi Smith López Bianchi Johnson Martínez Romano Brown Sánchez Colombo Jones Pérez "
    "Ricci Williams Gómez Marino Taylor Fernández Greco Davies Díaz Bruno Evans Moreno Gallo "
    "Wilson Muñoz Conti Thomas Álvarez Ferrari Roberts Romero Costa Walker Navarro Giordano "
    "Wright Torres Mancini Hall Domínguez Lombardi Green Vázquez Barbieri Hill Ramos Moretti"
)
FIRST_NAMES = FIRST_NAMES_TEXT.split()
LAST_NAMES = LAST_NAMES_TEXT.split()
SENTENCES_PER_LANGUAGE = 4_000

# A private server sized for the reference machine (2 cores, 24 GiB RAM, SSD-backed VM).
PG_SETTINGS = {
    "shared_buffers": "2GB",
    "effective_cache_size": "16GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    # SSD: a random page costs little more than a sequential one; the default (4) is for disks.
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
}

# Tables this benchmark fills in bulk, and the column order of the generated rows (children
# after parents: foreign-key checks may be on). One row per line reads better than one value.
# fmt: off
BULK_TABLES = ["contacts", "conversations", "messages", "conversation_tags", "activities", "notes"]
CONTACT_COLUMNS = ("id", "workspace_id", "name", "search_name", "avatar_url", "language",
                   "updated_at", "created_at")
CONVERSATION_COLUMNS = (
    "id", "workspace_id", "channel_account_id", "contact_id", "kind", "thread_key", "subject",
    "post_url", "status", "follow_up_until", "completed_at", "assignee_id", "team_id",
    "priority", "last_activity_at", "last_inbound_at", "last_inbound_received_at",
    "last_outbound_at", "last_message_preview", "message_count", "search_document", "created_at",
)
MESSAGE_COLUMNS = (
    "id", "workspace_id", "conversation_id", "channel_account_id", "direction", "author_type",
    "author_user_id", "author_contact_id", "text", "attachments", "external_id",
    "reply_to_external_id", "sent_at", "status", "error_code", "error_message",
    "is_private_reply", "edited_at", "deleted_at", "reactions", "extra", "created_at",
)
TAG_COLUMNS = ("conversation_id", "tag_id", "status")
ACTIVITY_COLUMNS = ("id", "workspace_id", "conversation_id", "actor_user_id", "verb", "data",
                    "created_at")
NOTE_COLUMNS = ("id", "workspace_id", "conversation_id", "author_id", "text", "created_at")
DATETIME_COLUMNS = {
    "created_at", "updated_at", "sent_at", "edited_at", "deleted_at", "follow_up_until",
    "completed_at", "last_activity_at", "last_inbound_at", "last_inbound_received_at",
    "last_outbound_at",
}
# fmt: on
# Below this size the load keeps foreign-key checks on: a small run then also proves that the
# generated rows are consistent, which the big runs (checks off, for speed) rely on.
FK_CHECK_MAX = 50_000


@dataclass(frozen=True, slots=True)
class Plan:
    conversations: int
    messages_per_conversation: int
    seed: int
    batch: int

    @property
    def contacts(self) -> int:
        # Some contacts write more than once (several conversations, several channels).
        return max(1, self.conversations * 4 // 5)

    @property
    def label(self) -> str:
        # Stored as the workspace name: --reuse only accepts a database built with the same plan.
        return (
            f"bench conversations={self.conversations} "
            f"mpc={self.messages_per_conversation} seed={self.seed}"
        )


@dataclass(frozen=True, slots=True)
class World:
    """The small rows (created through the ORM) that the bulk rows point to."""

    workspace_id: int
    user_ids: list[int]
    channel_ids: list[int]
    tag_ids: dict[str, int]

    @property
    def owner(self) -> Actor:
        return Actor(self.user_ids[0], self.workspace_id, Role.owner)

    @property
    def agent(self) -> Actor:
        return Actor(self.user_ids[AGENT], self.workspace_id, Role.agent)


# --------------------------------------------------------------------------------------------
# Data generation (pure Python, seeded, streamed in batches so that memory stays bounded)
# --------------------------------------------------------------------------------------------

Sentence = tuple[str, str, str]  # (text, fold(text).strip() as search.append adds it, preview)


def sentence_pool(rng: random.Random, words: Sequence[str]) -> list[Sentence]:
    # A few thousand sentences per language, reused by every message: folding and snippeting a
    # text costs ~4 us, which over 5M messages would be most of the generation time.
    pool = []
    for _ in range(SENTENCES_PER_LANGUAGE):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        text = text[0].upper() + text[1:] + rng.choice((".", "?", "!", "", " 🙂"))
        pool.append((text, fold(text).strip(), snippet(text)))
    return pool


def contact_name(contact_id: int) -> str:
    # Derived from the id, so conversations can name their contact without keeping a table.
    first = FIRST_NAMES[contact_id % len(FIRST_NAMES)]
    last = LAST_NAMES[(contact_id // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last}"


def append_folded(document: str, folded: str, text: str) -> str:
    """``search.append(document, text)`` given ``folded == fold(text).strip()`` (see pool)."""
    if not folded:
        return document
    combined = f"{document}\n{folded}" if document else folded
    if len(combined) > search.MAX_DOCUMENT:
        return search.append(document, text)  # the rare long case: let the real code trim it
    return combined


def contact_batches(plan: Plan, world: World) -> Iterator[list[Row]]:
    created = END - YEAR
    for lo in range(1, plan.contacts + 1, plan.batch):
        hi = min(lo + plan.batch, plan.contacts + 1)
        rows = []
        for cid in range(lo, hi):
            name = contact_name(cid)
            # search_name as contacts.actions stores it (contact search).
            rows.append(
                (cid, world.workspace_id, name, fold(name)[:300], None, None, None, created)
            )
        yield rows


@dataclass
class Batch:
    conversations: list[Row] = field(default_factory=list)
    messages: list[Row] = field(default_factory=list)
    tags: list[Row] = field(default_factory=list)
    activities: list[Row] = field(default_factory=list)
    notes: list[Row] = field(default_factory=list)

    def parts(self) -> list[tuple[str, Sequence[str], list[Row]]]:
        return [
            ("conversations", CONVERSATION_COLUMNS, self.conversations),
            ("messages", MESSAGE_COLUMNS, self.messages),
            ("conversation_tags", TAG_COLUMNS, self.tags),
            ("activities", ACTIVITY_COLUMNS, self.activities),
            ("notes", NOTE_COLUMNS, self.notes),
        ]


@dataclass
class Generated:
    """What the generator put in, to print next to the query results."""

    messages: int = 0
    rare_word: int = 0
    common_word: int = 0
    rare_tag_open: int = 0
    checked_documents: int = 0


def conversation_batches(plan: Plan, world: World, stats: Generated) -> Iterator[Batch]:
    """Conversations with their messages, tags, activity and notes, ``plan.batch`` at a time.

    Ids grow with the creation time, as they do in a live database. Each conversation's columns
    are derived from its messages exactly as ``messages.actions._apply`` would have set them.
    """
    rng = random.Random(plan.seed)
    pools = {
        lang: sentence_pool(random.Random(f"{plan.seed}/{lang}"), words.split())
        for lang, (_, words) in LANGUAGES.items()
    }
    languages = list(LANGUAGES)
    language_cum = _cumulative([share for share, _ in LANGUAGES.values()])
    channel_cum = _cumulative([share for _, _, share, _ in CHANNELS])
    users = world.user_ids
    ws = world.workspace_id
    rare_tag, common_tag = world.tag_ids[RARE_TAG], world.tag_ids[COMMON_TAG]
    other_tags = [world.tag_ids[name] for name in OTHER_TAGS]
    n = plan.conversations
    # Leave three days at the end: a conversation's messages follow its start by up to ~2 days.
    step = (YEAR - timedelta(days=3)).total_seconds() / n
    start = END - YEAR
    longest = 2 * plan.messages_per_conversation - 1  # 1..longest messages, mean = the option
    message_id = activity_id = note_id = 0

    for lo in range(1, n + 1, plan.batch):
        batch = Batch()
        for cid in range(lo, min(lo + plan.batch, n + 1)):
            channel = world.channel_ids[bisect.bisect(channel_cum, rng.random())]
            pool = pools[languages[bisect.bisect(language_cum, rng.random())]]
            r = rng.random()
            kind = "dm" if r < 0.75 else "comment" if r < 0.93 else "mention"
            contact = rng.randrange(plan.contacts) + 1
            r = rng.random()
            status = "open" if r < 0.20 else "follow_up" if r < 0.30 else "complete"
            unassigned_share = 0.6 if status == "open" else 0.1
            assignee = None if rng.random() < unassigned_share else users[rng.randrange(5)]
            r = rng.random()
            priority = 0 if r < 0.85 else 1 + rng.randrange(4)

            document = search.initial_document(contact_name(contact))
            texts: list[str] = []
            at = first = start + timedelta(seconds=(cid - 1) * step + rng.random() * 21_600)
            last_in: datetime | None = None
            last_out: datetime | None = None
            preview = ""
            count = 1 + rng.randrange(longest)
            for k in range(count):
                if k:
                    # Replies come minutes to hours apart; capped so that the row stays in range.
                    at += timedelta(seconds=min(rng.expovariate(1 / 1_800), 21_600))
                text, folded, preview = pool[rng.randrange(len(pool))]
                if k == 0 and cid % RARE_WORD_EVERY == RARE_WORD_AT:
                    text = f"{text} {RARE_WORD}"
                    folded, preview = fold(text).strip(), snippet(text)
                document = append_folded(document, folded, text)
                texts.append(text)
                message_id += 1
                if k == 0 or rng.random() < 0.5:  # the customer writes first
                    last_in = at
                    who: tuple[str, str, int | None, int | None, str] = (
                        "inbound",
                        "contact",
                        None,
                        contact,
                        "received",
                    )
                else:
                    last_out = at
                    who = (
                        "outbound",
                        "user",
                        assignee or users[rng.randrange(5)],
                        None,
                        "delivered",
                    )
                direction, author_type, author_user, author_contact, delivery = who
                # fmt: off
                batch.messages.append((
                    message_id, ws, cid, channel, direction, author_type, author_user,
                    author_contact, text, "[]", f"m{message_id}", None, at, delivery, None, None,
                    False, None, None, "{}", "{}", at,
                ))
                # fmt: on
            if cid % 997 == 1:
                _check_document(contact_name(contact), texts, document)
                stats.checked_documents += 1

            follow_up_until = completed_at = None
            if status == "follow_up":
                follow_up_until = at + timedelta(days=1 + rng.randrange(14))
            elif status == "complete":
                completed_at = at + timedelta(minutes=1 + rng.randrange(600))
            post_url = None if kind == "dm" else f"https://social.example/p/{cid}"
            # Messages arrive as they are sent (created_at = sent_at): the last inbound arrival
            # (last_inbound_received_at, read state) is the last inbound time.
            # fmt: off
            batch.conversations.append((
                cid, ws, channel, contact, kind, f"t{cid}", None, post_url, status,
                follow_up_until, completed_at, assignee, None, priority, at, last_in,
                last_in, last_out, preview, count, document, first,
            ))
            # fmt: on

            # A tag row carries its conversation's status (core/conversations/tag_status.py).
            if rng.random() < COMMON_TAG_SHARE:
                batch.tags.append((cid, common_tag, status))
            if cid % RARE_TAG_EVERY == RARE_TAG_AT:
                batch.tags.append((cid, rare_tag, status))
                stats.rare_tag_open += status == "open"
            batch.tags.extend(
                (cid, tag, status) for tag in other_tags if rng.random() < OTHER_TAG_SHARE
            )

            # The audit rows the actions would have written for this state.
            if assignee is not None:
                activity_id += 1
                assigned = f'{{"assignee_id": {assignee}}}'
                batch.activities.append(
                    (activity_id, ws, cid, users[0], "conversation.assigned", assigned, first)
                )
            if completed_at is not None:
                activity_id += 1
                batch.activities.append(
                    (activity_id, ws, cid, assignee, "conversation.completed", "{}", completed_at)
                )
            if cid % 33 == 0:  # ~3 % carry an internal note
                note_id += 1
                note = pool[rng.randrange(len(pool))][0]
                batch.notes.append((note_id, ws, cid, users[rng.randrange(5)], note, at))

            stats.rare_word += RARE_WORD in document
            stats.common_word += COMMON_WORD in document
        stats.messages = message_id
        yield batch


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    running, out = 0.0, []
    for w in weights[:-1]:  # bisect on [0, 1) picks index len(weights) - 1 past the last bound
        running += w / total
        out.append(running)
    return out


def _check_document(name: str, texts: Sequence[str], document: str) -> None:
    # Not a speed assertion: a wrong search_document would make the search figures meaningless.
    expected = search.initial_document(name)
    for text in texts:
        expected = search.append(expected, text)
    if expected != document:
        raise RuntimeError(
            f"search_document differs from search.append's:\n{expected!r}\n{document!r}"
        )


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class Loader(Protocol):
    async def drop_indexes(self) -> None: ...

    async def write(self, parts: Sequence[tuple[str, Sequence[str], list[Row]]]) -> None: ...

    async def create_indexes(self) -> None: ...


class PostgresLoader:
    """COPY (binary, via asyncpg) into the migrated tables, with their secondary indexes dropped.

    Building an index once after the load is several times faster than growing it row by row
    (the GIN search index most of all); the indexes are re-created from their own definitions
    (``pg_get_indexdef``), so the schema after the load is exactly the migrated one.
    """

    def __init__(self, raw: Any, fk_checks: bool) -> None:
        self.raw = raw  # asyncpg.Connection, untyped
        self.fk_checks = fk_checks
        self.indexes: list[tuple[str, str]] = []

    async def _secondary_indexes(self) -> list[tuple[str, str]]:
        rows = await self.raw.fetch(
            """
            SELECT c.relname, pg_get_indexdef(c.oid)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = current_schema() AND t.relname = ANY($1::text[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname
            """,
            BULK_TABLES,
        )
        return [(r[0], r[1]) for r in rows]

    async def drop_indexes(self) -> None:
        if not self.fk_checks:
            # Replica role skips the FK triggers: one lookup per FK per row otherwise. Needs a
            # superuser (the private server); a --pg-url without one loads with the checks on.
            try:
                await self.raw.execute("SET session_replication_role = replica")
            except Exception as exc:  # asyncpg.InsufficientPrivilegeError
                console.print(f"  (foreign-key checks stay on: {exc})")
        self.indexes = await self._secondary_indexes()
        for name, _ in self.indexes:
            await self.raw.execute(f'DROP INDEX "{name}"')

    async def write(self, parts: Sequence[tuple[str, Sequence[str], list[Row]]]) -> None:
        async with self.raw.transaction():
            for table, columns, rows in parts:
                if rows:
                    await self.raw.copy_records_to_table(table, records=rows, columns=list(columns))

    async def create_indexes(self) -> None:
        await self.raw.execute("RESET session_replication_role")
        for name, ddl in self.indexes:
            started = time.monotonic()
            await self.raw.execute(ddl)
            console.print(f"  index {name}: {time.monotonic() - started:.1f} s")
        if await self._secondary_indexes() != self.indexes:
            raise RuntimeError("re-created indexes differ from the migrated ones")
        # Explicit ids went in without the sequences: move them past the loaded rows.
        for table in ("contacts", "conversations", "messages", "activities", "notes"):
            await self.raw.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )


class SqliteLoader:
    """``executemany`` in one transaction per batch, secondary indexes dropped and re-created."""

    def __init__(self, path: Path, fk_checks: bool) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        # Disposable data: no fsync; a big page cache for the index builds.
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-1048576")
        self.db.execute(f"PRAGMA foreign_keys={'ON' if fk_checks else 'OFF'}")
        self.fk_checks = fk_checks
        self.indexes: list[tuple[str, str]] = []

    def _secondary_indexes(self) -> list[tuple[str, str]]:
        marks = ",".join("?" * len(BULK_TABLES))
        rows = self.db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY name",
            BULK_TABLES,
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    async def drop_indexes(self) -> None:
        self.indexes = self._secondary_indexes()
        for name, _ in self.indexes:
            self.db.execute(f'DROP INDEX "{name}"')

    async def write(self, parts: Sequence[tuple[str, Sequence[str], list[Row]]]) -> None:
        self.db.execute("BEGIN")
        for table, columns, rows in parts:
            if not rows:
                continue
            dates = [i for i, c in enumerate(columns) if c in DATETIME_COLUMNS]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            self.db.executemany(sql, (_sqlite_row(row, dates) for row in rows))
        self.db.execute("COMMIT")

    async def create_indexes(self) -> None:
        for name, ddl in self.indexes:
            started = time.monotonic()
            self.db.execute(ddl)
            console.print(f"  index {name}: {time.monotonic() - started:.1f} s")
        if self._secondary_indexes() != self.indexes:
            raise RuntimeError("re-created indexes differ from the migrated ones")
        if self.fk_checks:
            broken = self.db.execute("PRAGMA foreign_key_check").fetchmany(5)
            if broken:
                raise RuntimeError(f"generated rows break foreign keys: {broken}")
        self.db.close()


def _sqlite_row(row: Row, dates: Sequence[int]) -> Row:
    # UTCDateTime stores naive UTC as SQLAlchemy's SQLite format, always with microseconds:
    # the keyset cursors compare these strings, so the format must be identical.
    values = list(row)
    for i in dates:
        value = values[i]
        if value is not None:
            values[i] = value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return tuple(values)


@dataclass
class LoadReport:
    phases: list[tuple[str, float, int]] = field(default_factory=list)
    generated: Generated = field(default_factory=Generated)
    reused: bool = False


async def create_world(factory: async_sessionmaker[AsyncSession], plan: Plan) -> None:
    async with factory() as session:
        workspace = Workspace(slug=WORKSPACE_SLUG, name=plan.label, timezone="UTC")
        session.add(workspace)
        await session.flush()
        users = [User(email=email, name=name, is_active=True) for email, name, _ in USERS]
        session.add_all(users)
        await session.flush()
        session.add_all(
            Membership(workspace_id=workspace.id, user_id=u.id, role=role)
            for u, (_, _, role) in zip(users, USERS, strict=True)
        )
        channels = [
            ChannelAccount(
                workspace_id=workspace.id,
                platform=Platform(platform),
                external_id=f"bench-{i}",
                name=name,
                settings={},
            )
            for i, (platform, name, _, _) in enumerate(CHANNELS)
        ]
        session.add_all(channels)
        await session.flush()
        for i, (channel, (*_, agent_member)) in enumerate(zip(channels, CHANNELS, strict=True)):
            # The benchmark agent sees half the accounts; the other agents split the rest.
            members = [users[AGENT] if agent_member else users[3 + i % 2]]
            session.add_all(
                ChannelMember(channel_account_id=channel.id, user_id=u.id) for u in members
            )
        session.add_all(
            Tag(workspace_id=workspace.id, name=name, group=TagGroup.topic)
            for name in [RARE_TAG, COMMON_TAG, *OTHER_TAGS]
        )
        await session.commit()


async def find_world(factory: async_sessionmaker[AsyncSession]) -> tuple[World, str] | None:
    async with factory() as session:
        workspace = (
            await session.execute(select(Workspace).where(Workspace.slug == WORKSPACE_SLUG))
        ).scalar_one_or_none()
        if workspace is None:
            return None
        ws = workspace.id
        users = await session.execute(select(User.email, User.id))
        channels = await session.execute(
            select(ChannelAccount.external_id, ChannelAccount.id).where(
                ChannelAccount.workspace_id == ws
            )
        )
        tag_rows = await session.execute(select(Tag.name, Tag.id).where(Tag.workspace_id == ws))
        by_email: dict[str, int] = dict(users.all())
        by_external: dict[str, int] = dict(channels.all())
        tags: dict[str, int] = dict(tag_rows.all())
        world = World(
            workspace_id=workspace.id,
            user_ids=[by_email[email] for email, _, _ in USERS],
            channel_ids=[by_external[f"bench-{i}"] for i in range(len(CHANNELS))],
            tag_ids=tags,
        )
        return world, workspace.name


async def bulk_load(loader: Loader, plan: Plan, world: World, report: LoadReport) -> None:
    started = time.monotonic()
    await loader.drop_indexes()
    done = 0
    for rows in contact_batches(plan, world):
        await loader.write([("contacts", CONTACT_COLUMNS, rows)])
        done += len(rows)
    elapsed = time.monotonic() - started
    report.phases.append(("contacts", elapsed, done))
    console.print(f"  contacts: {done:,} in {elapsed:.1f} s ({done / elapsed:,.0f} rows/s)")

    started = last_print = time.monotonic()
    conversations = rows_written = 0
    stats = report.generated
    for batch in conversation_batches(plan, world, stats):
        await loader.write(batch.parts())
        conversations += len(batch.conversations)
        rows_written += sum(len(rows) for _, _, rows in batch.parts())
        now = time.monotonic()
        if now - last_print >= 5 or conversations == plan.conversations:
            last_print = now
            elapsed = now - started
            console.print(
                f"  conversations {conversations:,}/{plan.conversations:,}  "
                f"messages {stats.messages:,}  rows {rows_written:,}  "
                f"{rows_written / elapsed:,.0f} rows/s  {elapsed:.0f} s"
            )
    report.phases.append(("conversations + children", time.monotonic() - started, rows_written))

    started = time.monotonic()
    await loader.create_indexes()
    report.phases.append(("indexes", time.monotonic() - started, 0))


async def rebuild_counters(
    factory: async_sessionmaker[AsyncSession], world: World, report: LoadReport
) -> None:
    started = time.monotonic()
    async with factory() as session:
        cells = await counters.rebuild(session, world.workspace_id)
        await session.commit()
    report.phases.append(("counters.rebuild", time.monotonic() - started, cells))


async def prepare_postgresql(
    engine: AsyncEngine, plan: Plan, reuse: bool
) -> tuple[World, LoadReport]:
    factory = session_factory(engine)
    world, report = await _start(engine, factory, plan, reuse)
    if report.reused:
        return world, report
    async with engine.connect() as conn:
        raw = await _asyncpg(conn)
        try:
            loader = PostgresLoader(raw, fk_checks=plan.conversations <= FK_CHECK_MAX)
            await bulk_load(loader, plan, world, report)
        finally:
            await raw.execute("RESET session_replication_role")
    await rebuild_counters(factory, world, report)
    started = time.monotonic()
    async with engine.connect() as conn:
        raw = await _asyncpg(conn)
        # A live database is vacuumed by autovacuum: the visibility map is set (index-only scans
        # skip the heap) and hint bits are written. Without it the first reads would pay for that.
        await raw.execute("VACUUM (ANALYZE)")
    report.phases.append(("VACUUM (ANALYZE)", time.monotonic() - started, 0))
    started = time.monotonic()
    async with engine.connect() as conn:
        # The load leaves GBs of dirty buffers that a spread checkpoint would write out during
        # the timings (and the kernel after it): write them now, so that p95 measures queries.
        await (await _asyncpg(conn)).execute("CHECKPOINT")
    os.sync()
    report.phases.append(("CHECKPOINT + sync", time.monotonic() - started, 0))
    return world, report


async def _asyncpg(conn: AsyncConnection) -> Any:
    """The asyncpg connection under a SQLAlchemy one (COPY and VACUUM need the driver)."""
    raw = (await conn.get_raw_connection()).driver_connection
    if raw is None:  # pragma: no cover - only after the connection was invalidated
        raise RuntimeError("no driver connection")
    return raw


async def prepare_sqlite(
    engine: AsyncEngine, path: Path, plan: Plan, reuse: bool
) -> tuple[World, LoadReport]:
    factory = session_factory(engine)
    world, report = await _start(engine, factory, plan, reuse)
    if report.reused:
        return world, report
    # The bulk load uses its own sqlite3 connection: no pooled connection may hold a lock.
    await engine.dispose()
    await bulk_load(SqliteLoader(path, plan.conversations <= FK_CHECK_MAX), plan, world, report)
    await rebuild_counters(factory, world, report)
    started = time.monotonic()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    os.sync()  # as for PostgreSQL: no kernel writeback of the load during the timings
    report.phases.append(("ANALYZE + checkpoint + sync", time.monotonic() - started, 0))
    return world, report


async def _start(
    engine: AsyncEngine, factory: async_sessionmaker[AsyncSession], plan: Plan, reuse: bool
) -> tuple[World, LoadReport]:
    report = LoadReport()
    started = time.monotonic()
    await upgrade(engine)
    report.phases.append(("alembic upgrade", time.monotonic() - started, 0))
    found = await find_world(factory)
    if found is not None:
        world, label = found
        if reuse and label == plan.label:
            report.reused = True
            async with factory() as session:
                conversations = await session.scalar(select(func.count()).select_from(Conversation))
            console.print(f"  reusing the loaded workspace ({conversations:,} conversations)")
            return world, report
        raise SystemExit(
            f"the database already holds a benchmark workspace ({label!r}); use an "
            "empty database, or --reuse with the same options"
        )
    async with factory() as session:
        if await session.scalar(select(func.count()).select_from(Workspace)):
            raise SystemExit("the database is not empty; the benchmark needs its own database")
    await create_world(factory, plan)
    found = await find_world(factory)
    assert found is not None
    return found[0], report


# --------------------------------------------------------------------------------------------
# Queries and timing
# --------------------------------------------------------------------------------------------

RunFn = Callable[[AsyncSession, int], Awaitable[tuple[int, str]]]
TARGET_MS = {"list": 10.0, "count": 10.0, "open": 10.0, "search": 50.0}


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    group: str  # a key of TARGET_MS
    actor: str
    run: RunFn


@dataclass(frozen=True, slots=True)
class Result:
    backend: str
    query: Query
    p50: float
    p95: float
    worst: float
    rows: int
    note: str
    runs: int
    statements: int  # SQL statements one run sends (BEGIN not counted)


def list_query(actor: Actor, spec: ConversationFilter, cursor: str | None = None) -> RunFn:
    async def run(session: AsyncSession, _i: int) -> tuple[int, str]:
        page = await list_conversations(
            session, actor, spec, cursor=cursor, limit=50, with_counts=False
        )
        return len(page.items), ""

    return run


def count_query(actor: Actor, spec: ConversationFilter) -> RunFn:
    async def run(session: AsyncSession, _i: int) -> tuple[int, str]:
        counts = await count_conversations(session, actor, spec)
        return counts.total, "total counted"

    return run


def open_query(actor: Actor, conversation_ids: Sequence[int]) -> RunFn:
    async def run(session: AsyncSession, i: int) -> tuple[int, str]:
        # What opening a conversation loads; successive runs open the first page's rows in turn.
        cid = conversation_ids[i % len(conversation_ids)]
        await conversation_detail(session, actor, cid)
        page = await list_messages(session, actor, cid, limit=50)
        notes = await notes_of(session, cid)
        activity = await activity_of(session, cid)
        return len(page.items), f"messages; +{len(notes)} notes, {len(activity)} activity"

    return run


async def build_queries(factory: async_sessionmaker[AsyncSession], world: World) -> list[Query]:
    owner, agent = world.owner, world.agent
    inbox = ConversationFilter(status=[Status.open])
    async with factory() as session:
        first = await list_conversations(session, owner, inbox, limit=50, with_counts=False)
        # Page 100 by keyset: follow next_cursor 99 times (fewer if the list is shorter).
        cursor, page_no = first.next_cursor, 1
        for _ in range(99):
            if cursor is None:
                break
            page_no += 1
            page = await list_conversations(
                session, owner, inbox, cursor=cursor, limit=50, with_counts=False
            )
            if page_no == 100 or page.next_cursor is None:
                break
            cursor = page.next_cursor
    ids = [item.id for item in first.items]
    queries = [
        Query("inbox: open", "list", "owner", list_query(owner, inbox)),
        Query(
            "unassigned + 3 platforms",
            "list",
            "owner",
            list_query(
                owner,
                ConversationFilter(
                    status=[Status.open], assignee="unassigned", platforms=THREE_PLATFORMS
                ),
            ),
        ),
        Query(
            f"tag {RARE_TAG!r} (rare), open",
            "list",
            "owner",
            list_query(
                owner, ConversationFilter(status=[Status.open], tag_ids=[world.tag_ids[RARE_TAG]])
            ),
        ),
        Query(
            f"tag {COMMON_TAG!r} (common), open",
            "list",
            "owner",
            list_query(
                owner, ConversationFilter(status=[Status.open], tag_ids=[world.tag_ids[COMMON_TAG]])
            ),
        ),
    ]
    if cursor is not None:
        queries.append(
            Query(f"page {page_no} by keyset", "list", "owner", list_query(owner, inbox, cursor))
        )
    queries += [
        Query("counts: open", "count", "owner", count_query(owner, inbox)),
        Query(
            f"search {RARE_WORD!r} (rare)",
            "search",
            "owner",
            list_query(owner, ConversationFilter(q=RARE_WORD)),
        ),
        Query(
            f"search {COMMON_WORD!r} (common)",
            "search",
            "owner",
            list_query(owner, ConversationFilter(q=COMMON_WORD)),
        ),
    ]
    if ids:
        queries.append(Query("open conversation", "open", "owner", open_query(owner, ids)))
    queries.append(Query("inbox: open", "list", "agent", list_query(agent, inbox)))
    return queries


def percentile(sorted_ms: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the value at or below which ``p`` % of the runs fall."""
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


async def measure(
    factory: async_sessionmaker[AsyncSession],
    backend: str,
    queries: Sequence[Query],
    repeat: int,
    budget_s: float,
) -> list[Result]:
    """Time every query ``repeat`` times, round-robin.

    Round-robin spreads whatever else the machine does over all queries alike, instead of
    pinning it on the one that happened to run at that moment. A query stops being timed once
    it has used ``budget_s`` (a slow plan must not hold the benchmark for hours).
    """
    engine = factory.kw["bind"]
    statements = []
    for query in queries:
        for i in range(3):  # warm caches and SQLAlchemy's statement cache; not counted
            async with factory() as session:
                await query.run(session, i)
        statements.append(await count_statements(engine, query))
    samples: list[list[float]] = [[] for _ in queries]
    spent = [0.0 for _ in queries]
    last: list[tuple[int, str]] = [(0, "") for _ in queries]
    for i in range(repeat):
        for q, query in enumerate(queries):
            if spent[q] > budget_s:
                continue
            # One session per run, as one request: connection checkout included.
            async with factory() as session:
                started = time.perf_counter()
                last[q] = await query.run(session, i)
                elapsed = time.perf_counter() - started
            samples[q].append(elapsed * 1000)
            spent[q] += elapsed
    results = []
    for query, runs, (rows, note), sent in zip(queries, samples, last, statements, strict=True):
        runs.sort()
        p50, p95 = percentile(runs, 50), percentile(runs, 95)
        results.append(Result(backend, query, p50, p95, runs[-1], rows, note, len(runs), sent))
    return results


async def count_statements(engine: AsyncEngine, query: Query) -> int:
    """How many SQL statements one run of ``query`` sends: each is a round trip (and, on
    PostgreSQL, a planning), which is most of what a query costs here once the indexes fit."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # SQLite's BEGIN IMMEDIATE is a statement; PostgreSQL's BEGIN is not: count neither.
        if statement.lstrip()[:6].upper() not in ("BEGIN ", "COMMIT"):
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with session_factory(engine)() as session:
            await query.run(session, 0)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return len(sent)


# Statements that change session state: replayed (not explained) before the SELECTs that follow.
SESSION_STATE_VERBS = {"SET", "RESET", "SAVEPOINT", "ROLLBACK", "RELEASE"}


async def explain(engine: AsyncEngine, backend: str, query: Query, out: TextIO) -> None:
    """Write the plan of every statement one run of ``query`` executes (diagnosis only)."""
    statements: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with session_factory(engine)() as session:
            await query.run(session, 0)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
    out.write(f"\n{'=' * 100}\n{backend} | {query.actor} | {query.name}\n")
    async with engine.connect() as conn:
        for statement, parameters in statements:
            params = tuple(parameters) if parameters is not None else None
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if verb in SESSION_STATE_VERBS:
                # Replayed as is, so that each SELECT is planned under the same settings
                # (e.g. SET LOCAL in a SAVEPOINT) as in the timed run.
                out.write(f"\n--- {statement}\n")
                await conn.exec_driver_sql(statement, params)
                continue
            if verb not in ("SELECT", "WITH"):
                continue  # the benchmarked queries only read; nothing else to explain
            out.write(f"\n--- {statement}\n--- params: {params}\n")
            result = await conn.exec_driver_sql(prefix + statement, params)
            for row in result:
                out.write(f"{row[0]}\n" if backend == "postgresql" else f"{row[-1]}\n")


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def print_load(backend: str, report: LoadReport, plan: Plan) -> None:
    table = Table(title=f"{backend}: load of {plan.conversations:,} conversations")
    for column in ("phase", "seconds", "rows", "rows/s"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for phase, seconds, rows in report.phases:
        rate = f"{rows / seconds:,.0f}" if rows and seconds else ""
        table.add_row(phase, f"{seconds:.1f}", f"{rows:,}" if rows else "", rate)
    total = sum(seconds for _, seconds, _ in report.phases)
    table.add_row("total", f"{total:.1f}", "", "")
    console.print(table)
    g = report.generated
    if not report.reused:
        console.print(
            f"  messages {g.messages:,}; {RARE_WORD!r} in {g.rare_word:,} conversations, "
            f"{COMMON_WORD!r} in {g.common_word:,}; tag {RARE_TAG!r} on {g.rare_tag_open:,} "
            f"open conversations; search_document checked against search.append on "
            f"{g.checked_documents:,}"
        )


def print_results(results: Sequence[Result], plan: Plan) -> None:
    table = Table(
        title=f"Inbox queries, {plan.conversations:,} conversations (ms; one fresh session per run)"
    )
    columns = (
        "backend",
        "actor",
        "query",
        "p50",
        "p95",
        "max",
        "rows",
        "runs",
        "SQL",
        "target p95",
    )
    for column in (*columns, "verdict"):
        table.add_column(
            column, justify="left" if column in ("backend", "actor", "query") else "right"
        )
    binding = plan.conversations >= 1_000_000
    for r in results:
        target = TARGET_MS[r.query.group]
        ok = r.p95 <= target
        applies = binding and r.backend == "postgresql"
        verdict = ("OK" if ok else "over") + ("" if applies else "*")
        style = "green" if ok else ("bold red" if applies else "yellow")
        rows = f"{r.rows:,}" + (f" {r.note}" if r.note else "")
        table.add_row(
            r.backend,
            r.query.actor,
            r.query.name,
            f"{r.p50:.2f}",
            f"{r.p95:.2f}",
            f"{r.worst:.2f}",
            rows,
            str(r.runs),
            str(r.statements),
            f"≤ {target:g}",
            f"[{style}]{verdict}[/{style}]",
        )
    console.print(table)
    console.print(
        "Targets: on PostgreSQL at 1,000,000 conversations, p95 ≤ 10 ms for every list, count "
        "and open query, ≤ 50 ms for text search.\n"
        "* target stated for PostgreSQL at 1M conversations; shown here for reference only.\n"
        "SQL: statements one run sends, each a round trip (BEGIN and the pool's ping not counted)."
    )


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

app = typer.Typer(add_completion=False, help=__doc__)


def _loopback_only(url: str) -> str:
    host = make_url(url).host
    if host not in (None, "127.0.0.1", "localhost", "::1"):
        raise typer.BadParameter("the benchmark only talks to 127.0.0.1", param_hint="--pg-url")
    return url


@app.command()
def main(
    conversations: Annotated[
        int, typer.Option(min=100, max=10_000_000, help="Conversations to create.")
    ] = 1_000_000,
    messages_per_conversation: Annotated[
        int,
        typer.Option(min=1, max=50, help="Mean messages per conversation (1 to 2n-1, uniform)."),
    ] = 5,
    backends: Annotated[str, typer.Option(help="Comma-separated: postgresql,sqlite.")] = (
        "postgresql,sqlite"
    ),
    repeat: Annotated[int, typer.Option(min=5, max=1_000, help="Timed runs per query.")] = 50,
    pg_url: Annotated[
        str | None,
        typer.Option(help="An empty PostgreSQL database on 127.0.0.1 (default: a private server)."),
    ] = None,
    sqlite_path: Annotated[
        Path | None,
        typer.Option(help="SQLite file to create (default: a temporary file, removed at the end)."),
    ] = None,
    reuse: Annotated[
        bool,
        typer.Option(help="With --pg-url/--sqlite-path: time an earlier load of the same options."),
    ] = False,
    explain_to: Annotated[
        Path | None,
        typer.Option(
            "--explain", help="Write the plan of every statement of every query to this file."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the data.")] = 20261122,
    batch: Annotated[
        int, typer.Option(min=1_000, max=200_000, help="Conversations per load batch.")
    ] = 10_000,
    query_budget: Annotated[
        float, typer.Option(min=1, max=3_600, help="Seconds at most spent timing one query.")
    ] = 120,
) -> None:
    chosen = [b.strip() for b in backends.split(",") if b.strip()]
    unknown = set(chosen) - {"postgresql", "sqlite"}
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown backends {sorted(unknown)}", param_hint="--backends")
    if pg_url:
        _loopback_only(pg_url)
    if sqlite_path and sqlite_path.exists() and not reuse:
        raise typer.BadParameter(
            f"{sqlite_path} exists; remove it or --reuse", param_hint="--sqlite-path"
        )
    plan = Plan(conversations, messages_per_conversation, seed, batch)
    results: list[Result] = []
    with contextlib.ExitStack() as outer:
        out = outer.enter_context(explain_to.open("w")) if explain_to else None
        for backend in chosen:
            # One backend at a time: the private server (or temporary file) is gone before the
            # next backend is timed, so its background work cannot disturb those figures.
            with contextlib.ExitStack() as stack:
                if backend == "postgresql":
                    url, path = pg_url or _private_postgres(stack), None
                else:
                    path = sqlite_path or _temporary_sqlite(stack)
                    url = f"sqlite+aiosqlite:///{path}"
                run = run_backend(backend, url, path, plan, repeat, reuse, query_budget, out)
                results += asyncio.run(run)
    print_results(results, plan)


def _temporary_sqlite(stack: contextlib.ExitStack) -> Path:
    # Removed with its WAL side files when the benchmark ends.
    directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="bandeja-bench-"))
    return Path(directory) / "bench.db"


def _private_postgres(stack: contextlib.ExitStack) -> str:
    # tests/support is not an installed package: import it from the repository.
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.support.postgres import postgres_server

    console.print(f"Starting a private PostgreSQL server ({PG_SETTINGS})")
    server = stack.enter_context(postgres_server(settings=PG_SETTINGS))
    return server.create_database("bandeja_bench")


async def run_backend(
    backend: str,
    url: str,
    sqlite_file: Path | None,
    plan: Plan,
    repeat: int,
    reuse: bool,
    budget_s: float,
    out: TextIO | None,
) -> list[Result]:
    console.rule(f"{backend}: {plan.conversations:,} conversations")
    engine = create_engine(url)
    try:
        if sqlite_file is None:
            world, report = await prepare_postgresql(engine, plan, reuse)
        else:
            world, report = await prepare_sqlite(engine, sqlite_file, plan, reuse)
        print_load(backend, report, plan)
        factory = session_factory(engine)
        queries = await build_queries(factory, world)
        # Other work on the machine shows in p95: print the load around the timings.
        before = os.getloadavg()[0]
        started = time.monotonic()
        results = await measure(factory, backend, queries, repeat, budget_s)
        console.print(
            f"  timed {len(queries)} queries x {repeat} in {time.monotonic() - started:.0f} s; "
            f"1-minute load average {before:.2f} before, {os.getloadavg()[0]:.2f} after "
            f"({os.cpu_count()} CPUs)"
        )
        for result in results:
            console.print(
                f"  {result.query.actor:5} {result.query.name:34} p50 {result.p50:8.2f} ms  "
                f"p95 {result.p95:8.2f} ms  rows {result.rows:,}"
            )
        if out is not None:
            for query in queries:
                await explain(engine, backend, query, out)
                out.flush()
        return results
    finally:
        await engine.dispose()


if __name__ == "__main__":
    app()
