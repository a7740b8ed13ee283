"""The handoff services without Telegram: where the watchdog's alerts and a failed refund
go, which tickets a refund step settles, and the card's length."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.handoff_delivery import MAX_TEXT, render_card
from bot.services.handoff.card import load_card
from bot.services.linking.identity import IdentityService, Sender
from bot.services.refunds.updates import RefundUpdates
from bot.services.refunds.watchdog import OverdueWatchdog
from bot.texts import Renderer
from bot.wiring import AppDeps
from storage.enums import Direction, HandoffState, RefundStatus, TicketReason, TicketStatus
from storage.models import Handoff, OutboxMessage, Ticket, TranscriptEntry
from tests.api.support import customer, item, link, load, open_refund, order
from tests.conftest import NOW

ANN_CHAT = 9001
GROUP = -1001234567890
RENDERER = Renderer()


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann (C001, linked and chatting) with SO-1 paid by card; Bo (C002) not linked; the
    agents' group ready."""
    await load(
        deps,
        customers=[customer("C001"), customer("C002", "Bo Chen")],
        orders=[
            order("SO-1", "C001", item("TS", "99.00")),
            order("SO-9", "C002", item("HAT", "50.00")),
        ],
    )
    await link(deps, "C001", ANN_CHAT)
    async with deps.uow() as uow:
        await IdentityService(uow, deps.clock, "en").resolve(
            Sender(user_id=ANN_CHAT, chat_id=ANN_CHAT, first_name="Ann")
        )
        await deps.services(uow).desk.record(GROUP, title="Agents", locale="en", problem=None)
    return deps


async def rows(deps: AppDeps, model: Any) -> list[Any]:
    async with deps.uow() as uow:
        return list((await uow.session.scalars(select(model).order_by(model.id))).all())


def watchdog(deps: AppDeps) -> OverdueWatchdog:
    return OverdueWatchdog(
        deps.uow, deps.service_config.policy, default_locale="en", agent_chat_id=GROUP
    )


async def test_an_overdue_refund_is_announced_in_the_customers_case_topic(shop: AppDeps) -> None:
    await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)

    assert await watchdog(shop).sweep(NOW + timedelta(hours=25)) == 1

    [ticket] = await rows(shop, Ticket)
    assert (ticket.reason, ticket.chat_id) == (TicketReason.REFUND_OVERDUE, ANN_CHAT)
    [handoff] = await rows(shop, Handoff)
    alerts = [m for m in await rows(shop, OutboxMessage) if m.template == "agent/refund_overdue"]
    assert [(m.chat_id, m.topic_id) for m in alerts] == [(GROUP, handoff.topic_id)]


async def test_without_a_chat_to_hang_a_case_on_the_alert_goes_to_the_group(shop: AppDeps) -> None:
    await open_refund(shop, "SO-9", status=RefundStatus.PENDING_REVIEW)

    assert await watchdog(shop).sweep(NOW + timedelta(hours=25)) == 1

    assert await rows(shop, Ticket) == []
    alerts = [m for m in await rows(shop, OutboxMessage) if m.template == "agent/refund_overdue"]
    assert [(m.chat_id, m.topic_id) for m in alerts] == [(GROUP, None)]


async def test_a_failed_refund_opens_a_case_and_its_retry_settles_it(shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1")

    async def event(status: RefundStatus, name: str) -> None:
        async with shop.uow() as uow:
            await RefundUpdates(uow, shop.clock, shop.service_config.policy, "en").apply(
                refund_id, status, actor="merchant", event_id=name, occurred_at=NOW, note="IBAN"
            )

    await event(RefundStatus.FAILED, "e-1")
    [ticket] = await rows(shop, Ticket)
    assert (ticket.reason, ticket.status) == (TicketReason.REFUND_FAILED, TicketStatus.OPEN)
    notices = [m for m in await rows(shop, OutboxMessage) if m.template == "agent/refund_failed"]
    assert len(notices) == 1

    await event(RefundStatus.PROCESSING, "e-2")
    [ticket] = await rows(shop, Ticket)
    assert ticket.status is TicketStatus.CLOSED
    [handoff] = await rows(shop, Handoff)
    assert handoff.state is HandoffState.CLOSED


async def test_the_card_stays_under_telegrams_limit_with_a_long_conversation(
    shop: AppDeps,
) -> None:
    async with shop.uow() as uow:
        identity = await IdentityService(uow, shop.clock, "en").resolve(
            Sender(user_id=ANN_CHAT, chat_id=ANN_CHAT, first_name="Ann")
        )
        await shop.services(uow).handoff.escalate(identity, TicketReason.CUSTOMER_ASKED)
        async with uow.transaction():
            await uow.conversations.add_entries(
                {
                    "conversation_id": identity.conversation_id,
                    "direction": Direction.IN,
                    "kind": "text",
                    "text": "<b>é</b> & " * 400,
                    "created_at": NOW,
                }
                for _ in range(20)
            )
    [handoff] = await rows(shop, Handoff)
    assert len(await rows(shop, TranscriptEntry)) == 20

    async with shop.uow() as uow:
        card = await load_card(uow, handoff.id, "en")
    assert card is not None
    for locale in ("en", "zh"):
        text = render_card(card, RENDERER.for_locale(locale))
        assert len(text) <= MAX_TEXT
        assert "Ann" in text or "C001" in text
