"""Claiming and marking outbox rows: the repository's rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.wiring import AppDeps
from storage.enums import OutboxStatus
from storage.repositories.outbox import COALESCED_INTO, Claim
from tests.conftest import NOW
from tests.notifier.support import enqueue, refund_row, row

LEASE = timedelta(seconds=30)


async def claim(
    deps: AppDeps, owner: str, *, at: timedelta = timedelta(0), rows: int = 100, per_chat: int = 10
) -> Claim:
    now = NOW + at
    async with deps.uow() as uow, uow.transaction():
        return await uow.outbox.claim(
            owner=owner, now=now, lease_until=now + LEASE, max_rows=rows, max_per_chat=per_chat
        )


def ids(claimed: Claim) -> list[int]:
    return [message.id for message in claimed.rows]


async def test_whole_chats_are_claimed_oldest_first_within_the_caps(deps: AppDeps) -> None:
    a1, b1, a2, c1, a3 = await enqueue(
        deps, [refund_row(chat, n) for n, chat in enumerate([1, 2, 1, 3, 1])]
    )

    first = await claim(deps, "one", rows=4, per_chat=2)
    second = await claim(deps, "two", rows=4, per_chat=2)

    assert ids(first) == [a1, a2, b1, c1]
    assert ids(second) == []  # chat 1's head is leased, so a3 must wait behind it
    leased = await row(deps, a1)
    assert (leased.lease_owner, leased.lease_until) == ("one", NOW + LEASE)
    assert (await row(deps, a3)).lease_owner is None


async def test_a_row_waiting_for_its_retry_holds_back_the_rest_of_its_chat(deps: AppDeps) -> None:
    first, later, other = await enqueue(
        deps, [refund_row(1, 1), refund_row(1, 2), refund_row(2, 3)]
    )
    async with deps.uow() as uow, uow.transaction():
        await uow.outbox.claim(
            owner="one", now=NOW, lease_until=NOW + LEASE, max_rows=1, max_per_chat=1
        )
        assert await uow.outbox.reschedule(
            first, "one", available_at=NOW + timedelta(seconds=5), error="500", count_attempt=True
        )

    assert ids(await claim(deps, "two")) == [other]
    assert ids(await claim(deps, "two", at=timedelta(seconds=5))) == [first, later]


async def test_an_expired_lease_can_be_taken_over_and_the_old_owner_can_no_longer_mark(
    deps: AppDeps,
) -> None:
    (id_,) = await enqueue(deps, [refund_row(1, 1)])
    assert ids(await claim(deps, "crashed")) == [id_]

    assert ids(await claim(deps, "next", at=LEASE)) == []  # expires strictly after lease_until
    assert ids(await claim(deps, "next", at=LEASE + timedelta(seconds=1))) == [id_]

    async with deps.uow() as uow, uow.transaction():
        assert not await uow.outbox.mark_sent(id_, "crashed", at=NOW, telegram_message_id=1)
        assert await uow.outbox.mark_sent(id_, "next", at=NOW, telegram_message_id=2)
    sent = await row(deps, id_)
    assert (sent.status, sent.telegram_message_id) == (OutboxStatus.SENT, 2)
    assert (sent.lease_owner, sent.lease_until) == ("next", None)  # who sent it


async def test_released_rows_are_claimable_again_at_once(deps: AppDeps) -> None:
    first, second = await enqueue(deps, [refund_row(1, 1), refund_row(1, 2)])
    await claim(deps, "one")

    async with deps.uow() as uow, uow.transaction():
        assert await uow.outbox.release([first, second], "someone else") == 0
        assert await uow.outbox.release([first, second], "one") == 2

    assert ids(await claim(deps, "two")) == [first, second]


async def test_older_rows_of_a_coalesce_key_are_marked_into_the_newest(deps: AppDeps) -> None:
    old, other, older_elsewhere, newest = await enqueue(
        deps,
        [
            refund_row(1, 1, coalesce_key="refund:9"),
            refund_row(1, 2),
            refund_row(2, 3, coalesce_key="refund:9"),
            refund_row(1, 4, coalesce_key="refund:9"),
        ],
    )

    claimed = await claim(deps, "one")

    assert ids(claimed) == [other, newest, older_elsewhere]  # keys are coalesced per chat
    assert claimed.coalesced == 1
    superseded = await row(deps, old)
    assert (superseded.status, superseded.last_error) == (
        OutboxStatus.SENT,
        f"{COALESCED_INTO}{newest}",
    )
    assert (superseded.lease_owner, superseded.lease_until) == ("one", None)


async def test_concurrent_claims_take_different_chats_without_waiting(deps: AppDeps) -> None:
    if deps.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises claims (BEGIN IMMEDIATE); one notifier runs there")
    a1, b1, _, d1, a2 = await enqueue(
        deps, [refund_row(chat, n) for n, chat in enumerate([1, 2, 3, 4, 1])]
    )

    async with deps.uow() as first, deps.uow() as second:
        one = await first.outbox.claim(
            owner="one", now=NOW, lease_until=NOW + LEASE, max_rows=3, max_per_chat=5
        )  # its transaction stays open, holding its row locks
        two = await second.outbox.claim(
            owner="two", now=NOW, lease_until=NOW + LEASE, max_rows=3, max_per_chat=5
        )
        await first.commit()
        await second.commit()

    assert ids(one) == [a1, a2, b1]
    # Chat 3's head was locked by the first claim (it did not fit), so it is skipped
    # rather than waited for; chat 1's second row is not a head, so it is not taken.
    assert ids(two) == [d1]
