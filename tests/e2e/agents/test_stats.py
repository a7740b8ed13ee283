"""/stats in the agents' group: an agent reads the report's figures, their own work
included, in the agents' language (en and zh); a wrong word gets how to type it; someone
who is not an agent gets nothing, as with every other command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.telegram import BotServer
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.services.insights import Period, Report
from bot.texts import Renderer
from bot.wiring import AppDeps
from storage.models import OutboxMessage
from tests.e2e.agents.conftest import (
    WORKING_HOURS,
    Desk,
    agent_settings,
    start_agent_bot,
)
from tests.e2e.agents.helpers import customer_with_agents
from tests.e2e.cancellation.chat import plain
from tests.e2e.cancellation.conftest import Scenario
from tests.e2e.conftest import stop_bot
from tests.support.fake_telegram import FakeGroup, FakeTelegram

RENDERER = Renderer()


@pytest.fixture(params=["en", "zh"])
def agents_locale(request: pytest.FixtureRequest) -> str:
    """The agents read the bot in DEFAULT_LOCALE."""
    return str(request.param)


@pytest.fixture
async def bot(
    deps: AppDeps,
    settings: Settings,
    fake: FakeTelegram,
    clock: FixedClock,
    group: FakeGroup,
    agents_locale: str,
) -> AsyncIterator[BotServer]:
    """The agents' group's bot (see conftest's `bot`), the agents reading `agents_locale`."""
    clock.set(WORKING_HOURS)
    configured = agent_settings(settings, fake, default_locale=agents_locale)
    server = await start_agent_bot(configured, fake, clock)
    yield server
    await stop_bot(server)


def macro(locale: str, name: str, *args: object) -> str:
    return RENDERER.macro(locale, "labels", name, *args)


async def report_now(deps: AppDeps, days: int) -> Report:
    """What `cancelbot report` says at this moment for the last `days` days."""
    async with deps.uow() as uow:
        return await deps.insights(uow).report(Period.last(days, deps.clock.now()))


async def stats_rows(deps: AppDeps) -> list[OutboxMessage]:
    async with deps.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template.in_(("agent/stats", "agent/stats_usage")))
            .order_by(OutboxMessage.id)
        )
        return list(rows.all())


async def test_an_agent_reads_the_reports_figures_with_the_agents_part(
    scenario: Scenario, desk: Desk, clock: FixedClock, agents_locale: str
) -> None:
    """Ann asks for a person, Alex answers five minutes later, then asks for /stats."""
    chat, topic = await customer_with_agents(scenario, desk)
    clock.set(WORKING_HOURS + timedelta(minutes=5))
    await desk.alex.topic(topic).send("Hello Ann, how can I help?")
    await chat.person.expect("Hello Ann")

    clock.set(WORKING_HOURS + timedelta(minutes=6))  # a period ends before "now"
    general = desk.alex.in_group()
    await general.send("/stats")
    answer = await general.expect("📊")

    report = await report_now(scenario.deps, 30)
    agents = report.agents
    assert (agents.cases, agents.answered, agents.untouched) == (1, 1, 0)
    [alex] = agents.per_agent
    assert (alex.name, alex.cases, alex.time_to_first_reply.p50) == ("Alex", 1, 300)
    reason = macro(agents_locale, "ticket_reason", "customer_asked")
    five = macro(agents_locale, "duration", 300)
    expected = {
        "en": [
            "The last 30 days",
            f"Cancellation conversations: {report.flow.intents} · requests: {report.flow.requests}",
            f"Cases handed to agents: 1 ({reason}: 1)",
            "Answered by an agent: 1 (100.0%) · nobody touched: 0",
            f"First reply: median {five} · 90% within {five}",
            "Refunds approved / denied: 0 / 0 (— approved)",
            f"• Alex — cases: 1 · first reply: {five} · approved: 0 · denied: 0 · 4–5★: — of 0",
        ],
        "zh": [
            "最近 30 天",
            f"取消对话：{report.flow.intents} · 提交申请：{report.flow.requests}",
            f"转给客服的案件：1（{reason}：1）",
            "客服已回复：1（100.0%）· 无人处理：0",
            f"首次回复：中位 {five} · 90% 在 {five} 内",
            "退款批准 / 拒绝：0 / 0（批准率 —）",
            f"• Alex — 案件：1 · 首次回复：{five} · 批准：0 · 拒绝：0 · 4–5★：—（共 0 条）",
        ],
    }[agents_locale]
    for line in expected:
        assert line in answer.text, (line, answer.text)
    assert answer.message_thread_id is None  # asked in General, answered there
    assert "/stats" not in [message.text for message in chat.person.inbox]


async def test_stats_typed_in_a_topic_is_answered_there_and_not_relayed(
    scenario: Scenario, desk: Desk, agents_locale: str
) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    in_topic = desk.alex.topic(topic)

    await in_topic.send("/stats 7d")
    answer = await in_topic.expect("📊")

    title = {"en": "The last 7 days", "zh": "最近 7 天"}[agents_locale]
    assert title in answer.text
    assert answer.message_thread_id == topic.message_thread_id
    await in_topic.send("Still here?")
    await chat.person.expect("Still here?")  # the next message is relayed...
    assert not any("/stats" in message.text for message in chat.person.inbox)  # ...not /stats


async def test_a_word_stats_does_not_take_gets_how_to_type_it(
    scenario: Scenario, desk: Desk, agents_locale: str
) -> None:
    general = desk.alex.in_group()

    await general.send("/stats 90d")

    usage = RENDERER.render(agents_locale, "agent/stats_usage", periods=[7, 30], default=30)
    answer = await general.expect(plain(usage)[:12])
    assert answer.text == plain(usage)
    assert [row.template for row in await stats_rows(scenario.deps)] == ["agent/stats_usage"]


async def test_someone_who_is_not_an_agent_gets_nothing(scenario: Scenario, desk: Desk) -> None:
    """Updates of one chat are handled in order: Olga's /stats is done with before Alex's."""
    await desk.olga.in_group().send("/stats")
    general = desk.alex.in_group()
    await general.send("/stats 7d")
    await general.expect("📊")

    [row] = await stats_rows(scenario.deps)
    assert row.context["days"] == 7  # Alex's; Olga's command queued nothing
    sent = [m for m in desk.fake.sent_messages(desk.group.id) if m.text.startswith("📊")]
    assert len(sent) == 1
