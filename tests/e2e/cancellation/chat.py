"""A person's chat with the bot, and the texts the templates say it should show.

Expected texts are rendered from the templates with the values a test expects (amounts,
days, offers), so a change of wording breaks nothing while a wrong amount, rule or step
fails the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from bot.channels.telegram import BotServer
from bot.services.domain.money import Money
from bot.services.imports.records import CustomerRecord, OrderRecord
from bot.services.outbox import decode_context
from bot.services.policy import NO_RULE, Policy, load_policy
from bot.services.policy.explain import Clause
from bot.services.policy.explain import because as explain_because
from bot.texts import Renderer
from bot.wiring import AppDeps
from storage.enums import ItemCategory, ItemCondition, OrderStatus, ReasonCode
from storage.models import OutboxMessage
from tests.conftest import NOW
from tests.e2e.cancellation.rows import outbox_of
from tests.support.fake_telegram import FakeUser, Press, SentMessage, parse_html

POLICY = load_policy()
# The bot shows times in the shop's zone: TIMEZONE is unset in tests, so the policy's.
RENDERER = Renderer(timezone=POLICY.general.timezone)


def plain(html: str) -> str:
    """Text as Telegram shows it (tags removed, entities decoded)."""
    return parse_html(str(html)).text


def money(amount: str | Decimal, currency: str = "CNY") -> Money:
    return Money(Decimal(amount), currency)


def shown(order: OrderRecord, locale: str) -> SimpleNamespace:
    """The order as templates see it (the fields of `OrderView` they use)."""
    names = [line.names.get(locale) or line.name for line in order.items]
    headline = names[0] + (f" +{len(names) - 1}" if len(names) > 1 else "")
    total = sum((line.unit_price * line.quantity for line in order.items), order.shipping_fee)
    return SimpleNamespace(
        id=0,
        number=order.number,
        status=order.status.value,
        placed_at=order.placed_at,
        headline=headline,
        total=money(total, order.currency),
    )


ARRIVAL = {
    "card": {"unit": "business_days", "min": 3, "max": 5},
    "e_wallet": {"unit": "hours", "min": 0, "max": 24},
    "bank_transfer": {"unit": "business_days", "min": 1, "max": 3},
    "store_credit": {"unit": "instant", "min": 0, "max": 0},
}
"""[arrival] of bot/data/policy.toml, as stored in outbox contexts."""


def option(method: str, amount: str, bonus: str = "0.00", *, by_agent: bool = False) -> Any:
    """A refund option as `choose_method`, `summary` and the buttons render it."""
    return SimpleNamespace(
        method=method,
        amount=money(amount),
        bonus=money(bonus),
        arrival=ARRIVAL[method],
        completed_by_agent=by_agent,
    )


def offer(kind: str, value: str, *, percent: int | None = None, **params: str) -> Any:
    """An offer as the decision message and its button render it."""
    return SimpleNamespace(
        type=kind,
        value=money(value),
        percent=Decimal(percent) if percent is not None else None,
        params=params,
    )


def store_credit(refund: str) -> Any:
    """The store-credit offer: the refund plus the policy's 10 % bonus."""
    total = Decimal(refund) * Decimal("1.1")
    return offer("store_credit", f"{total:.2f}", percent=10)


Line = tuple[str, str, str] | tuple[str, str, str, int]
"""A breakdown line: (code, price, refunded), with the percent refunded when it is not
simply refunded × 100 / price; what is kept is the rest."""

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def breakdown_line(line: Line) -> SimpleNamespace:
    code, price, refunded = line[0], money(line[1]), money(line[2])
    percent = line[3] if len(line) > 3 else None
    if percent is None and price.amount:
        percent = refunded.amount * 100 / price.amount
    kept = price - refunded if refunded < price else None
    return SimpleNamespace(code=code, price=price, amount=refunded, percent=percent, kept=kept)


