from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers", response_model=None)
async def readyz(request: Request) -> JSONResponse | dict[str, str]:
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse(
            {
                "error": {
                    "code": "not_ready",
                    "message": f"database unreachable: {type(exc).__name__}",
                }
            },
            status_code=503,
        )
    return {"status": "ready"}
