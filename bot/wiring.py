"""The composition root: the only module that names concrete classes.

`cancelbot run`, `cancelbot shell` and the tests all build the bot through these
functions, so they exercise the same routers, middlewares and storage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.agent_desk import AgentDeskLoop
from bot.channels.agent_group import AgentDirectory
from bot.channels.errors import build_errors_router
from bot.channels.flood import FloodGuard, FloodLimit, MemoryFloodGuard
from bot.channels.handoff_delivery import HandoffDeliveries
from bot.channels.inbox import UpdateInbox
from bot.channels.isolation import LocalChatLocks
from bot.channels.late_answers import LateCallbackAnswers
from bot.channels.merchant_webhook import WebhookConfig, WebhookSender
from bot.channels.notifier import KeyboardRegistry, MessageDelivery, Notifier, NotifierConfig
from bot.channels.outages import build_outages_router
from bot.channels.private_chat import build_private_chat_router
from bot.channels.rate_limit import RateLimiter
from bot.channels.redis_optional import redis_of
from bot.channels.response_models import KeepResponseModels
from bot.channels.watchdog import WatchdogLoop
from bot.config import Settings
from bot.middlewares import (
    HandlerTraceMiddleware,
    OutgoingTranscript,
    UnitOfWorkMiddleware,
    UpdateCommitMiddleware,
    UpdateLogMiddleware,
)
from bot.middlewares.in_flight import InFlightUpdates
from bot.services.cancellation.reasons import (
    CancelPhrases,
    ReasonClassifier,
    default_cancel_phrases,
    default_reason_classifier,
    default_smalltalk,
)
from bot.services.container import ServiceConfig, Services
from bot.services.conversation.intents import Intents, MessageReader
from bot.services.domain.clock import Clock, SystemClock
from bot.services.linking.accounts import GuestPolicy
from bot.services.linking.deep_links import LinkTokens
from bot.services.outbox import OutboxSignal
from bot.services.policy import load_policy
from bot.services.refunds.watchdog import OverdueWatchdog
from bot.telemetry import Telemetry
from bot.telemetry.middlewares import TelegramApiMetrics, UpdateMetrics
from bot.texts import Renderer
from dialogs import agents
from dialogs.agents.keyboards import card_keyboard
from dialogs.outbox_keyboards import KEYBOARDS
from dialogs.press_routing import route_presses_by_prefix
from storage.db import create_engine, create_session_factory
from storage.fsm import SqlAlchemyStorage
from storage.group_commit import GroupCommit
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.insights.service import InsightsService

log = logging.getLogger(__name__)


@dataclass
class AppDeps:
    """Process-wide objects, built once and closed once."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    clock: Clock
    renderer: Renderer
    intents: Intents
    reasons: ReasonClassifier
    cancel_phrases: CancelPhrases
    reader: MessageReader
    service_config: ServiceConfig
    fsm_storage: BaseStorage
    events_isolation: BaseEventIsolation
    in_flight: InFlightUpdates
    outbox_signal: OutboxSignal
    group_commit: GroupCommit
    telemetry: Telemetry = field(default_factory=Telemetry)

    @property
    def timezone(self) -> str:
        """The shop's zone for times shown to people: TIMEZONE, else the policy file's own."""
        return shop_timezone(self.settings, self.service_config)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def services(self, uow: UnitOfWork) -> Services:
        """Services outside an update (API requests, CLI commands) use this too."""
        return Services(uow, self.clock, self.service_config)

    def insights(self, uow: UnitOfWork) -> InsightsService:
        """The merchant's figures (`cancelbot report`, the dashboard), read on `uow`.

        Imported here, on first use: a bot process that no one asks for figures never
        loads their code."""
        from bot.services.insights.service import InsightsConfig, InsightsService

        settings = self.settings
        config = InsightsConfig(
            default_locale=settings.default_locale,
            timezone=self.timezone,
            kept_window=timedelta(days=settings.insights_kept_window_days),
        )
        return InsightsService(uow, self.clock, self.service_config.policy, config)

    async def close(self) -> None:
        await self.group_commit.close()  # what finished updates deferred, written first
        await self.fsm_storage.close()
        await self.events_isolation.close()
        await self.engine.dispose()