def _whole(later: datetime | None, earlier: datetime | None, unit: timedelta) -> int | None:
    """Whole units between two moments, rounded down as the engine counts them."""
    return None if later is None or earlier is None else (later - earlier) // unit


def because(
    order: OrderRecord,
    rule: str,
    *,
    reason: str | None,
    condition: str | None,
    facts: dict[str, Any],
    policy: Policy = POLICY,
) -> tuple[Clause, ...]:
    """Why `rule` decided, from the rule's own conditions in the policy file and the facts
    the test states: the order's status and categories, the reason, the condition, the
    days and hours. A rule that needs a reason or a condition the test did not give fails
    here, naming it."""
    if rule == NO_RULE:
        return ()
    when = next(r.when for r in policy.rules if r.id == rule)
    if (when.reason or when.reason_not or when.merchant_fault is not None) and reason is None:
        raise AssertionError(f"rule {rule} explains the reason: pass reason=")
    if when.condition and len(when.condition) > 1 and condition is None:
        raise AssertionError(f"rule {rule} explains the condition: pass condition=")
    code = ReasonCode(reason or "other")
    fault = facts.get("merchant_fault", code in policy.general.merchant_fault_reasons)
    return explain_because(
        when,
        status=OrderStatus(order.status),
        categories=[ItemCategory(line.category) for line in order.items],
        reason=code,
        merchant_fault=bool(when.merchant_fault if when.merchant_fault is not None else fault),
        condition=ItemCondition(condition) if condition else (when.condition or (None,))[0],
        days_since_delivery=facts.get("days_since_delivery", _whole(NOW, order.delivered_at, DAY)),
        hours_before_service=facts.get("hours_before_service", _whole(order.service_at, NOW, HOUR)),
        days_since_service=facts.get("days_since_service", _whole(NOW, order.service_at, DAY)),
        non_returnable=policy.general.non_returnable_categories,
    )


