"""Two webhook workers on PostgreSQL and Redis, as real processes behind a reverse proxy.

- 100 simulated customers cancel two orders each and ask for /status: 1,000 updates,
  some delivered twice to one worker, some to both at once. Every flow completes exactly
  once, no update is handled twice, and each chat's updates are handled in order.
- A worker is killed with SIGKILL mid-confirmation: one customer's Confirm was received
  but not started, another's was committed but not answered. Both finish on the other
  worker, with one cancellation and one refund each.

The proxy stands where nginx would: the fake Telegram posts each update to it, and it
forwards to a worker (and sometimes twice, or to both). These need PostgreSQL and Redis
(several processes share them); on SQLite there is nothing to test.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.texts import Renderer
from bot.wiring import AppDeps
from storage.models import CancellationRequest, InboxUpdate, Order, OutboxMessage, Refund
from tests.api.support import customer, item, load, order
from tests.conftest import TEST_TOKEN
from tests.e2e.conftest import free_port
from tests.support.bot_process import BotProcess, bot_env
from tests.support.fake_telegram import FakeTelegram, FakeUser

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"))
        or not os.environ.get("TEST_REDIS_URL"),
        reason="several workers need PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL)",
    ),
]

RENDERER = Renderer()
SECRET = "workers-webhook-secret"
CUSTOMERS = 100
TIMEOUT = 120.0


def button(name: str, *args: object) -> str:
    return RENDERER.button("en", name, *args)


def number(customer_index: int, k: int) -> str:
    return f"SO-{3000000 + customer_index * 10 + k}"


@dataclass
class Proxy:
    """A reverse proxy in front of the workers: it picks one per update, or several."""

    targets: list[str]
    route: Callable[[int, dict[str, Any]], list[int]]
    """(update_id, update) → indexes of the targets to post it to, in turn; a repeated
    index is a redelivery, a list of lists… see `post`."""
    both: set[int] = field(default_factory=set)
    """Updates posted to every target at the same time."""
    posts: Counter[int] = field(default_factory=Counter)
    runner: web.AppRunner | None = None
    port: int = 0
    _http: aiohttp.ClientSession | None = None

    async def start(self) -> Proxy:
        app = web.Application()
        app.router.add_post("/telegram/webhook", self._forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self.runner.addresses[0][1])
        self._http = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def _post(self, target: str, raw: bytes, headers: dict[str, str]) -> int:
        assert self._http is not None
        try:
            async with self._http.post(target, data=raw, headers=headers) as reply:
                return reply.status
        except aiohttp.ClientError:
            return 502

    async def _forward(self, request: web.Request) -> web.Response:
        raw = await request.read()
        update = json.loads(raw)
        update_id = update["update_id"]
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": request.headers.get(
                "X-Telegram-Bot-Api-Secret-Token", ""
            ),
        }
        statuses = []
        if update_id in self.both:
            self.posts[update_id] += len(self.targets)
            statuses += await asyncio.gather(*(self._post(t, raw, headers) for t in self.targets))
        else:
            for index in self.route(update_id, update):
                self.posts[update_id] += 1
                statuses.append(await self._post(self.targets[index], raw, headers))
        return web.Response(status=200 if 200 in statuses else 503)


def handled_update_ids(*logs: str) -> list[int]:
    """The update ids in the workers' `bot.updates` lines (one per update handled)."""
    ids = []
    for log in logs:
        for line in log.splitlines():
            if '"logger": "bot.updates"' in line:
                message = json.loads(line)["message"]
                ids.append(int(message.split()[0].removeprefix("update=")))
    return ids


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TEST_TOKEN) as fake:
        yield fake


@dataclass
class Workers:
    deps: AppDeps
    fake: FakeTelegram
    tmp_path: Path
    processes: list[BotProcess] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    proxy: Proxy | None = None

    async def start(
        self, route: Callable[[int, dict[str, Any]], list[int]], *, lease: int = 30
    ) -> Proxy:
        """Two workers behind a proxy; `lease` is INBOX_LEASE_SECONDS (how soon a dead
        worker's updates are taken over)."""
        settings = self.deps.settings
        self.ports = [free_port(), free_port()]
        self.proxy = await Proxy(
            [f"http://127.0.0.1:{p}/telegram/webhook" for p in self.ports], route
        ).start()
        for index, port in enumerate(self.ports):
            env = bot_env(
                TELEGRAM_API_BASE=self.fake.base_url,
                DATABASE_URL=settings.database_url,
                DATABASE_SCHEMA=settings.database_schema or "",
                REDIS_URL=settings.redis_url or "",
                WEBHOOK_URL=f"http://127.0.0.1:{self.proxy.port}",
                WEBHOOK_SECRET=SECRET,
                API_HOST="127.0.0.1",
                API_PORT=str(port),
                INBOX_LEASE_SECONDS=str(lease),
                NOTIFIER_RATE_PER_SECOND="12.5",  # two notifiers share Telegram's 30/s
            )
            log = self.tmp_path / f"worker-{index}.log"
            self.processes.append(await BotProcess(("run",), env, log).start())
        for process, port in zip(self.processes, self.ports, strict=True):
            await process.healthy(port)
        return self.proxy

    async def stop(self) -> None:
        for process in self.processes:  # an exited one too: its log file is closed
            if process.process is not None:
                await process.stop()
        if self.proxy is not None:
            await self.proxy.close()


