from fastapi import APIRouter

from bandeja.web.api import (
    auth,
    channels,
    compose,
    contacts,
    conversations,
    notifications,
    realtime,
    replies,
    saved_replies,
    tags,
    teams,
    users,
    views,
)

router = APIRouter()
for module in (
    auth,
    conversations,
    replies,
    views,
    tags,
    teams,
    users,
    contacts,
    channels,
    realtime,
    notifications,
    saved_replies,
    compose,
):
    router.include_router(module.router)
