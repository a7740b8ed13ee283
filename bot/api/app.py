"""The aiohttp application served next to the bot: /healthz and the merchant API (/api/v1)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.api.routes import PREFIX, build_api
from bot.wiring import AppDeps
from storage.db import ping

log = logging.getLogger(__name__)

DEPS = web.AppKey("deps", AppDeps)


def build_web_app(deps: AppDeps) -> web.Application:
    app = web.Application()
    app[DEPS] = deps
    app.router.add_get("/healthz", healthz)
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
