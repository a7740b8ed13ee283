"""`cancelbot policy check`: what the policy decides for an order, changing nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.cancellation.case_facts import evaluate_request
from bot.services.domain.order_numbers import order_by_typed_number
from bot.services.policy import Decision, OfferSpec, Policy, RequestFacts
from storage.enums import ItemCondition, ReasonCode
from storage.uow import UnitOfWork


class UnknownOrder(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    order_number: str
    decision: Decision
    offers: tuple[OfferSpec, ...]

    def to_json(self) -> dict[str, object]:
        return {"order": self.order_number, **self.decision.to_json(self.offers)}


async def check_order(
    uow: UnitOfWork,
    policy: Policy,
    number: str,
    reason: ReasonCode,
    *,
    condition: ItemCondition | None = None,
    at: datetime,
    has_photo: bool = True,
) -> PolicyCheck:
    """Decide as the bot would at `at` (the whole order, a photo given unless told not)."""
    async with uow.transaction():
        order = await order_by_typed_number(uow, number)
        if order is None:
            raise UnknownOrder(number)
        customer = await uow.customers.get(order.customer_id)
        assert customer is not None
        request = RequestFacts(reason=reason, condition=condition, has_photo=has_photo)
        evaluation = await evaluate_request(uow, order, customer, request, at, policy)
    return PolicyCheck(order.number, evaluation.decision, evaluation.offers)
