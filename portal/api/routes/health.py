"""Liveness and database reachability (no authentication)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.api.deps import DbDep
from portal.api.schemas import HealthDown
from portal.errors import error_body
from sync.protocol import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": HealthDown, "description": "The database cannot be reached."}})
def health(db: DbDep) -> Any:
    """``{"status": "ok", "database": "ok"}``, or 503 when the database does not answer."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        body = {"status": "error", "database": "unreachable"}
        body.update(error_body("database_unreachable", "The portal cannot reach its database; try again shortly."))
        return JSONResponse(body, status_code=503)
    return {"status": "ok", "database": "ok"}