@dataclass
class Chat:
    """A person in their private chat with the bot, linked to `customer`, in `locale`."""

    person: FakeUser
    locale: str
    customer: CustomerRecord
    deps: AppDeps
    server: BotServer

    @property
    def chat_id(self) -> int:
        return self.person.chat_id

    # reading templates

    def text(self, template: str, /, **context: Any) -> str:
        return plain(RENDERER.render(self.locale, template, **context))

    def button(self, name: str, *args: Any) -> str:
        return RENDERER.button(self.locale, name, *args)

    def label(self, name: str, *args: Any) -> str:
        return RENDERER.macro(self.locale, "labels", name, *args)

    def order_button(
        self, order: OrderRecord, distinction: tuple[str, ...] = (), *, show_time: bool = False
    ) -> str:
        """An order's button; `distinction` and `show_time` as when another order listed
        with it looks the same (bot.services.conversation.views.tell_apart)."""
        view = shown(order, self.locale)
        label = (view.number, view.placed_at, view.headline, view.total)
        return self.button("order", *label, distinction, show_time)

    def decision(
        self,
        order: OrderRecord,
        rule: str,
        *,
        lines: Sequence[Line] = (),
        refund: str | None = None,
        offers: Sequence[Any] = (),
        agent: bool = False,
        returned: bool = False,
        reason: str | None = None,
        condition: str | None = None,
        excluded: Sequence[tuple[str, int]] = (),
        excluded_by: str = "non_returnable",
        approval_reasons: Sequence[str] = (),
        **facts: Any,
    ) -> str:
        """The whole decision message: eligible when a refund (maybe 0.00) is given.

        `excluded`: the (item name, quantity) the decision leaves out, which rule
        `excluded_by` refused, explained from its own conditions."""
        kind = next((r.then.kind for r in POLICY.rules if r.id == rule), None)
        view = shown(order, self.locale)
        view.items = [SimpleNamespace(id=-n, name=name) for n, (name, _) in enumerate(excluded)]
        exclusion = None
        if excluded:
            exclusion = SimpleNamespace(
                items=[
                    SimpleNamespace(item_id=-n, quantity=quantity)
                    for n, (_, quantity) in enumerate(excluded)
                ],
                rule=excluded_by,
                because=because(order, excluded_by, reason=reason, condition=None, facts={}),
            )
        decision = SimpleNamespace(
            rule=rule,
            eligible=refund is not None,
            kind=kind,
            facts=facts,
            because=because(order, rule, reason=reason, condition=condition, facts=facts),
            breakdown=[breakdown_line(line) for line in lines],
            refund=money(refund or "0"),
            approval="agent" if agent else "automatic",
            approval_reasons=list(approval_reasons),
            return_required=returned,
            excluded=exclusion,
        )
        return self.text(
            "cancel/decision",
            order=view,
            decision=decision,
            offers=offers,
            reason_code=reason,
        )

    def summary(
        self, order: OrderRecord, refund: Any | None, *, agent: bool = False, returned: bool = False
    ) -> str:
        decision = SimpleNamespace(
            approval="agent" if agent else "automatic", return_required=returned
        )
        return self.text(
            "cancel/summary", order=shown(order, self.locale), decision=decision, option=refund
        )

    # acting

    async def send(self, text: str) -> None:
        await self.person.send(text)

    async def press(self, name: str, *args: Any) -> Press:
        """Press the newest button labelled as `buttons.j2` macro `name(*args)` renders, and
        wait until the bot has handled it: a callback query is answered only once its
        handler returned, so what it sent is in the chat and what it stored is committed."""
        return await self._handled(await self.person.press(self.button(name, *args)))

    async def press_in(self, message: SentMessage, name: str, *args: Any) -> Press:
        """The same on the buttons of one particular (maybe old) message."""
        return await self._handled(await self.person.press_in(message, self.button(name, *args)))

    async def accept(self, offer: Any, *, instead_of_refund: bool = False) -> Press:
        """Press the button of an offer (see `offer`); `instead_of_refund` when the
        request itself was refused (the button then says the offer replaces a refund)."""
        return await self.press("offer", offer.type, offer.value, offer.params, instead_of_refund)

    async def _handled(self, press: Press) -> Press:
        if press.query_id is not None:
            await self.person.answer_to(press)
        return press

    async def expect(self, contains: str) -> SentMessage:
        return await self.person.expect(contains)

    async def expect_exactly(self, text: str) -> SentMessage:
        """The next message whose text starts like `text`, and is all of it."""
        message = await self.person.expect(text.splitlines()[0])
        assert message.text == text
        return message

    async def expect_text(self, template: str, /, **context: Any) -> SentMessage:
        return await self.expect_exactly(self.text(template, **context))

    async def receipt(self, template: str, /, **context: Any) -> OutboxMessage:
        """The message the services owe the customer: one outbox row with this template,
        locale and context. When the outbox notifier is wired into the bot
        (bot/channels/notifier.py), the customer must also have read it in the chat."""
        if getattr(self.server, "notifier", None) is not None:
            await self.expect_exactly(self.text(template, **context))
        rows = [r for r in await outbox_of(self.deps, self.chat_id) if r.template == template]
        assert len(rows) == 1, rows
        assert rows[0].locale == self.locale
        assert decode_context(rows[0].context) == context
        return rows[0]

    async def alert(self, press: Press) -> str:
        """The alert a press got (stale buttons); fails if it was a silent answer."""
        answer = await self.person.answer_to(press)
        assert answer.show_alert, answer
        return answer.text or ""


# -- walking the dialog -------------------------------------------------------------------------


async def to_reason(chat: Chat, order: OrderRecord) -> SentMessage:
    """Name the order with /cancel_order and arrive at "why?"."""
    await chat.send(f"/cancel_order {order.number}")
    return await chat.expect_text("cancel/choose_reason", order=shown(order, chat.locale))


async def give_reason(chat: Chat, reason: str) -> Press:
    return await chat.press("reason", reason)


async def confirm(chat: Chat) -> Press:
    return await chat.press("confirm")
