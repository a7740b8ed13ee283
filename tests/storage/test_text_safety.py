"""NUL characters never reach the database, and database errors never show parameters.

PostgreSQL refuses U+0000 in text: a transcript line holding one was lost and the
merchant API answered 500. Runs on SQLite here and on PostgreSQL in CI.
"""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.api.app import build_web_app
from bot.services.conversation.transcript import TranscriptLine
from bot.services.linking.identity import Sender
from bot.wiring import AppDeps
from storage.enums import Direction, RefundStatus
from storage.models import Customer, InboxUpdate, TranscriptEntry
from tests.api.support import SECRET, MerchantClient, customer, item, load, open_refund, order
from tests.conftest import NOW
from tests.storage.helpers import add_all, make_customer

SECRET_WORDS = "my card is 4111 1111 1111 1111 and my phone +8613800138000"


async def test_a_transcript_line_with_nul_characters_is_kept_without_them(deps: AppDeps) -> None:
    async with deps.uow() as uow:
        identity = await deps.services(uow).identity.resolve(Sender(user_id=77, chat_id=77))
        await deps.services(uow).transcript.record(
            identity.conversation_id,
            [TranscriptLine(Direction.IN, "text", text="cancel\x00 SO-1\x00")],
        )
    async with deps.uow() as uow:
        texts = (await uow.session.scalars(select(TranscriptEntry.text))).all()
    assert texts == ["cancel SO-1"]


async def test_many_rows_in_one_statement_are_cleaned_row_by_row(deps: AppDeps) -> None:
    """An executemany (one INSERT, several rows): each row's strings lose their NULs."""
    async with deps.uow() as uow, uow.transaction():
        await add_all(
            uow,
            make_customer("C-1", name="Ann\x00 Lee"),
            make_customer("C-2", name="Bo Chen"),
            make_customer("C-3", name="\x00Cy\x00"),
        )
    async with deps.uow() as uow:
        names = (await uow.session.scalars(select(Customer.name).order_by(Customer.id))).all()
    assert names == ["Ann Lee", "Bo Chen", "Cy"]


async def test_json_with_nul_characters_is_stored_and_read_back(deps: AppDeps) -> None:
    payload = {"update_id": 1, "message": {"text": "a\x00b"}}
    async with deps.uow() as uow, uow.transaction():
        uow.session.add(InboxUpdate(update_id=1, payload=payload, received_at=NOW, attempts=0))
    async with deps.uow() as uow:
        stored = await uow.inbox.get(1)
    assert stored is not None
    assert stored.payload["message"]["text"] in ("a\x00b", "ab")


async def test_database_errors_do_not_show_the_values_involved(deps: AppDeps) -> None:
    async with deps.uow() as uow:
        await add_all(uow, make_customer("C-1"))
    with pytest.raises(IntegrityError) as raised:
        async with deps.uow() as uow:
            await add_all(uow, make_customer("C-1", name=SECRET_WORDS))
    message = str(raised.value)
    assert "4111" not in message
    assert "8613800138000" not in message
    assert "hidden due to hide_parameters" in message
    async with deps.uow() as uow:
        names = (await uow.session.scalars(select(Customer.name))).all()
    assert names == ["Customer C-1"]


async def test_the_merchant_api_answers_nul_characters_and_huge_ids_without_a_500(
    deps: AppDeps,
) -> None:
    """On PostgreSQL these reached the database and failed there: 500s."""
    settings = deps.settings.model_copy(update={"merchant_api_secret": SecretStr(SECRET)})
    deps.settings = settings
    await load(deps, customers=[customer("C001")], orders=[order("SO-1", "C001", item("A", "1"))])
    server = TestServer(build_web_app(deps), host="127.0.0.1")
    async with server, aiohttp.ClientSession() as http:
        api = MerchantClient(http, str(server.make_url("")).rstrip("/"), deps.clock.now)
        assert (await api.get("/api/v1/orders/SO-1%00")).status == 404
        assert (await api.get(f"/api/v1/refunds/{2**31}")).status == 404
        assert (await api.get(f"/api/v1/refunds/{2**63}")).status == 404
        refund_id = await open_refund(deps, "SO-1", status=RefundStatus.PENDING_REVIEW)
        event = {
            "event_id": "e-1",
            "status": "rejected",
            "note": "no\x00",
            "occurred_at": NOW.isoformat(),
        }
        answer = await api.post(f"/api/v1/refunds/{refund_id}/events", event)
        assert answer.status == 201
