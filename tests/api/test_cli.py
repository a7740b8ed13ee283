"""`cancelbot refund-event`: the same service as the API, from a terminal, as actor "cli"."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from bot.wiring import AppDeps
from storage.enums import RefundStatus
from tests.api.support import context, open_refund, outbox, refund_row


async def cancelbot(deps: AppDeps, *args: str) -> tuple[int, str, str]:
    """Run the installed command line against the test database, as a separate process."""
    settings = deps.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "DATABASE_URL": settings.database_url,
        "LOG_LEVEL": "WARNING",
    }
    if settings.database_schema:
        env["DATABASE_SCHEMA"] = settings.database_schema
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow  # a whole process of its own
async def test_refund_event_moves_the_refund_tells_the_customer_and_is_idempotent(
    shop: AppDeps,
) -> None:
    refund_id = str(await open_refund(shop, "SO-1"))

    code, out, _ = await cancelbot(
        shop, "refund-event", refund_id, "processing", "--event-id", "op-1"
    )
    assert code == 0
    assert out.strip() == (
        f"refund {refund_id}: approved → processing (event op-1); the customer is told in Telegram"
    )
    code, out, _ = await cancelbot(
        shop, "refund-event", refund_id, "processing", "--event-id", "op-1"
    )
    assert (code, "recorded before: nothing changed" in out) == (0, True)

    refund = await refund_row(shop, int(refund_id))
    assert refund.status is RefundStatus.PROCESSING
    assert (refund.events[-1].actor, refund.events[-1].external_event_id) == ("cli", "op-1")
    (message,) = await outbox(shop)
    assert context(message)["status"] == "processing"


@pytest.mark.slow  # a whole process of its own
async def test_refund_event_refuses_what_the_api_refuses(shop: AppDeps) -> None:
    refund_id = str(await open_refund(shop, "SO-1"))
    code, _, err = await cancelbot(shop, "refund-event", refund_id, "approved", "--note", "x")
    assert (code, err.strip()) == (
        1,
        f"refund {refund_id}: a refund cannot go from approved to approved",
    )
    assert (await refund_row(shop, int(refund_id))).status is RefundStatus.APPROVED
