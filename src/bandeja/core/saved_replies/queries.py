from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.conversations.models import Conversation
from bandeja.core.conversations.queries import get_conversation
from bandeja.core.errors import InvalidInput, NotFound
from bandeja.core.language import guess_language
from bandeja.core.messages.models import Direction, Message
from bandeja.core.saved_replies.models import SavedReply, SavedReplyVariant
from bandeja.core.saved_replies.schemas import RenderedOut, SavedReplyOut, VariantOut
from bandeja.core.saved_replies.variables import first_name, render
from bandeja.core.users.models import User
from bandeja.core.workspaces.models import Workspace


def visible_replies(actor: Actor) -> ColumnElement[bool]:
    """Shared replies, and the actor's own personal ones (admins do not see others' either:
    a personal reply is a private drafting aid)."""
    return or_(SavedReply.owner_id.is_(None), SavedReply.owner_id == actor.user_id)


def saved_reply_out(reply: SavedReply) -> SavedReplyOut:
    return SavedReplyOut(
        id=reply.id,
        name=reply.name,
        shortcut=reply.shortcut,
        shared=reply.owner_id is None,
        owner_id=reply.owner_id,
        variants=[VariantOut.model_validate(v) for v in reply.variants],
        created_at=reply.created_at,
        updated_at=reply.updated_at,
    )


async def list_saved_replies(
    session: AsyncSession, actor: Actor, q: str | None = None, limit: int = 100
) -> list[SavedReply]:
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    stmt = select(SavedReply).where(
        SavedReply.workspace_id == actor.workspace_id, visible_replies(actor)
    )
    needle = (q or "").strip().lower().lstrip("/")
    if needle:
        stmt = stmt.where(
            or_(
                func.lower(SavedReply.name).contains(needle, autoescape=True),
                func.lower(SavedReply.shortcut).contains(needle, autoescape=True),
            )
        )
    rows = await session.execute(stmt.order_by(SavedReply.name, SavedReply.id).limit(limit))
    return list(rows.scalars())


async def get_saved_reply(session: AsyncSession, actor: Actor, reply_id: int) -> SavedReply:
    """The reply if ``actor`` may use it; someone else's personal reply looks missing (404)."""
    reply = (
        await session.execute(
            select(SavedReply).where(
                SavedReply.id == reply_id,
                SavedReply.workspace_id == actor.workspace_id,
                visible_replies(actor),
            )
        )
    ).scalar_one_or_none()
    if reply is None:
        raise NotFound(f"saved reply {reply_id} not found")
    return reply


def choose_variant(
    variants: list[SavedReplyVariant], wanted: list[str | None]
) -> SavedReplyVariant:
    """The first language of ``wanted`` the reply has, else the reply's first variant."""
    by_language = {v.language: v for v in variants}
    for language in wanted:
        short = (language or "").split("-", 1)[0].split("_", 1)[0].lower()
        if short in by_language:
            return by_language[short]
    return variants[0]


@dataclass(frozen=True, slots=True)
class RenderTarget:
    """What a saved reply's variables are filled from, for one conversation."""

    conversation: Conversation
    values: dict[str, str]
    languages: list[str | None]


async def _written_in(session: AsyncSession, conversation_id: int) -> str | None:
    texts = await session.execute(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.inbound)
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(5)
    )
    return guess_language(t for t in texts.scalars() if t)


async def render_target(
    session: AsyncSession, actor: Actor, conversation_id: int, default_language: str
) -> RenderTarget:
    conversation = await get_conversation(session, actor, conversation_id)
    contact = await session.get(Contact, conversation.contact_id)
    identity = (
        await session.execute(
            select(ContactIdentity).where(
                ContactIdentity.contact_id == conversation.contact_id,
                ContactIdentity.channel_account_id == conversation.channel_account_id,
            )
        )
    ).scalar_one_or_none()
    agent = await session.get(User, actor.user_id)
    workspace = await session.get(Workspace, actor.workspace_id)
    contact_name = (contact.name if contact else "") or (
        (identity.display_name or "") if identity else ""
    )
    agent_name = agent.name if agent else actor.name
    values = {
        "contact.first_name": first_name(contact_name),
        "contact.name": contact_name.strip(),
        "agent.first_name": first_name(agent_name),
        "agent.name": agent_name.strip(),
        "workspace.name": workspace.name if workspace else "",
    }
    # The language the person writes in on this platform, then what we know of them, then what
    # their latest messages here are written in (most platforms do not say), then the
    # workspace's.
    languages = [
        identity.language if identity else None,
        contact.language if contact else None,
    ]
    if not any(languages):
        languages.append(await _written_in(session, conversation.id))
    languages.append(default_language)
    return RenderTarget(conversation=conversation, values=values, languages=languages)


def render_reply(reply: SavedReply, target: RenderTarget) -> RenderedOut:
    variant = choose_variant(list(reply.variants), target.languages)
    return RenderedOut(
        saved_reply_id=reply.id,
        language=variant.language,
        text=render(variant.body, target.values),
    )


async def render_saved_reply(
    session: AsyncSession,
    actor: Actor,
    reply_id: int,
    conversation_id: int,
    *,
    default_language: str = "en",
) -> RenderedOut:
    reply = await get_saved_reply(session, actor, reply_id)
    target = await render_target(session, actor, conversation_id, default_language)
    return render_reply(reply, target)
