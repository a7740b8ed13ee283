"""The services for one unit of work: one update, one API request or one CLI command."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bot.services.cancellation.alternatives import AlternativesService
from bot.services.cancellation.candidates import CaseCandidates
from bot.services.cancellation.cases import CaseService
from bot.services.cancellation.matching import MatchingVocabulary, default_vocabulary
from bot.services.cancellation.service import CancellationService
from bot.services.cancellation.steps import CaseSteps
from bot.services.conversation.status import StatusService
from bot.services.conversation.surveys import SurveyService
from bot.services.conversation.tickets import TicketService
from bot.services.conversation.transcript import PendingWrites, TranscriptService
from bot.services.domain.clock import Clock
from bot.services.erasure import ErasureService
from bot.services.handoff.agents import AgentCases
from bot.services.handoff.customers import HandoffService
from bot.services.handoff.desk import DeskService
from bot.services.linking.accounts import GuestPolicy, LinkingService
from bot.services.linking.deep_links import LinkTokens
from bot.services.linking.identity import IdentityService
from bot.services.merchant.cancellation import MerchantCancellations
from bot.services.merchant.feeds import MerchantFeeds
from bot.services.merchant.offers import MerchantOffers
from bot.services.merchant.views import MerchantViews
from bot.services.merchant.webhook_operations import WebhookOperations
from bot.services.policy import Policy, load_policy
from bot.services.refunds.updates import RefundUpdates
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """What the services need besides a unit of work, loaded once at start."""

    default_locale: str = "en"
    link_tokens: LinkTokens | None = None
    guest_policy: GuestPolicy = field(default_factory=GuestPolicy)
    policy: Policy = field(default_factory=load_policy)
    vocabulary: MatchingVocabulary = field(default_factory=default_vocabulary)
    candidates: CaseCandidates = field(default_factory=CaseCandidates)
    """Order matching's view of each case's orders, kept across the case's updates."""
    deferred: PendingWrites | None = None
    """Writes waiting for the group commit (storage.group_commit), for readers in this
    process that must see them (the transcript)."""


class Services:
    """Builds each service on first use, all sharing one UnitOfWork."""

    def __init__(self, uow: UnitOfWork, clock: Clock, config: ServiceConfig) -> None:
        self.uow = uow
        self.clock = clock
        self.config = config

    @cached_property
    def identity(self) -> IdentityService:
        return IdentityService(self.uow, self.clock, self.config.default_locale)

    @cached_property
    def linking(self) -> LinkingService:
        return LinkingService(
            self.uow,
            self.clock,
            self.config.link_tokens,
            self.config.guest_policy,
            self.config.default_locale,
        )

    @cached_property
    def status(self) -> StatusService:
        return StatusService(self.uow, self.clock, self.config.policy)

    @cached_property
    def transcript(self) -> TranscriptService:
        return TranscriptService(self.uow, self.clock, self.config.deferred)

    @cached_property
    def cases(self) -> CaseService:
        return CaseService(self.uow, self.clock, self.config.vocabulary, self.config.candidates)

    @cached_property
    def steps(self) -> CaseSteps:
        """The cancellation's steps: one call per thing the customer does."""
        return CaseSteps(self.uow, self.clock, self.config.policy, self.alternatives)

    @cached_property
    def alternatives(self) -> AlternativesService:
        return AlternativesService(self.uow, self.clock, self.config.policy)

    @cached_property
    def cancellation(self) -> CancellationService:
        return CancellationService(self.uow, self.clock, self.config.policy)

    @cached_property
    def tickets(self) -> TicketService:
        return TicketService(self.uow, self.clock)

    @cached_property
    def surveys(self) -> SurveyService:
        return SurveyService(self.uow, self.clock)

    @cached_property
    def refund_updates(self) -> RefundUpdates:
        return RefundUpdates(self.uow, self.clock, self.config.policy, self.config.default_locale)

    @cached_property
    def merchant_cancellations(self) -> MerchantCancellations:
        return MerchantCancellations(
            self.uow, self.clock, self.config.policy, self.config.default_locale
        )

    @cached_property
    def merchant_offers(self) -> MerchantOffers:
        return MerchantOffers(self.uow, self.clock, self.config.policy)

    @cached_property
    def merchant_views(self) -> MerchantViews:
        return MerchantViews(self.uow)

    @cached_property
    def merchant_feeds(self) -> MerchantFeeds:
        return MerchantFeeds(self.uow, self.clock)

    @cached_property
    def webhook_operations(self) -> WebhookOperations:
        """Failed events for the merchant's webhook, and sending them again."""
        return WebhookOperations(self.uow, self.clock)

    # -- human agents (issue 9) ----------------------------------------------------------------

    @cached_property
    def handoff(self) -> HandoffService:
        return HandoffService(self.uow, self.clock, self.config.policy)

    @cached_property
    def agent_cases(self) -> AgentCases:
        return AgentCases(self.uow, self.clock, self.config.policy, self.config.default_locale)

    @cached_property
    def desk(self) -> DeskService:
        return DeskService(self.uow, self.clock)

    @cached_property
    def erasure(self) -> ErasureService:
        return ErasureService(self.uow, self.clock)
