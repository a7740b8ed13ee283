"""The update inbox on SQLite and PostgreSQL: recorded once, claimed by one worker,
replayed after its lease runs out, redeliveries recognised by id (not by a watermark)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiogram.types import Update

from bot.channels.inbox import DROPPED, HANDLED, Delivery, InboxMark, UpdateInbox
from bot.services.domain.clock import FixedClock
from bot.wiring import AppDeps
from storage.models import InboxUpdate
from tests.conftest import NOW

LEASE = timedelta(seconds=30)


def message(update_id: int, chat_id: int = 501, text: str = "hello") -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1795428000,
                "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"},
                "text": text,
            },
        }
    )


def inbox(deps: AppDeps, owner: str, clock: FixedClock) -> UpdateInbox:
    return UpdateInbox(deps.uow, owner, lease=LEASE, retention=timedelta(hours=48), clock=clock)


async def row(deps: AppDeps, update_id: int) -> InboxUpdate:
    async with deps.uow() as uow:
        found = await uow.inbox.get(update_id)
    assert found is not None
    return found


def ids(updates: list[Update]) -> list[int]:
    return [update.update_id for update in updates]


async def test_a_batch_is_recorded_once_and_a_redelivery_is_not_handled_again(
    deps: AppDeps, clock: FixedClock
) -> None:
    worker = inbox(deps, "a", clock)
    assert ids(await worker.record([message(10), message(11), message(10)])) == [10, 11]
    # Telegram sends 10 again (an unconfirmed offset, a webhook timeout): it is in flight.
    assert await worker.record([message(10), message(12)]) == [message(12)]
    await worker.mark([10, 11, 12], HANDLED)
    assert await worker.record([message(10), message(11)]) == []
    stored = await row(deps, 10)
    assert stored.payload["message"]["text"] == "hello"
    assert stored.chat_id == 501
    assert (stored.outcome, stored.claimed_until) == (HANDLED, None)


async def test_ids_are_a_set_not_a_watermark(deps: AppDeps, clock: FixedClock) -> None:
    """An older update arriving after a newer one (a webhook retry) is still handled."""
    worker = inbox(deps, "a", clock)
    await worker.record([message(20)])
    await worker.mark([20], HANDLED)
    assert ids(await worker.record([message(19)])) == [19]


async def test_a_group_commit_marks_each_update_at_the_time_it_was_handled(
    deps: AppDeps, clock: FixedClock
) -> None:
    """Marks deferred to one group commit keep their own times: a chat's updates, read back
    by `handled_at`, stay in the order they were handled (an update marked late must not
    look handled after the next one, which another worker marked on its own)."""
    worker = inbox(deps, "a", clock)
    await worker.record([message(70), message(71), message(72)])
    first = worker.handled(70)
    clock.advance(timedelta(milliseconds=20))
    second = worker.handled(71)
    async with deps.uow() as uow, uow.transaction():
        await InboxMark.write_all(uow, [first, second])
    clock.advance(timedelta(milliseconds=20))
    await worker.mark([72], HANDLED)
    times = [(await row(deps, update_id)).handled_at for update_id in (70, 71, 72)]
    assert times == [NOW, NOW + timedelta(milliseconds=20), NOW + timedelta(milliseconds=40)]


async def test_another_worker_takes_over_once_the_lease_runs_out(
    deps: AppDeps, clock: FixedClock
) -> None:
    dead, alive = inbox(deps, "dead", clock), inbox(deps, "alive", clock)
    await dead.record([message(30), message(31)])
    assert await alive.claim_due() == []  # still leased to the dead worker
    assert await alive.record([message(30)]) == []
    clock.advance(LEASE + timedelta(seconds=1))
    claimed = await alive.claim_due()
    assert [(payload["update_id"], attempts) for payload, attempts in claimed] == [(30, 0), (31, 0)]
    assert (await row(deps, 30)).claimed_by == "alive"
    assert await dead.claim_due() == []


async def test_renewing_keeps_an_update_that_is_still_being_handled(
    deps: AppDeps, clock: FixedClock
) -> None:
    busy, other = inbox(deps, "busy", clock), inbox(deps, "other", clock)
    await busy.record([message(40)])
    for _ in range(3):
        clock.advance(LEASE - timedelta(seconds=5))
        await busy.renew()
        assert await other.claim_due() == []


async def test_a_restarted_worker_takes_its_own_updates_back_at_once(
    deps: AppDeps, clock: FixedClock
) -> None:
    before_crash = inbox(deps, "host:8080", clock)
    await before_crash.record([message(50)])
    restarted = inbox(deps, "host:8080", clock)
    await restarted.take_back_own()
    assert [payload["update_id"] for payload, _ in await restarted.claim_due()] == [50]


async def test_an_update_handed_back_after_an_outage_is_replayed_later(
    deps: AppDeps, clock: FixedClock
) -> None:
    worker = inbox(deps, "a", clock)
    await worker.record([message(60)])
    await worker.release(Delivery(60, attempts=0, retry=True))
    assert await worker.claim_due() == []
    clock.advance(timedelta(seconds=3))  # 2 s after a first failure
    assert [attempts for _, attempts in await worker.claim_due()] == [1]
    await worker.release(Delivery(60, attempts=1, retry=True))
    clock.advance(timedelta(seconds=3))
    assert await worker.claim_due() == []  # the pause grows: 4 s after a second failure
    clock.advance(timedelta(seconds=2))
    assert [attempts for _, attempts in await worker.claim_due()] == [2]


async def test_two_workers_claiming_at_once_share_the_work_without_overlap(
    deps: AppDeps, clock: FixedClock
) -> None:
    dead = inbox(deps, "dead", clock)
    await dead.record([message(update_id) for update_id in range(100, 160)])
    clock.advance(LEASE + timedelta(seconds=1))
    workers = [inbox(deps, f"w{n}", clock) for n in range(4)]

    async def drain(worker: UpdateInbox) -> list[int]:
        taken: list[int] = []
        while batch := await worker.claim_due(limit=7):
            taken += [payload["update_id"] for payload, _ in batch]
        return taken

    taken = await asyncio.gather(*(drain(worker) for worker in workers))
    everything = [update_id for batch in taken for update_id in batch]
    assert sorted(everything) == list(range(100, 160))


async def test_old_updates_are_forgotten_after_the_retention(
    deps: AppDeps, clock: FixedClock
) -> None:
    worker = inbox(deps, "a", clock)
    await worker.record([message(70), message(71)])
    await worker.mark([70], DROPPED)
    clock.advance(timedelta(hours=47))
    await worker.purge()
    assert (await row(deps, 71)).handled_at is None
    clock.advance(timedelta(hours=2))
    await worker.purge()
    async with deps.uow() as uow:
        assert await uow.inbox.get(70) is None
        assert await uow.inbox.get(71) is None


def _payload(update: Update) -> dict[str, Any]:
    return update.model_dump(mode="json", exclude_none=True, by_alias=True)


async def test_a_recorded_update_reads_back_as_the_same_update(
    deps: AppDeps, clock: FixedClock
) -> None:
    original = message(80, text="退掉我买的耳机 ١٢٣٤")
    worker = inbox(deps, "a", clock)
    await worker.record([original])
    assert Update.model_validate((await row(deps, 80)).payload) == original
    assert (await row(deps, 80)).payload == _payload(original)
    assert NOW  # the business clock is not the inbox's: leases use `clock` as given