def build_deps(settings: Settings, *, clock: Clock | None = None) -> AppDeps:
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    session_factory = create_session_factory(
        engine, webhook_events=settings.merchant_webhook_url is not None
    )
    fsm_storage, isolation = _fsm(settings, session_factory)
    # The packaged phrase tables are read once per process (a test run builds hundreds
    # of deps; reading and indexing them took ~0.1 s each time on a slow machine).
    intents, reasons, cancel_phrases = (
        Intents.load(),
        default_reason_classifier(),
        default_cancel_phrases(),
    )
    group_commit = GroupCommit(session_factory)
    service_config = _service_config(settings, group_commit)
    timezone = shop_timezone(settings, service_config)
    return AppDeps(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        clock=clock or SystemClock(),
        renderer=Renderer(timezone=timezone, default_locale=settings.default_locale),
        intents=intents,
        reasons=reasons,
        cancel_phrases=cancel_phrases,
        reader=MessageReader(intents, cancel_phrases, reasons, default_smalltalk()),
        service_config=service_config,
        fsm_storage=fsm_storage,
        events_isolation=isolation,
        in_flight=InFlightUpdates(),
        outbox_signal=OutboxSignal(),
        group_commit=group_commit,
    )


def shop_timezone(settings: Settings, service_config: ServiceConfig) -> str:
    """Times shown to people are in the shop's zone: TIMEZONE, else the policy file's own."""
    return settings.timezone or service_config.policy.general.timezone


