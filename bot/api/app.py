"""The aiohttp application served next to the bot: /healthz, /readyz, /metrics, the
merchant API (/api/v1) and the merchant's dashboard (/dashboard)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.api.dashboard import add_dashboard_routes
from bot.api.keys import DEPS
from bot.api.observability import add_observability_routes
from bot.api.routes import PREFIX, build_api
from bot.wiring import AppDeps
from storage.db import ping

log = logging.getLogger(__name__)

__all__ = ["DEPS", "build_web_app"]


def build_web_app(deps: AppDeps) -> web.Application:
    app = web.Application()
    app[DEPS] = deps
    app.router.add_get("/healthz", healthz)
    add_observability_routes(app)
    add_dashboard_routes(app)
    app.add_subapp(PREFIX, build_api(deps))
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise: for load balancers and orchestrators."""
    try:
        await ping(request.app[DEPS].engine)
    except Exception:
        log.exception("health check: database unreachable")
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})
