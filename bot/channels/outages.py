"""The database or Redis failing while the bot runs: a short apology, a replay later.

An update that meets an outage is not lost: it is in the update inbox, and the runner
hands it back to be replayed once the outage is over (`bot.channels.inbox`). The
person hears once, on the first attempt, that their message is kept. Outside the
inbox (the console shell) nothing keeps it, so the generic apology is said instead.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from aiogram import Bot, Router
from aiogram.types import ErrorEvent
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.errors import say_sorry
from bot.channels.inbox import current_delivery
from bot.channels.redis_optional import redis_outages
from bot.texts import Renderer
from storage.db import ping

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

STARTUP_CHECK_SECONDS = 10.0

_OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError,  # connection refused or lost, "database is locked" on SQLite
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    ConnectionError,
    socket.gaierror,
    TimeoutError,
)


def is_outage(error: BaseException) -> bool:
    """A dependency did not answer, as opposed to a bug or a refused request."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _OUTAGES + redis_outages())


async def _outage_filter(event: ErrorEvent) -> bool:
    return is_outage(event.exception)


async def apologise_for_outage(event: ErrorEvent, bot: Bot, renderer: Renderer) -> None:
    delivery = current_delivery()
    update = event.update
    error = event.exception
    if delivery is None:
        log.error("update %s failed: dependency unavailable", update.update_id, exc_info=error)
        template = "errors/generic"
    else:
        delivery.retry = True
        log.warning(
            "update %s: %s: %s; kept in the inbox for a replay (attempt %d)",
            update.update_id,
            type(error).__name__,
            str(error).splitlines()[0] if str(error) else "",
            delivery.attempts + 1,
        )
        if delivery.attempts > 0:
            return  # told on the first attempt already
        template = "errors/outage"
    await say_sorry(bot, renderer, update, template)


def build_outages_router() -> Router:
    """Included before the generic errors router, so an outage is recognised first."""
    router = Router(name=__name__)
    router.errors.register(apologise_for_outage, _outage_filter)
    return router


async def unavailable(
    engine: AsyncEngine, redis: Redis | None, database_url: str, redis_url: str | None
) -> list[str]:
    """At start: one line for each of the database and Redis that does not answer."""
    problems = []
    try:
        async with asyncio.timeout(STARTUP_CHECK_SECONDS):
            await ping(engine)
    except Exception as error:
        where = make_url(database_url).render_as_string(hide_password=True)
        problems.append(f"database unavailable ({where}): {_reason(error)}")
    if redis is not None and redis_url is not None:
        try:
            async with asyncio.timeout(STARTUP_CHECK_SECONDS):
                await redis.ping()
        except Exception as error:
            problems.append(f"redis unavailable ({_without_password(redis_url)}): {_reason(error)}")
    return problems


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {STARTUP_CHECK_SECONDS:g} s"
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
