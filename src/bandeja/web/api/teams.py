from __future__ import annotations

from fastapi import APIRouter

from bandeja.core.users import actions
from bandeja.core.users.queries import list_teams
from bandeja.core.users.schemas import TeamIn, TeamOut
from bandeja.web.deps import CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(prefix="/teams", tags=["teams"])


@router.get("", summary="Teams and their members")
async def get_teams(db: Db, actor: CurrentActor) -> list[TeamOut]:
    return await list_teams(db, actor)


@router.post("", status_code=201, summary="Create a team (admins)")
async def post_team(body: TeamIn, db: Db, actor: CurrentActor) -> TeamOut:
    team = await actions.create_team(db, actor, body)
    await db.commit()
    return TeamOut(id=team.id, name=team.name, member_ids=sorted(set(body.member_ids)))


@router.put("/{team_id}", summary="Rename a team or set its members (admins)")
async def put_team(team_id: PathId, body: TeamIn, db: Db, actor: CurrentActor) -> TeamOut:
    team = await actions.update_team(db, actor, team_id, body)
    await db.commit()
    return TeamOut(id=team.id, name=team.name, member_ids=sorted(set(body.member_ids)))
