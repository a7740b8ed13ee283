"""Never asked twice, enforced by the database: two endings of one case racing on
separate connections stage one survey and one message, and neither of them fails.

Runs on SQLite here and on PostgreSQL with TEST_DATABASE_URL, where the second insert
really waits for the first transaction and then does nothing.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.services.conversation.surveys import SurveyService
from bot.wiring import AppDeps
from storage.models import OutboxMessage, Survey
from tests.storage.helpers import add_all, make_customer

SUBJECT = "request:1"
CHAT = 4242


async def _customer_id(deps: AppDeps) -> int:
    customer = make_customer("C-SURVEY")
    async with deps.uow() as uow:
        await add_all(uow, customer)
    return customer.id


async def _counts(deps: AppDeps) -> tuple[int, int, int]:
    async with deps.uow() as uow:
        session = uow.session
        return (
            await session.scalar(select(func.count()).select_from(Survey)) or 0,
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.template == "notify/survey")
            )
            or 0,
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.template == "notify/refund_status")
            )
            or 0,
        )


async def _ending(deps: AppDeps, customer_id: int, name: str) -> int | None:
    """What an ending does: its own notice, then the survey, in one transaction."""
    async with deps.uow() as uow, uow.transaction():
        uow.outbox.add(
            OutboxMessage(
                chat_id=CHAT,
                customer_id=customer_id,
                template="notify/refund_status",
                context={},
                locale="en",
                dedupe_key=f"ending:{name}",
                available_at=deps.clock.now(),
                created_at=deps.clock.now(),
            )
        )
        return await SurveyService(uow, deps.clock).ask(
            SUBJECT, customer_id, chat_id=CHAT, locale="en"
        )


async def test_concurrent_asks_for_one_subject_stage_one_survey(deps: AppDeps) -> None:
    customer_id = await _customer_id(deps)

    asked = await asyncio.gather(*(_ending(deps, customer_id, str(n)) for n in range(4)))

    assert sum(survey_id is not None for survey_id in asked) == 1
    # Each ending's own work committed: losing the race for the survey fails nothing.
    assert await _counts(deps) == (1, 1, 4)


async def test_an_ask_waiting_on_an_uncommitted_one_then_asks_nothing(deps: AppDeps) -> None:
    """The first transaction has inserted its survey but not committed when the second
    asks: the second waits for it (on PostgreSQL the unique index, on SQLite the write
    lock), sees the row once it commits, and does nothing."""
    customer_id = await _customer_id(deps)
    inserted = asyncio.Event()

    async def first() -> int | None:
        async with deps.uow() as uow, uow.transaction():
            survey_id = await SurveyService(uow, deps.clock).ask(
                SUBJECT, customer_id, chat_id=CHAT, locale="en"
            )
            inserted.set()
            await asyncio.sleep(0.3)  # the second is waiting meanwhile
            return survey_id

    async def second() -> int | None:
        await inserted.wait()
        return await _ending(deps, customer_id, "second")

    winner, loser = await asyncio.gather(first(), second())

    assert (winner is not None, loser) == (True, None)
    assert await _counts(deps) == (1, 1, 1)