def _fsm(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis when configured (shared by several processes), else the application database.

    Event isolation makes two updates from one chat (a double-tapped button) wait
    for each other, while different chats run in parallel: across processes with
    Redis, within this one otherwise (bot/channels/isolation.py).
    """
    if settings.redis_url:
        from bot.channels.redis_shared import redis_fsm  # only with Redis: see that module

        return redis_fsm(settings.redis_url)
    return SqlAlchemyStorage(session_factory), LocalChatLocks()


def _service_config(settings: Settings, group_commit: GroupCommit) -> ServiceConfig:
    """Reads the policy file: an invalid one stops the bot here, naming the key."""
    secret = settings.link_secret
    return ServiceConfig(
        deferred=group_commit,
        policy=load_policy(settings.policy_file),
        default_locale=settings.default_locale,
        link_tokens=LinkTokens(secret.get_secret_value().encode()) if secret else None,
        guest_policy=GuestPolicy(
            max_failures=settings.guest_max_failures,
            lockout=settings.guest_lockout,
            access_for=settings.guest_access,
        ),
    )


def build_dispatcher(deps: AppDeps, inbox: UpdateInbox | None = None) -> Dispatcher:
    """The dispatcher; with `inbox` (serving Telegram) each handled update is marked in it."""
    dp = Dispatcher(
        # The FSM middleware is added below, after the unit of work it reads through.
        disable_fsm=True,
        storage=deps.fsm_storage,
        events_isolation=deps.events_isolation,
        renderer=deps.renderer,
        intents=deps.intents,
        reasons=deps.reasons,
        cancel_phrases=deps.cancel_phrases,
        reader=deps.reader,
        outbox_signal=deps.outbox_signal,
        clock=deps.clock,
        settings=deps.settings,
        insights=deps.insights,
    )
    dp.update.outer_middleware(deps.in_flight)
    dp.update.outer_middleware(UpdateLogMiddleware())
    dp.update.outer_middleware(UpdateMetrics(deps.telemetry))
    # One transaction per update (storage.uow.UpdateUnitOfWork): the unit of work opens
    # first, the FSM reads through it under the chat's lock, and it commits (with the
    # inbox's mark, when serving Telegram) before that lock is let go; what is left when
    # nothing else is (the transcript, the mark) goes to the group commit.
    dp.update.outer_middleware(
        UnitOfWorkMiddleware(deps.session_factory, deps.clock, deps.service_config)
    )
    dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(UpdateCommitMiddleware(inbox, deps.group_commit))
    trace = HandlerTraceMiddleware()
    for name, observer in dp.observers.items():
        if name not in ("update", "error"):
            observer.middleware(trace)
    dp.include_routers(
        build_outages_router(), build_errors_router(), build_private_chat_router(deps.renderer)
    )
    settings = deps.settings
    if settings.agent_chat_id is not None:
        # The agents' forum supergroup (issue 9); membership is asked of Telegram.
        directory = AgentDirectory(
            settings.agent_chat_id,
            allowed=settings.agent_ids,
            ttl=settings.agent_check_seconds,
        )
        dp.include_router(agents.build_router(directory, deps.renderer, settings.default_locale))
    route_presses_by_prefix(dp)  # last: it reads every router's handlers
    return dp


def build_bot(
    settings: Settings, session: BaseSession | None = None, *, token: str | None = None
) -> Bot:
    """A Bot on the configured API server; HTML parse mode, no link previews.

    `token` overrides BOT_TOKEN for sessions that never reach Telegram (the console).
    """
    token = token or (settings.bot_token.get_secret_value() if settings.bot_token else None)
    if token is None:
        raise ValueError("BOT_TOKEN is not set")
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    session.middleware(KeepResponseModels())
    session.middleware(OutgoingTranscript())
    session.middleware(LateCallbackAnswers())
    return Bot(
        token=token,
        session=session,
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML,
            link_preview_is_disabled=True,
        ),
    )


def instrument_bot(deps: AppDeps, bot: Bot) -> None:
    """Count the bot's Bot API errors and polling's heartbeat in `deps.telemetry`."""
    bot.session.middleware(TelegramApiMetrics(deps.telemetry))


def build_notifier(
    deps: AppDeps,
    bot: Bot,
    keyboards: KeyboardRegistry | None = None,
    *,
    limiter: RateLimiter | None = None,
) -> Notifier:
    """The outbox notifier, with the inline keyboards outbox messages may carry and the
    deliveries of the agents' group (topics, the case card, copies)."""
    keyboards = KEYBOARDS if keyboards is None else keyboards
    handoff = HandoffDeliveries(
        deps.uow,
        deps.renderer,
        deps.clock,
        deps.service_config.policy,
        MessageDelivery(deps.renderer, keyboards),
        card_keyboard,
    )
    return Notifier(
        bot,
        deps.uow,
        deps.renderer,
        deps.clock,
        keyboards=keyboards,
        config=NotifierConfig.from_settings(deps.settings),
        signal=deps.outbox_signal,
        limiter=limiter,
        deliveries=handoff.kinds(),
        on_batch=deps.telemetry.notifier_batch,
    )


def build_agent_desk(deps: AppDeps, bot: Bot) -> AgentDeskLoop:
    """Checks the agents' group at start, then re-announces untaken cases (issue 9)."""
    settings = deps.settings
    return AgentDeskLoop(
        bot,
        deps.uow,
        deps.clock,
        deps.service_config,
        group_id=settings.agent_chat_id,
        locale=settings.default_locale,
        interval=settings.agent_sweep_seconds,
        signal=deps.outbox_signal,
    )


def build_watchdog(deps: AppDeps) -> WatchdogLoop:
    """The overdue watchdog's loop; it rings the notifier's signal when it queued messages."""
    settings = deps.settings
    watchdog = OverdueWatchdog(
        deps.uow,
        deps.service_config.policy,
        default_locale=settings.default_locale,
        agent_chat_id=settings.agent_chat_id,
    )
    return WatchdogLoop(
        watchdog,
        deps.clock,
        interval=settings.watchdog_interval_seconds,
        signal=deps.outbox_signal,
    )


def build_webhook_sender(deps: AppDeps) -> WebhookSender | None:
    """The merchant's webhook sender, or None when MERCHANT_WEBHOOK_URL is unset."""
    config = WebhookConfig.from_settings(deps.settings)
    return None if config is None else WebhookSender(deps.uow, deps.clock, config)


def build_inbox(deps: AppDeps) -> UpdateInbox:
    """The update inbox as this process uses it; the server names it (`UpdateInbox.owner`,
    see `bot.channels.inbox.worker_name`) once its HTTP port is bound."""
    settings = deps.settings
    return UpdateInbox(
        deps.uow,
        settings.worker_name or "",
        lease=timedelta(seconds=settings.inbox_lease_seconds),
        retention=timedelta(hours=settings.inbox_retention_hours),
    )


def build_flood_guard(deps: AppDeps, bot_id: int) -> FloodGuard:
    """Shared through Redis when the FSM is there (several workers), else in this process."""
    settings = deps.settings
    limit = FloodLimit(settings.flood_burst, settings.flood_rate_per_second)
    redis = redis_of(deps.fsm_storage)
    if redis is not None:
        from bot.channels.redis_shared import RedisFloodGuard

        return RedisFloodGuard(redis, limit, prefix=f"flood:{bot_id}")
    return MemoryFloodGuard(limit)
