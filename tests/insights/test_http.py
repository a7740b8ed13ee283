"""The dashboard, /metrics and /readyz over HTTP, on the demo shop and its demo history."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.api.app import build_web_app
from bot.config import Settings
from bot.demo_data import DEMO_AGENTS, seed_demo, seed_demo_history
from bot.services.domain.clock import FixedClock
from bot.services.insights import Period
from bot.wiring import AppDeps, build_deps
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import TranscriptEntry
from tests.conftest import SqliteTemplates, sqlite_file

TOKEN = "dashboard-token-0123456789"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def with_settings(settings: Settings, **changes: object) -> Settings:
    """The test's settings with a few more, validated like the environment's."""
    values = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings.model_dump().items()
    }
    return Settings(_env_file=None, **values | changes)  # type: ignore[call-arg]


async def client_for(deps: AppDeps) -> TestClient:  # type: ignore[type-arg]
    client = TestClient(TestServer(build_web_app(deps)))
    await client.start_server()
    return client


async def demo_with_history(
    settings: Settings, clock: FixedClock, templates: SqliteTemplates
) -> AppDeps:
    """Deps on the demo shop and its history, with the dashboard's token. On SQLite the
    database is a copy of one seeded once per test process (seeding the history costs
    1-4 s); on PostgreSQL it is seeded here."""
    file = sqlite_file(settings.database_url)
    if file is not None:
        templates.copy_to(file, seeded_at=clock.now(), history=True)
    deps = build_deps(with_settings(settings, dashboard_token=TOKEN), clock=clock)
    if file is None:
        await upgrade(deps.engine)
        await seed_demo(deps.session_factory, clock)
        assert await seed_demo_history(deps.session_factory, clock) > 20
    return deps


@pytest.fixture
async def demo(
    settings: Settings, clock: FixedClock, sqlite_templates: SqliteTemplates
) -> AsyncIterator[AppDeps]:
    deps = await demo_with_history(settings, clock, sqlite_templates)
    yield deps
    await deps.close()


@pytest.fixture
async def http(demo: AppDeps) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    client = await client_for(demo)
    yield client
    await client.close()


async def test_the_dashboard_is_refused_without_the_token(http: TestClient) -> None:  # type: ignore[type-arg]
    for path in ("/dashboard", "/dashboard/cases/1", "/dashboard?token=wrong-token-000000"):
        reply = await http.get(path, allow_redirects=False)
        assert reply.status == 401, path
        assert "Not signed in" in await reply.text()
        assert "figures" not in reply.headers.get("Set-Cookie", "")


async def test_the_token_opens_a_session_and_leaves_the_address(http: TestClient) -> None:  # type: ignore[type-arg]
    reply = await http.get(f"/dashboard?token={TOKEN}&reason=defective", allow_redirects=False)
    assert reply.status == 303
    assert reply.headers["Location"] == "/dashboard?reason=defective"
    assert "HttpOnly" in reply.headers["Set-Cookie"]
    page = await http.get("/dashboard?reason=defective")
    text = await page.text()
    assert page.status == 200, text
    assert "reason: defective or damaged" in text
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


async def test_the_overview_shows_the_reports_figures_and_charts(
    http: TestClient,
    demo: AppDeps,  # type: ignore[type-arg]
) -> None:
    page = await http.get("/dashboard", headers={"Authorization": f"Bearer {TOKEN}"})
    text = await page.text()
    assert page.status == 200
    async with demo.uow() as uow:
        report = await demo.insights(uow).report(Period.last(30, demo.clock.now()))
    assert f"<b>{report.flow.intents}</b><span>cancellation intents</span>" in text
    assert f"<b>{report.flow.save_rate}</b>" in text
    assert text.count("<svg") == 5
    assert "<script" not in text
    first = report.recent_cases[0]
    assert f'href="/dashboard/cases/{first.id}"' in text


async def test_the_overview_shows_the_agents_work_on_the_demo_history(
    http: TestClient,  # type: ignore[type-arg]
    demo: AppDeps,
) -> None:
    """seed-demo's agents' cases: answers, an approval and a denial, surveys per agent."""
    page = await http.get("/dashboard", headers={"Authorization": f"Bearer {TOKEN}"})
    text = await page.text()
    async with demo.uow() as uow:
        agents = (await demo.insights(uow).report(Period.last(30, demo.clock.now()))).agents
    assert (agents.cases >= 5, agents.answered >= 5) == (True, True)
    assert (agents.approvals >= 1, agents.denials >= 1) == (True, True)
    assert {row.name for row in agents.per_agent} == {name for _, name in DEMO_AGENTS}
    assert sum(row.answers for row in agents.per_agent) >= 3
    section = text[text.index('<section id="agents">') :]
    assert f"<tr><th>Cases handed to agents</th><td>{agents.cases}</td></tr>" in section
    answered = f"{agents.answered} <small>{agents.answer_rate}</small>"
    assert f"<tr><th>Answered by an agent</th><td>{answered}</td></tr>" in section
    decided = (
        f"{agents.approvals} / {agents.denials} <small>{agents.approval_rate} approved</small>"
    )
    assert decided in section
    for row in agents.per_agent:
        assert f"<tr><td>{row.name}</td><td>{row.cases}</td>" in section
    assert "<summary>By agent</summary>" in text
    assert "no agent" in text  # customers' cases no agent handled, in the split by agent


async def test_a_case_timeline_masks_personal_data(http: TestClient, demo: AppDeps) -> None:  # type: ignore[type-arg]
    async with demo.uow() as uow:
        case = (await uow.insights.cases_started(EPOCH, demo.clock.now()))[0]
        uow.session.add(
            TranscriptEntry(
                conversation_id=case.conversation_id,
                direction="in",
                kind="text",
                text="call me at +86 138 0000 1234 or mail ann.lee@example.com",
                created_at=case.created_at,
            )
        )
        await uow.commit()
    page = await http.get(
        f"/dashboard/cases/{case.id}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    text = await page.text()
    assert page.status == 200
    assert "+***1234" in text
    assert "a***@example.com" in text
    assert "0000 1234" not in text
    assert "ann.lee" not in text
    assert re.search(r"Conversation started", text)
    missing = await http.get(
        "/dashboard/cases/999999", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert missing.status == 404


async def test_basic_auth_and_the_off_page(settings: Settings, clock: FixedClock) -> None:
    off = build_deps(settings, clock=clock)
    basic = build_deps(
        with_settings(settings, dashboard_user="shop", dashboard_password="correct horse battery"),
        clock=clock,
    )
    try:
        await upgrade(off.engine)
        client = await client_for(off)
        reply = await client.get("/dashboard")
        assert reply.status == 404
        assert "The dashboard is off" in await reply.text()
        await client.close()
        client = await client_for(basic)
        refused = await client.get("/dashboard")
        assert refused.status == 401
        assert refused.headers["WWW-Authenticate"].startswith("Basic")
        good = base64.b64encode(b"shop:correct horse battery").decode()
        assert (
            await client.get("/dashboard", headers={"Authorization": f"Basic {good}"})
        ).status == 200
        bad = base64.b64encode(b"shop:wrong horse battery").decode()
        assert (
            await client.get("/dashboard", headers={"Authorization": f"Basic {bad}"})
        ).status == 401
        await client.close()
    finally:
        await off.close()
        await basic.close()


async def test_metrics_read_the_database(http: TestClient, demo: AppDeps) -> None:  # type: ignore[type-arg]
    text = await (await http.get("/metrics")).text()
    async with demo.uow() as uow:
        counts = await uow.insights.live_counts(holder_origin="merchant_cancellation")
    started = sum(counts.cases_by_status.values())
    assert started > 20
    assert f"cancelbot_flows_started_total {float(started)}" in text
    assert f"cancelbot_flows_kept_total {float(counts.cases_by_status['saved'])}" in text
    assert 'cancelbot_refunds{status="refunded"}' in text
    assert "cancelbot_outbox_pending 0.0" in text
    assert "cancelbot_database_up 1.0" in text


async def test_metrics_can_require_a_token(settings: Settings, clock: FixedClock) -> None:
    deps = build_deps(
        with_settings(settings, metrics_token="metrics-token-0123456"),
        clock=clock,
    )
    try:
        await upgrade(deps.engine)
        client = await client_for(deps)
        assert (await client.get("/metrics")).status == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer metrics-token-0123456"})
        assert ok.status == 200
        await client.close()
    finally:
        await deps.close()


async def test_readyz_fails_when_the_database_is_gone(
    http: TestClient,
    demo: AppDeps,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    ready = await http.get("/readyz")
    assert ready.status == 200
    body = await ready.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["notifier"] == "not running here"

    # The database goes away: the engine now points at a file that cannot exist.
    await demo.engine.dispose()
    demo.engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/gone.db")
    demo.session_factory = create_session_factory(demo.engine)
    gone = await http.get("/readyz")
    assert gone.status == 503
    assert (await gone.json())["checks"]["database"] == "down"
    text = await (await http.get("/metrics")).text()
    assert "cancelbot_database_up 0.0" in text
    await demo.engine.dispose()
