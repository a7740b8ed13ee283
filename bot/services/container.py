"""The services for one unit of work: one update, one API request or one CLI command."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bot.services.clock import Clock
from bot.services.deep_links import LinkTokens
from bot.services.identity import IdentityService
from bot.services.linking import GuestPolicy, LinkingService
from bot.services.status import StatusService
from bot.services.transcript import TranscriptService
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The part of the settings the services need, read once at start."""

    default_locale: str = "en"
    link_tokens: LinkTokens | None = None
    guest_policy: GuestPolicy = field(default_factory=GuestPolicy)


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
            self.uow, self.clock, self.config.link_tokens, self.config.guest_policy
        )

    @cached_property
    def status(self) -> StatusService:
        return StatusService(self.uow, self.clock)

    @cached_property
    def transcript(self) -> TranscriptService:
        return TranscriptService(self.uow, self.clock)
