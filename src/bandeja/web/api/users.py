from __future__ import annotations

from fastapi import APIRouter

from bandeja.core.users import actions
from bandeja.core.users.queries import list_members
from bandeja.core.users.schemas import UserIn, UserOut, UserPatch
from bandeja.web.deps import CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(prefix="/users", tags=["users"])


async def _one(db: Db, actor: CurrentActor, user_id: PathId) -> UserOut:
    return next(u for u in await list_members(db, actor) if u.id == user_id)


@router.get("", summary="Members of the workspace")
async def get_users(db: Db, actor: CurrentActor) -> list[UserOut]:
    return await list_members(db, actor)


@router.post("", status_code=201, summary="Add a member (admins)")
async def post_user(body: UserIn, db: Db, actor: CurrentActor) -> UserOut:
    user = await actions.add_member(db, workspace_id=actor.workspace_id, data=body, actor=actor)
    await db.commit()
    return await _one(db, actor, user.id)


@router.patch("/{user_id}", summary="Change a member (admins; members may change their own name)")
async def patch_user(user_id: PathId, body: UserPatch, db: Db, actor: CurrentActor) -> UserOut:
    await actions.update_member(db, actor, user_id, body)
    await db.commit()
    return await _one(db, actor, user_id)
