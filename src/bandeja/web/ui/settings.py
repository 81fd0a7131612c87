"""Settings, for owners and admins (agents get a 403 page): channel accounts (health, webhook URL,
connecting one with the same action as ``bandeja channels add``), members, teams, tags and saved
replies. Plain forms: each change posts, then redirects back to its page (POST-redirect-GET);
refused input shows the page again with the reason (4xx)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from bandeja.core.access import Actor
from bandeja.core.channels.actions import create_channel_account
from bandeja.core.channels.health import channel_health
from bandeja.core.channels.models import Platform
from bandeja.core.channels.queries import list_channel_accounts
from bandeja.core.channels.schemas import ChannelAccountIn
from bandeja.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from bandeja.core.saved_replies import actions as saved_actions
from bandeja.core.saved_replies.models import SavedReply
from bandeja.core.saved_replies.queries import get_saved_reply, list_saved_replies
from bandeja.core.saved_replies.schemas import SavedReplyIn, VariantIn
from bandeja.core.saved_replies.variables import VARIABLES
from bandeja.core.tags import actions as tag_actions
from bandeja.core.tags.models import TagGroup
from bandeja.core.tags.queries import list_tags
from bandeja.core.tags.schemas import TagIn
from bandeja.core.types import MAX_ID
from bandeja.core.users import actions as user_actions
from bandeja.core.users.queries import list_members, list_teams
from bandeja.core.users.schemas import TeamIn, UserIn, UserPatch
from bandeja.web.deps import Db
from bandeja.web.params import PathId
from bandeja.web.ui.deps import UiActor
from bandeja.web.ui.labels import N_
from bandeja.web.ui.render import is_htmx, render

router = APIRouter()

SECTIONS = {
    "channels": N_("Channel accounts"),
    "users": N_("Users"),
    "teams": N_("Teams"),
    "tags": N_("Tags"),
    "saved-replies": N_("Saved replies"),
}
TAG_GROUPS = {
    "type": N_("Type"),
    "urgency": N_("Urgency"),
    "topic": N_("Topic"),
    "other": N_("Other"),
}
ROLES = {"owner": N_("Owner"), "admin": N_("Admin"), "agent": N_("Agent")}
VARIABLE_HELP = {
    "contact.first_name": N_("the contact's first name"),
    "contact.name": N_("the contact's full name"),
    "agent.first_name": N_("your first name"),
    "agent.name": N_("your full name"),
    "workspace.name": N_("the workspace's name"),
}
assert VARIABLE_HELP.keys() == VARIABLES.keys()
# The languages a saved reply is written in (the UI's languages).
REPLY_LANGUAGES = ("en", "es", "it")
Done = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")]


def _forbidden(request: Request) -> HTMLResponse:
    return render(request, "settings/forbidden.html", status_code=403, active_section="settings")


def _back(request: Request, url: str) -> Response:
    """Back to the page after a change: a redirect, or for htmx the same through a header."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _problem(exc: DomainError | ValidationError) -> tuple[str, int]:
    """A refused change in words, and its status."""
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:3]:
            field = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{field}: {err.get('msg', 'invalid')}" if field else err["msg"])
        return "; ".join(parts) or "invalid input", 422
    if isinstance(exc, Conflict):
        return exc.message, 409
    if isinstance(exc, PermissionDenied):
        return exc.message, 403
    if isinstance(exc, NotFound):
        return exc.message, 404
    return exc.message, 422


