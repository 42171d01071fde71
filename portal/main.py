"""The portal application: ``create_app(settings)`` wires settings, database, blob store and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from portal.api.routes import accounts, admin, admin_rules, auth, blobs, case_import, health, letters, sync, visit_export, webhooks
from portal.api.blob_put import BlobPutMiddleware
from portal.api.deps import known_query_only
from portal.blobstore import FileBlobStore
from portal.bodylimit import BodyLimitMiddleware
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.errors import install_error_handlers
from portal.inputguard import InputGuardMiddleware
from portal.headers import SecurityHeadersMiddleware
from portal.openapi import OPENAPI_URL, install_openapi
from portal import web
from portal.webhook_worker import WebhookWorker
from sync.protocol import API_PREFIX


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While serving: the webhook delivery worker (its state is all in the database)."""
    settings: PortalSettings = app.state.settings
    worker = WebhookWorker.from_settings(app.state.db, settings).start() if settings.webhook_worker else None
    try:
        yield
    finally:
        if worker is not None:
            # Off the event loop: the round under way may wait for a POST's timeout.
            await asyncio.to_thread(worker.stop)


def create_app(settings: PortalSettings, db: Database | None = None) -> FastAPI:
    """A portal app over an already-migrated database (``portal.core.migrate.upgrade``)."""
    app = FastAPI(title="Fieldapp portal", version="1", docs_url=None, redoc_url=None, openapi_url=OPENAPI_URL, lifespan=_lifespan,
                  description="The reference portal of Fieldapp (sync protocol version 1, revision 2).")
    install_openapi(app)
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    app.state.blobs = store = FileBlobStore(settings.blob_dir)
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(known_query_only)])
    for module in (auth, sync, blobs, admin, admin_rules, case_import, visit_export, letters, accounts, webhooks, health):
        api.include_router(module.router)
    app.include_router(api)
    # Monitoring often probes the root: /health answers there too.
    app.include_router(health.router)
    web.install(app)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(InputGuardMiddleware)
    # The body limit's own 413s carry the headers too.
    app.add_middleware(SecurityHeadersMiddleware, trusted_proxies=settings.trusted_proxies)
    # Outermost: blob PUTs read their own bodies, add the headers themselves and skip the rest (portal.api.blob_put).
    app.add_middleware(BlobPutMiddleware, settings=settings, db=app.state.db, store=store)
    return app
