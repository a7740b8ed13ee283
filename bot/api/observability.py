"""`/metrics` (Prometheus text format) and `/readyz`, next to `/healthz`.

`/healthz` says the process and its database answer; `/readyz` says this process is
doing its job: the database answers, Redis too when configured, the outbox notifier has
reported in recently, and long polling (when this process polls) got an answer from
Telegram recently. A check that does not apply here reads "not running here".
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.api.keys import DEPS
from bot.channels.redis_optional import redis_of
from bot.services.merchant.cancellation import CASE_ORIGIN
from storage.db import ping

log = logging.getLogger(__name__)

OK = "ok"
NOT_HERE = "not running here"
NOT_CONFIGURED = "not configured"


def add_observability_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/readyz", readyz)


async def metrics(request: web.Request) -> web.Response:
    """The counters of this process and the live counts of the database, for Prometheus."""
    deps = request.app[DEPS]
    token = deps.settings.metrics_token
    if token is not None:
        sent = request.headers.get("Authorization", "")
        wanted = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(sent.encode(), wanted.encode()):
            return web.Response(status=401, text="metrics need METRICS_TOKEN as a bearer token\n")
    try:
        async with deps.uow() as uow:
            counts = await uow.insights.live_counts(holder_origin=CASE_ORIGIN)
    except Exception:
        log.exception("metrics: the database did not answer")
        counts = None
    deps.telemetry.database_counts(counts, deps.clock.now())
    return web.Response(
        body=deps.telemetry.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def readyz(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    checks: dict[str, str] = {}
    try:
        await ping(deps.engine)
        checks["database"] = OK
    except Exception:
        log.exception("readiness: database unreachable")
        checks["database"] = "down"
    redis = redis_of(deps.fsm_storage)
    if not deps.settings.redis_url:
        checks["redis"] = NOT_CONFIGURED
    elif redis is not None:
        try:
            await redis.ping()
            checks["redis"] = OK
        except Exception:
            log.exception("readiness: Redis unreachable")
            checks["redis"] = "down"
    telemetry = deps.telemetry
    lease = deps.settings.notifier_lease_seconds
    # A batch lasts at most about half its lease, then the notifier waits one poll.
    checks["notifier"] = _fresh(
        telemetry.notifier_age(), 2 * lease + deps.settings.notifier_poll_seconds
    )
    checks["polling"] = _fresh(telemetry.polling_age(), deps.settings.readyz_polling_stale_seconds)
    ready = all(state in (OK, NOT_HERE, NOT_CONFIGURED) for state in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


def _fresh(age: float | None, limit: float) -> str:
    if age is None:
        return NOT_HERE
    return OK if age <= limit else f"silent for {age:.0f} s"
