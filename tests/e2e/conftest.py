"""End-to-end fixtures: the real bot, polling (or receiving webhooks from) a fake Telegram.

Only Telegram is fake. The bot is built by `bot.wiring` exactly as `cancelbot run`
builds it, talks HTTP to the fake on 127.0.0.1, and keeps its state in a real
database loaded with the demo shop.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bot.channels.telegram import BotServer
from bot.config import Settings
from bot.demo_data import seed_demo
from bot.services.domain.clock import FixedClock
from bot.texts import Renderer
from bot.wiring import AppDeps, build_bot, build_deps
from storage.models import Customer
from tests.api.support import MerchantClient
from tests.conftest import TEST_TOKEN
from tests.support.fake_telegram import FakeTelegram

StartBot = Callable[..., Awaitable[BotServer]]
RENDERER = Renderer()


def label(button: str, locale: str = "en") -> str:
    """A button's label as the templates write it, so tests follow wording changes."""
    return RENDERER.button(locale, button)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TEST_TOKEN) as fake:
        yield fake
    assert fake.unimplemented_calls == [], "the bot called a method the fake does not know"


@pytest.fixture
async def shop(demo_copy: bool, deps: AppDeps) -> AppDeps:
    """The migrated database with the demo shop loaded (on SQLite, copied in with it)."""
    if not demo_copy:
        await seed_demo(deps.session_factory, deps.clock)
    return deps


@pytest.fixture
async def start_bot(
    shop: AppDeps, settings: Settings, fake: FakeTelegram, clock: FixedClock
) -> AsyncIterator[StartBot]:
    """Start a bot process-in-a-task; several may be started (a restart), all are stopped."""
    servers: list[BotServer] = []

    async def start(**overrides: Any) -> BotServer:
        configured = Settings(
            _env_file=None,  # type: ignore[call-arg]
            **{**settings.model_dump(), "telegram_api_base": fake.base_url, **overrides},
        )
        deps = build_deps(configured, clock=clock)
        server = BotServer(deps, build_bot(configured))
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await stop_bot(server)


@pytest.fixture
async def api(bot: BotServer, clock: FixedClock) -> AsyncIterator[MerchantClient]:
    """The merchant's systems, signing requests to the test module's `bot` fixture (which
    must set MERCHANT_API_SECRET to tests.api.support.SECRET)."""
    async with aiohttp.ClientSession() as http:
        yield MerchantClient(http, f"http://127.0.0.1:{bot.port}", clock.now)


async def stop_bot(server: BotServer) -> None:
    """Stop gracefully (in-flight updates finish); stopping twice is harmless."""
    if server.running:
        await server.stop()
        await server.deps.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def customer(deps: AppDeps, external_id: str) -> Customer:
    async with deps.uow() as uow:
        found = await uow.customers.by_external_id(external_id)
    assert found is not None, external_id
    return found


async def order_numbers(deps: AppDeps, external_id: str) -> set[str]:
    async with deps.uow() as uow:
        owner = await uow.customers.by_external_id(external_id)
        assert owner is not None
        return {order.number for order in await uow.orders.for_customer(owner.id)}