async def _page(
    request: Request,
    section: str,
    template: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return render(
        request,
        template,
        status_code=status_code,
        active_section="settings",
        section=section,
        sections=SECTIONS,
        error=error,
        **context,
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _ids(form: FormData, name: str) -> list[int]:
    """Checked ids; anything not a plausible id makes the whole input invalid."""
    out = []
    for value in form.getlist(name):
        if not isinstance(value, str) or not value.isdigit() or not 1 <= int(value) <= MAX_ID:
            raise InvalidInput(f"{name}: not an id")
        out.append(int(value))
    return out


PageOf = Callable[..., Awaitable[HTMLResponse]]


async def _apply(
    request: Request,
    db: Db,
    actor: Actor,
    change: Callable[[FormData], Awaitable[object]],
    page: PageOf,
    done_url: str,
) -> Response:
    """One settings change: admins only; ``change`` reads the form and calls the action; then
    commit and back to ``done_url``, or, refused, ``page`` again with the reason (4xx)."""
    if not actor.is_admin:
        return _forbidden(request)
    form = await request.form()
    try:
        await change(form)
    except (DomainError, ValidationError) as exc:
        await db.rollback()
        message, status = _problem(exc)
        return await page(request, db, actor, error=message, status_code=status)
    await db.commit()
    return _back(request, done_url)


@router.get("/settings")
async def get_settings_home(request: Request, actor: UiActor) -> Response:
    if not actor.is_admin:
        return _forbidden(request)
    return RedirectResponse("/settings/channels", status_code=303)


# --- channel accounts ---------------------------------------------------------------------------


async def _channels_page(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    added: int | None = None,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    url = request.app.state.settings.webhook_url
    health = await channel_health(db, actor)
    return await _page(
        request,
        "channels",
        "settings/channels.html",
        error=error,
        status_code=status_code,
        channels=[(h, url(h.channel.platform.value, h.channel.id)) for h in health],
        added=added,
        platforms=list(Platform),
        values=values or {},
    )


@router.get("/settings/channels")
async def get_channels(
    request: Request,
    db: Db,
    actor: UiActor,
    added: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    if not actor.is_admin:
        return _forbidden(request)
    return await _channels_page(request, db, actor, added=added)


@router.post("/settings/channels")
async def post_channel(request: Request, db: Db, actor: UiActor) -> Response:
    if not actor.is_admin:
        return _forbidden(request)
    form = await request.form()
    values = {
        k: _text(form, k)
        for k in ("platform", "name", "external_id", "verify_token", "api_base_url")
    }
    try:
        secrets = {"signing_secret": _text(form, "signing_secret")}
        for optional in ("verify_token", "access_token"):
            if _text(form, optional):
                secrets[optional] = _text(form, optional)
        options: dict[str, object] = {}
        if values["api_base_url"]:
            if not values["api_base_url"].startswith(("http://", "https://")):
                raise InvalidInput("api_base_url: must start with http:// or https://")
            options["api_base_url"] = values["api_base_url"].rstrip("/")
        if form.get("human_agent"):
            options["human_agent_enabled"] = True
        if not secrets["signing_secret"]:
            raise InvalidInput("signing_secret: the platform's webhook secret is required")
        data = ChannelAccountIn(
            platform=values["platform"],  # type: ignore[arg-type]
            name=values["name"],
            external_id=values["external_id"],
            credentials=secrets,
            settings=options,
        )
        channel = await create_channel_account(
            db,
            workspace_id=actor.workspace_id,
            data=data,
            box=request.app.state.secret_box,
            actor=actor,
        )
    except (DomainError, ValidationError) as exc:
        await db.rollback()
        message, status = _problem(exc)
        return await _channels_page(
            request, db, actor, error=message, status_code=status, values=values
        )
    await db.commit()
    request.app.state.channel_cache.forget(channel.id)
    return _back(request, f"/settings/channels?added={channel.id}")


# --- users --------------------------------------------------------------------------------------


async def _users_page(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    return await _page(
        request,
        "users",
        "settings/users.html",
        error=error,
        status_code=status_code,
        members=await list_members(db, actor),
        channels=await list_channel_accounts(db, actor),
        roles=ROLES,
        done=done,
        values=values or {},
    )


@router.get("/settings/users")
async def get_users(request: Request, db: Db, actor: UiActor, done: Done = None) -> HTMLResponse:
    if not actor.is_admin:
        return _forbidden(request)
    return await _users_page(request, db, actor, done=done)


@router.post("/settings/users")
async def post_user(request: Request, db: Db, actor: UiActor) -> Response:
    form = await request.form()
    values = {k: _text(form, k) for k in ("email", "name", "role", "locale")}

    async def change(form: FormData) -> None:
        data = UserIn(
            email=values["email"],
            name=values["name"],
            password=_text(form, "password"),
            role=values["role"] or "agent",  # type: ignore[arg-type]
            locale=values["locale"] or None,
        )
        user = await user_actions.add_member(
            db, workspace_id=actor.workspace_id, data=data, actor=actor
        )
        # A new agent sees nothing until given channels: let the same form give them.
        channel_ids = _ids(form, "channel")
        if channel_ids:
            await user_actions.update_member(
                db, actor, user.id, UserPatch(channel_account_ids=channel_ids)
            )

    page = functools.partial(_users_page, values=values)
    return await _apply(request, db, actor, change, page, "/settings/users?done=user_added")


@router.post("/settings/users/{user_id}/role")
async def post_user_role(user_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    async def change(form: FormData) -> None:
        patch = UserPatch(role=_text(form, "role"))  # type: ignore[arg-type]
        await user_actions.update_member(db, actor, user_id, patch)

    return await _apply(
        request, db, actor, change, _users_page, "/settings/users?done=role_changed"
    )


@router.post("/settings/users/{user_id}/channels")
async def post_user_channels(user_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    """Which channel accounts a member sees (an agent sees only these; admins see all)."""

    async def change(form: FormData) -> None:
        patch = UserPatch(channel_account_ids=_ids(form, "channel"))
        await user_actions.update_member(db, actor, user_id, patch)

    return await _apply(
        request, db, actor, change, _users_page, "/settings/users?done=channels_changed"
    )


# --- teams --------------------------------------------------------------------------------------


async def _teams_page(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    members = await list_members(db, actor)
    return await _page(
        request,
        "teams",
        "settings/teams.html",
        error=error,
        status_code=status_code,
        teams=await list_teams(db, actor),
        members=members,
        names={m.id: m.name for m in members},
        done=done,
    )


def _team_in(form: FormData) -> TeamIn:
    return TeamIn(name=_text(form, "name"), member_ids=_ids(form, "member_ids"))


@router.get("/settings/teams")
async def get_teams(request: Request, db: Db, actor: UiActor, done: Done = None) -> HTMLResponse:
    if not actor.is_admin:
        return _forbidden(request)
    return await _teams_page(request, db, actor, done=done)


@router.post("/settings/teams")
async def post_team(request: Request, db: Db, actor: UiActor) -> Response:
    async def change(form: FormData) -> None:
        await user_actions.create_team(db, actor, _team_in(form))

    return await _apply(
        request, db, actor, change, _teams_page, "/settings/teams?done=team_created"
    )


@router.post("/settings/teams/{team_id}")
async def post_team_update(team_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    async def change(form: FormData) -> None:
        await user_actions.update_team(db, actor, team_id, _team_in(form))

    return await _apply(request, db, actor, change, _teams_page, "/settings/teams?done=team_saved")


# --- tags ---------------------------------------------------------------------------------------


async def _tags_page(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return await _page(
        request,
        "tags",
        "settings/tags.html",
        error=error,
        status_code=status_code,
        tags=await list_tags(db, actor),
        groups=TAG_GROUPS,
        done=done,
    )


def _tag_in(form: FormData) -> TagIn:
    return TagIn(
        name=_text(form, "name"),
        group=_text(form, "group") or TagGroup.other,  # type: ignore[arg-type]
        color=_text(form, "color") or "#6b7280",
    )


@router.get("/settings/tags")
async def get_tags(request: Request, db: Db, actor: UiActor, done: Done = None) -> HTMLResponse:
    if not actor.is_admin:
        return _forbidden(request)
    return await _tags_page(request, db, actor, done=done)


@router.post("/settings/tags")
async def post_tag(request: Request, db: Db, actor: UiActor) -> Response:
    async def change(form: FormData) -> None:
        await tag_actions.create_tag(db, actor, _tag_in(form))

    return await _apply(request, db, actor, change, _tags_page, "/settings/tags?done=tag_created")


@router.post("/settings/tags/{tag_id}")
async def post_tag_update(tag_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    async def change(form: FormData) -> None:
        await tag_actions.update_tag(db, actor, tag_id, _tag_in(form))

    return await _apply(request, db, actor, change, _tags_page, "/settings/tags?done=tag_saved")


@router.post("/settings/tags/{tag_id}/delete")
async def post_tag_delete(tag_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    async def change(_form: FormData) -> None:
        await tag_actions.delete_tag(db, actor, tag_id)

    return await _apply(request, db, actor, change, _tags_page, "/settings/tags?done=tag_deleted")


# --- saved replies ------------------------------------------------------------------------------


def _reply_values(reply: SavedReply | None) -> dict[str, Any]:
    if reply is None:
        return {"name": "", "shortcut": "", "shared": True, "bodies": {}}
    return {
        "name": reply.name,
        "shortcut": reply.shortcut or "",
        "shared": reply.owner_id is None,
        "bodies": {v.language: v.body for v in reply.variants},
    }


def _form_values(form: FormData) -> dict[str, Any]:
    return {
        "name": _text(form, "name"),
        "shortcut": _text(form, "shortcut"),
        "shared": bool(form.get("shared")),
        "bodies": {lang: _text(form, f"body_{lang}") for lang in REPLY_LANGUAGES},
    }


def _saved_reply_in(values: dict[str, Any]) -> SavedReplyIn:
    return SavedReplyIn(
        name=values["name"],
        shortcut=values["shortcut"] or None,
        shared=values["shared"],
        variants=[
            VariantIn(language=lang, body=body) for lang, body in values["bodies"].items() if body
        ],
    )


async def _replies_page(
    request: Request,
    db: Db,
    actor: Actor,
    *,
    editing: SavedReply | None = None,
    values: dict[str, Any] | None = None,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return await _page(
        request,
        "saved-replies",
        "settings/saved_replies.html",
        error=error,
        status_code=status_code,
        replies=await list_saved_replies(db, actor, limit=500),
        editing=editing,
        values=values or _reply_values(editing),
        reply_languages=REPLY_LANGUAGES,
        variables=VARIABLE_HELP,
        done=done,
    )


@router.get("/settings/saved-replies")
async def get_saved_replies_page(
    request: Request, db: Db, actor: UiActor, done: Done = None
) -> HTMLResponse:
    if not actor.is_admin:
        return _forbidden(request)
    return await _replies_page(request, db, actor, done=done)


@router.get("/settings/saved-replies/{reply_id}")
async def get_saved_reply_page(
    reply_id: PathId, request: Request, db: Db, actor: UiActor
) -> HTMLResponse:
    if not actor.is_admin:
        return _forbidden(request)
    reply = await get_saved_reply(db, actor, reply_id)
    return await _replies_page(request, db, actor, editing=reply)


@router.post("/settings/saved-replies")
async def post_saved_reply(request: Request, db: Db, actor: UiActor) -> Response:
    values = _form_values(await request.form())

    async def change(_form: FormData) -> None:
        await saved_actions.create_saved_reply(db, actor, _saved_reply_in(values))

    page = functools.partial(_replies_page, values=values)
    return await _apply(
        request, db, actor, change, page, "/settings/saved-replies?done=reply_created"
    )


@router.post("/settings/saved-replies/{reply_id}")
async def post_saved_reply_update(
    reply_id: PathId, request: Request, db: Db, actor: UiActor
) -> Response:
    if not actor.is_admin:
        return _forbidden(request)
    values = _form_values(await request.form())
    try:
        await saved_actions.update_saved_reply(db, actor, reply_id, _saved_reply_in(values))
    except (DomainError, ValidationError) as exc:
        await db.rollback()
        message, status = _problem(exc)
        editing = await get_saved_reply(db, actor, reply_id)
        return await _replies_page(
            request, db, actor, editing=editing, values=values, error=message, status_code=status
        )
    await db.commit()
    return _back(request, "/settings/saved-replies?done=reply_saved")


@router.post("/settings/saved-replies/{reply_id}/delete")
async def post_saved_reply_delete(
    reply_id: PathId, request: Request, db: Db, actor: UiActor
) -> Response:
    async def change(_form: FormData) -> None:
        await saved_actions.delete_saved_reply(db, actor, reply_id)

    return await _apply(
        request, db, actor, change, _replies_page, "/settings/saved-replies?done=reply_deleted"
    )