@pytest.fixture
async def workers(deps: AppDeps, fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[Workers]:
    group = Workers(deps, fake, tmp_path)
    try:
        yield group
    finally:
        await group.stop()


async def shop(deps: AppDeps, customers: int) -> None:
    await load(
        deps,
        customers=[customer(f"C{n + 1:03d}", f"Customer {n}") for n in range(customers)],
        orders=[
            order(number(n, k), f"C{n + 1:03d}", item(f"SKU-{n}-{k}", "99.00"))
            for n in range(customers)
            for k in (1, 2)
        ],
    )


async def to_summary(person: FakeUser, order_number: str) -> None:
    await person.send(f"/cancel_order {order_number}")
    await person.expect("Why would you like to cancel", timeout=TIMEOUT)
    await person.press(button("reason", "changed_mind"))
    await person.expect("Before you decide", timeout=TIMEOUT)
    await person.press(button("no_thanks_cancel"))
    await person.expect("Please check and confirm", timeout=TIMEOUT)


async def cancel(person: FakeUser, order_number: str) -> None:
    """To the summary, Confirm, and the receipt. (Whether the press is answered within
    Telegram's 15 s depends on the machine's load here; the kill test checks it.)"""
    await to_summary(person, order_number)
    await person.press(button("confirm"))
    await person.expect(f"{order_number} is cancelled", timeout=TIMEOUT)


async def linked(fake: FakeTelegram, n: int) -> FakeUser:
    person = fake.user(7_000_000 + n, f"Customer {n}", phone=f"+86 138 0000 {n + 1:04d}")
    await person.share_contact()
    await person.expect("your account is linked", timeout=TIMEOUT)
    return person


async def flow(fake: FakeTelegram, n: int) -> None:
    """Ten updates: link, cancel two orders (four each), /status."""
    person = await linked(fake, n)
    await cancel(person, number(n, 1))
    await cancel(person, number(n, 2))
    await person.send("/status")
    await person.expect("Your orders", timeout=TIMEOUT)


async def rows(deps: AppDeps, model: Any) -> list[Any]:
    async with deps.uow() as uow:
        return list((await uow.session.scalars(select(model))).all())


async def test_two_workers_handle_a_thousand_updates_exactly_once_and_in_order(
    deps: AppDeps, fake: FakeTelegram, workers: Workers
) -> None:
    await shop(deps, CUSTOMERS)

    def route(update_id: int, update: dict[str, Any]) -> list[int]:
        chosen = update_id % 2
        return [chosen, chosen] if update_id % 11 == 0 else [chosen]  # redelivered

    proxy = await workers.start(route)
    proxy.both.update(range(100_000_000, 100_002_000, 7))  # to both workers at once

    await asyncio.gather(*(flow(fake, n) for n in range(CUSTOMERS)))
    for process in workers.processes:
        assert await process.stop() == 0, process.log()

    # Every flow completed exactly once.
    orders = await rows(deps, Order)
    requests = await rows(deps, CancellationRequest)
    refunds = await rows(deps, Refund)
    assert len(orders) == len(requests) == len(refunds) == 2 * CUSTOMERS
    assert Counter(r.order_id for r in requests) == Counter(o.id for o in orders)
    assert Counter(r.request_id for r in refunds) == Counter(r.id for r in requests)
    receipts = [m for m in await rows(deps, OutboxMessage) if m.template.startswith("notify/")]
    assert len(receipts) == 2 * CUSTOMERS
    for n in range(CUSTOMERS):
        texts = [m.text for m in fake.sent_messages(chat_id=7_000_000 + n)]
        assert sum(" is cancelled" in text for text in texts) == 2, texts

    # 1,000 updates, some posted twice or to both workers: each handled once.
    delivered = {d.update_id for d in fake.webhook_deliveries if not d.manual}
    assert len(delivered) == 10 * CUSTOMERS
    assert sum(1 for count in proxy.posts.values() if count > 1) > 100
    handled = handled_update_ids(*(p.log() for p in workers.processes))
    assert sorted(handled) == sorted(delivered)  # none twice, none missing
    per_worker = [len(handled_update_ids(p.log())) for p in workers.processes]
    assert min(per_worker) > 300, per_worker  # both really worked

    # Each chat's updates were handled in the order they were sent.
    inbox = await rows(deps, InboxUpdate)
    assert all(row.outcome == "handled" for row in inbox)
    by_chat: dict[int, list[InboxUpdate]] = defaultdict(list)
    for row in inbox:
        assert row.chat_id is not None
        by_chat[row.chat_id].append(row)
    for chat_rows in by_chat.values():
        by_time = sorted(chat_rows, key=lambda row: row.handled_at)
        assert [row.update_id for row in by_time] == sorted(row.update_id for row in chat_rows)


async def test_a_worker_killed_mid_confirmation_its_customers_finish_on_the_other(
    deps: AppDeps, fake: FakeTelegram, workers: Workers
) -> None:
    await shop(deps, 2)
    target: dict[str, int] = {"worker": 0}
    proxy = await workers.start(lambda update_id, update: [target["worker"]], lease=3)
    ann, bob = await linked(fake, 0), await linked(fake, 1)
    await to_summary(ann, number(0, 1))
    await to_summary(bob, number(1, 1))

    # Ann's Confirm waits behind her /help, whose reply the fake holds: received, not
    # started. Bob's Confirm is committed; the fake holds the edit that follows.
    ann_held = fake.hold_next("sendMessage", chat_id=ann.chat_id)
    bob_held = fake.hold_next("editMessageReplyMarkup", chat_id=bob.chat_id)
    await ann.send("/help")
    ann_press = await ann.press(button("confirm"))
    bob_press = await bob.press(button("confirm"))
    await ann_held.arrived.wait()
    await bob_held.arrived.wait()
    await fake.wait_for(lambda: not fake.pending_updates, timeout=TIMEOUT)
    await workers.processes[0].kill()
    target["worker"] = 1
    ann_held.release()
    bob_held.release()

    await ann.expect("What I can do", timeout=TIMEOUT)
    await ann.expect(f"{number(0, 1)} is cancelled", timeout=TIMEOUT)
    await bob.expect(f"{number(1, 1)} is cancelled", timeout=TIMEOUT)
    await ann.answer_to(ann_press, timeout=TIMEOUT)  # the spinners stopped
    await bob.answer_to(bob_press, timeout=TIMEOUT)
    survivor = workers.processes[1]
    assert await survivor.stop() == 0, survivor.log()
    assert "replaying update" in survivor.log()

    requests = await rows(deps, CancellationRequest)
    refunds = await rows(deps, Refund)
    assert len(requests) == len(refunds) == 2
    assert len({r.order_id for r in requests}) == 2
    for person in (ann, bob):
        texts = [m.text for m in fake.sent_messages(chat_id=person.chat_id)]
        assert sum(" is cancelled" in text for text in texts) == 1, texts
    assert all(row.handled_at is not None for row in await rows(deps, InboxUpdate))
    assert proxy.posts  # everything went through the proxy


async def test_run_with_workers_serves_from_every_worker_and_replaces_a_dead_one(
    deps: AppDeps, fake: FakeTelegram, tmp_path: Path
) -> None:
    """`cancelbot run --workers 2`: one port, two processes; a worker that dies is
    started again; SIGTERM stops them all."""
    settings = deps.settings
    port = free_port()
    env = bot_env(
        TELEGRAM_API_BASE=fake.base_url,
        DATABASE_URL=settings.database_url,
        DATABASE_SCHEMA=settings.database_schema or "",
        REDIS_URL=settings.redis_url or "",
        WEBHOOK_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_SECRET=SECRET,
        API_HOST="127.0.0.1",
        API_PORT=str(port),
    )
    supervisor = await BotProcess(("run", "--workers", "2"), env, tmp_path / "run.log").start()
    try:
        await supervisor.healthy(port)  # one worker answers; the other may still be starting
        await _eventually(lambda: supervisor.log().count("HTTP API listening") >= 2)
        await fake.wait_for(lambda: fake.calls_to("setWebhook"), timeout=TIMEOUT)
        people = [fake.user(7_100_000 + n, f"P{n}") for n in range(20)]
        for person in people:
            await person.send("/help")
        for person in people:
            await person.expect("What I can do", timeout=TIMEOUT)
        log = supervisor.log()
        workers = {json.loads(line)["message"].split("(worker ")[1].rstrip(")")
                   for line in log.splitlines() if "HTTP API listening" in line}  # fmt: skip
        assert len(workers) == 2, log
        assert len(fake.calls_to("setWebhook")) == 1  # worker 0 registers it
        started = log.count("HTTP API listening")
        child = max(int(p) for p in _children(supervisor))
        os.kill(child, 9)
        await _eventually(lambda: supervisor.log().count("HTTP API listening") > started)
        await people[0].send("/help")
        await people[0].expect("What I can do", timeout=TIMEOUT)
    finally:
        assert await supervisor.stop() == 0, supervisor.log()
    assert "exited with code -9; starting it again" in supervisor.log()


def _children(process: BotProcess) -> list[str]:
    assert process.process is not None
    path = Path(f"/proc/{process.process.pid}/task/{process.process.pid}/children")
    return path.read_text().split()


async def _eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:  # noqa: ASYNC109
    """Poll: the condition reads another process's log file, which signals no event."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.2)
