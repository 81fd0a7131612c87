from fastapi import APIRouter

from bandeja.web.api import (
    auth,
    channels,
    contacts,
    conversations,
    replies,
    tags,
    teams,
    users,
    views,
)

router = APIRouter()
for module in (auth, conversations, replies, views, tags, teams, users, contacts, channels):
    router.include_router(module.router)
