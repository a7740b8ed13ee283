"""Sixty accounts guessing one order's last four digits at the same moment: exactly ten
guesses are checked, the rest are refused unchecked, and the order's owner still links.

On PostgreSQL (CI) the guesses really race on separate connections; counting and
recording without the row locks let 15–16 through.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.services.linking.accounts import ORDER_GUESS_LIMIT, GuestOutcome, LinkOutcome
from bot.services.linking.identity import Sender
from bot.services.linking.throttle import GUEST_VERIFY
from bot.wiring import AppDeps
from storage.models import ThrottleEvent
from tests.conftest import NOW
from tests.storage.helpers import add_all, make_customer, make_order

OWNER = 5000
ATTACKERS = range(6001, 6061)


async def _guess(deps: AppDeps, account: int) -> GuestOutcome:
    async with deps.uow() as uow:
        result = await deps.services(uow).linking.verify_guest(account, "SO-8000001", "0000")
    return result.outcome


async def test_sixty_simultaneous_guesses_check_exactly_the_limit(deps: AppDeps) -> None:
    owner = make_customer("C-OWNER", phone="+8613800004321")
    async with deps.uow() as uow:
        await add_all(uow, owner, make_order(owner, "SO-8000001", NOW - timedelta(days=1)))
    for account in (OWNER, *ATTACKERS):
        async with deps.uow() as uow:
            await deps.services(uow).identity.resolve(Sender(user_id=account, chat_id=account))

    outcomes = await asyncio.gather(*(_guess(deps, account) for account in ATTACKERS))

    assert outcomes.count(GuestOutcome.MISMATCH) == ORDER_GUESS_LIMIT.attempts
    assert outcomes.count(GuestOutcome.LOCKED) == len(ATTACKERS) - ORDER_GUESS_LIMIT.attempts
    async with deps.uow() as uow:
        counted = await uow.session.scalar(
            select(func.count()).where(
                ThrottleEvent.subject == "order:SO-8000001", ThrottleEvent.action == GUEST_VERIFY
            )
        )
        owner_guess = await deps.services(uow).linking.verify_guest(OWNER, "SO-8000001", "4321")
        linked = await deps.services(uow).linking.link_by_contact(OWNER, OWNER, "8613800004321")
    assert counted == ORDER_GUESS_LIMIT.attempts
    assert owner_guess.outcome is GuestOutcome.LOCKED  # as a guest, the order is locked today
    assert linked.outcome is LinkOutcome.LINKED  # but the owner links by contact all the same
