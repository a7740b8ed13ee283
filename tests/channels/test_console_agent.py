"""`cancelbot shell --agent` next to `cancelbot shell` on one database: the customer asks
for a person, the agent sees the case, answers, approves and closes; the customer reads it.

The two shells are two processes in real use; here they take turns in one, each with its
own dispatcher, console session and notifier, sharing only the database."""

from __future__ import annotations

import io

import pytest

from bot.channels.console_agent import CONSOLE_GROUP, run_agent_shell
from bot.wiring import AppDeps
from storage.enums import TicketStatus
from tests.channels.test_console import PLAYED, after, play
from tests.e2e.agents.conftest import tickets

TOPIC = 1001  # the console session's first topic


async def agent(deps: AppDeps, script: str) -> str:
    out = io.StringIO()
    assert await run_agent_shell(deps, name="Alex", stdin=io.StringIO(script), stdout=out) == 0
    return out.getvalue()


@pytest.mark.slow  # two shells that wait for each other in real time
async def test_a_customer_shell_and_an_agent_shell_talk_to_each_other(deps: AppDeps) -> None:
    first = await agent(deps, ":cases\n")  # the desk opens: customers may be promised a reply
    assert "no open cases" in first

    # The agent shell closed again, so a desk must be open while the customer asks.
    async with deps.uow() as uow:
        await deps.services(uow).desk.record(
            CONSOLE_GROUP, title="Agents", locale="en", problem=None
        )
    _, asked = await play(deps, "3\n1\nMy parcel never came\n", customer_id=PLAYED)
    assert "A person from our team will reply to you here" in after(asked, "1")

    seen = await agent(deps, f":cases\n:open {TOPIC}\nHello, I am looking into it.\n/close\n")
    assert "(topic 1001 created: 🆕" in seen
    assert "Case #" in seen
    assert "My parcel never came" in seen
    assert f"[{TOPIC}]" in after(seen, ":cases")
    assert "closed the case" in after(seen, "/close")

    _, answer = await play(deps, ":wait\n", customer_id=PLAYED)
    assert "Hello, I am looking into it." in answer
    assert "you are back with the bot" in answer
    assert "How did we do" in answer
    async with deps.uow() as uow:
        customer = await uow.customers.by_external_id(PLAYED)
        assert customer is not None
        assert customer.telegram_user_id is not None
    [ticket] = await tickets(deps, customer.telegram_user_id)
    assert ticket.status is TicketStatus.CLOSED
