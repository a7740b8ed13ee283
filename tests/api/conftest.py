"""The merchant API on the real web app (`build_web_app`), served on 127.0.0.1, with a
secret configured and a small shop: two customers, one of them linked to Telegram."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.api.app import build_web_app
from bot.config import Settings
from bot.wiring import AppDeps
from tests.api.support import SECRET, MerchantClient, customer, item, link, load, order, variant

LINKED_USER = 9001


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"merchant_api_secret": SecretStr(SECRET)})


@pytest.fixture
async def api(deps: AppDeps) -> AsyncIterator[MerchantClient]:
    server = TestServer(build_web_app(deps), host="127.0.0.1")
    async with server, aiohttp.ClientSession() as http:
        yield MerchantClient(http, str(server.make_url("")).rstrip("/"), deps.clock.now)


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """C001 is linked to Telegram user 9001, C002 is not.

    SO-1: paid by card, one T-shirt (blue M) and shipping: 109.00.
    SO-2: paid by card, two lines: 310.00.   SO-3: C002's, paid: 60.00.
    Stock: the T-shirt in three variants, blue M sold out.
    """
    await load(
        deps,
        customers=[customer("C001"), customer("C002", "Bo Chen")],
        orders=[
            order("SO-1", "C001", item("TS-BLUE-M", "99.00", color="blue", size="M")),
            order("SO-2", "C001", item("MUG", "100.00", category="home"), item("CUP", "200.00")),
            order("SO-3", "C002", item("HAT", "50.00")),
        ],
        stock=[
            variant("TS-BLUE-M", "TS", "99.00", 0, color="blue", size="M"),
            variant("TS-BLUE-L", "TS", "99.00", 4, color="blue", size="L"),
            variant("TS-RED-M", "TS", "99.00", 2, color="red", size="M"),
            variant("MUG", "MUG", "100.00", 1),
            variant("CUP", "CUP", "200.00", 1),
        ],
    )
    await link(deps, "C001", LINKED_USER)
    return deps
