"""Linking proves an account is the customer's; a stranger learns nothing by guessing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services.domain.clock import FixedClock
from bot.services.linking.accounts import GuestOutcome, LinkOutcome, looks_like_guest_detail
from bot.services.linking.identity import Sender
from bot.wiring import AppDeps
from storage.models import OutboxMessage
from tests.conftest import NOW
from tests.storage.helpers import add_all, make_customer, make_order

ANN, BOB = 111, 222


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    ann = make_customer("C-ANN", name="Ann", phone="+8613800001111", email="ann@example.com")
    bob = make_customer("C-BOB", name="Bob", phone="+15550100222", email="bob@example.com")
    twin_a = make_customer("C-TWIN-A", phone="+15550100999")
    twin_b = make_customer("C-TWIN-B", phone="+15550100999")
    async with deps.uow() as uow:
        await add_all(
            uow,
            ann,
            bob,
            twin_a,
            twin_b,
            make_order(ann, "SO-1000001", NOW - timedelta(days=2)),
            make_order(ann, "SO-1000002", NOW - timedelta(days=1)),
            make_order(bob, "SO-2000001", NOW - timedelta(days=3)),
        )
    for user_id in (ANN, BOB):
        async with deps.uow() as uow:
            await deps.services(uow).identity.resolve(Sender(user_id=user_id, chat_id=user_id))
    return deps


async def test_own_contact_links(shop: AppDeps) -> None:
    async with shop.uow() as uow:
        result = await shop.services(uow).linking.link_by_contact(ANN, ANN, "8613800001111")
    assert result.outcome is LinkOutcome.LINKED
    assert result.customer is not None
    assert result.customer.external_id == "C-ANN"
    async with shop.uow() as uow:
        customer = await uow.customers.by_external_id("C-ANN")
        assert customer is not None
        assert customer.telegram_user_id == ANN


async def test_the_conversation_under_way_is_the_customers_once_linked(shop: AppDeps) -> None:
    async with shop.uow() as uow:
        await shop.services(uow).linking.link_by_contact(ANN, ANN, "8613800001111")
    async with shop.uow() as uow:
        customer = await uow.customers.by_external_id("C-ANN")
        ann = await uow.conversations.open_for_chat(ANN)
        bob = await uow.conversations.open_for_chat(BOB)
    assert customer is not None
    assert ann is not None
    assert bob is not None
    assert ann.customer_id == customer.id  # before Ann writes again
    assert bob.customer_id is None


async def test_someone_elses_contact_card_is_refused(shop: AppDeps) -> None:
    async with shop.uow() as uow:
        result = await shop.services(uow).linking.link_by_contact(BOB, ANN, "+8613800001111")
        refused_without_user_id = await shop.services(uow).linking.link_by_contact(
            BOB, None, "+8613800001111"
        )
    assert result.outcome is LinkOutcome.NOT_OWN_CONTACT
    assert refused_without_user_id.outcome is LinkOutcome.NOT_OWN_CONTACT
    async with shop.uow() as uow:
        assert await uow.customers.by_telegram_user(BOB) is None


@pytest.mark.parametrize(
    ("phone", "outcome"),
    [
        ("+4400000000", LinkOutcome.NO_MATCH),
        ("+15550100999", LinkOutcome.AMBIGUOUS),
        ("not a phone", LinkOutcome.INVALID_PHONE),
    ],
)
async def test_contact_that_links_nobody(shop: AppDeps, phone: str, outcome: LinkOutcome) -> None:
    async with shop.uow() as uow:
        result = await shop.services(uow).linking.link_by_contact(BOB, BOB, phone)
    assert result.outcome is outcome
    assert result.customer is None


async def test_linking_moves_the_account_and_the_customer(shop: AppDeps) -> None:
    """A new Telegram account of the same phone takes the link; one account, one customer."""
    async with shop.uow() as uow:
        linking = shop.services(uow).linking
        await linking.link_by_contact(ANN, ANN, "+8613800001111")
        await linking.link_by_contact(BOB, BOB, "+8613800001111")
        await linking.link_by_contact(BOB, BOB, "+15550100222")
    async with shop.uow() as uow:
        ann = await uow.customers.by_external_id("C-ANN")
        bob = await uow.customers.by_external_id("C-BOB")
    assert ann is not None
    assert bob is not None
    assert (ann.telegram_user_id, bob.telegram_user_id) == (None, BOB)


async def test_deep_link_token(shop: AppDeps, clock: FixedClock) -> None:
    tokens = shop.service_config.link_tokens
    assert tokens is not None
    token = tokens.issue("C-BOB", NOW + timedelta(days=1))
    async with shop.uow() as uow:
        result = await shop.services(uow).linking.link_by_token(BOB, token)
    assert result.outcome is LinkOutcome.LINKED
    clock.advance(timedelta(days=2))
    async with shop.uow() as uow:
        expired = await shop.services(uow).linking.link_by_token(ANN, token)
        forged = await shop.services(uow).linking.link_by_token(ANN, token[:-2] + "AA")
        unknown = await shop.services(uow).linking.link_by_token(
            ANN, tokens.issue("C-GONE", NOW + timedelta(days=9))
        )
    assert expired.outcome is LinkOutcome.EXPIRED_TOKEN
    assert forged.outcome is LinkOutcome.INVALID_TOKEN
    assert unknown.outcome is LinkOutcome.INVALID_TOKEN


async def test_guest_verification_opens_only_that_order(shop: AppDeps) -> None:
    async with shop.uow() as uow:
        result = await shop.services(uow).linking.verify_guest(BOB, "so-1000001 ", "1111")
    assert result.outcome is GuestOutcome.VERIFIED
    async with shop.uow() as uow:
        visible = await uow.orders.visible_to(BOB, None, NOW)
    assert [order.number for order in visible] == ["SO-1000001"]


@pytest.mark.parametrize("typed", ["SOl000001", "so I000001", "SO-1OOOOO1"])
async def test_a_guest_may_type_letters_for_digits_after_the_prefix(
    shop: AppDeps, typed: str
) -> None:
    """As customers' own lookups read them: l or I straight after "SO" is a 1, O a 0."""
    async with shop.uow() as uow:
        result = await shop.services(uow).linking.verify_guest(BOB, typed, "1111")
    assert (result.outcome, result.order_number) == (GuestOutcome.VERIFIED, "SO-1000001")


async def test_guest_access_expires(shop: AppDeps, clock: FixedClock) -> None:
    async with shop.uow() as uow:
        await shop.services(uow).linking.verify_guest(BOB, "SO-1000001", "ann@example.com")
    clock.advance(timedelta(days=8))
    async with shop.uow() as uow:
        assert await uow.orders.visible_to(BOB, None, clock.now()) == []


async def test_wrong_order_and_wrong_detail_look_the_same(shop: AppDeps) -> None:
    async with shop.uow() as uow:
        linking = shop.services(uow).linking
        wrong_detail = await linking.verify_guest(BOB, "SO-1000001", "9999")
        no_such_order = await linking.verify_guest(BOB, "SO-9999999", "1111")
    assert wrong_detail.outcome is no_such_order.outcome is GuestOutcome.MISMATCH
    assert wrong_detail.attempts_left == no_such_order.attempts_left + 1


async def test_guessing_is_locked_out_then_released(shop: AppDeps, clock: FixedClock) -> None:
    async with shop.uow() as uow:
        linking = shop.services(uow).linking
        results = [await linking.verify_guest(BOB, "SO-1000001", "0000") for _ in range(5)]
        locked = await linking.verify_guest(BOB, "SO-1000001", "1111")  # right, but locked
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]
    assert results[-1].outcome is GuestOutcome.LOCKED
    assert locked.outcome is GuestOutcome.LOCKED
    assert locked.retry_at == NOW + timedelta(hours=1)
    clock.advance(timedelta(hours=1, seconds=1))
    async with shop.uow() as uow:
        released = await shop.services(uow).linking.verify_guest(BOB, "SO-1000001", "1111")
    assert released.outcome is GuestOutcome.VERIFIED


async def test_many_accounts_guessing_one_order_are_stopped(shop: AppDeps) -> None:
    outcomes = []
    for attacker in range(900, 912):
        async with shop.uow() as uow:
            await shop.services(uow).identity.resolve(Sender(user_id=attacker, chat_id=attacker))
            result = await shop.services(uow).linking.verify_guest(attacker, "SO-1000001", "0000")
        outcomes.append(result.outcome)
    async with shop.uow() as uow:
        await shop.services(uow).identity.resolve(Sender(user_id=999, chat_id=999))
        late = await shop.services(uow).linking.verify_guest(999, "SO-1000001", "1111")
    assert outcomes[:10] == [GuestOutcome.MISMATCH] * 10
    assert late.outcome is GuestOutcome.LOCKED


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1234", True),
        ("ann@example.com", True),
        ("123", False),
        ("12345", False),
        ("ann@", False),
        ("١٢٣٤", True),  # Arabic-Indic digits
        ("１２３４", True),  # full-width digits
        ("¹²³⁴", False),  # digits, but not decimal ones
    ],
)
def test_guest_detail_shape(text: str, ok: bool) -> None:
    assert looks_like_guest_detail(text) is ok


@pytest.mark.parametrize("digits", ["١١١١", "１１１１", "۱۱۱۱"])
async def test_unicode_digits_are_read_as_digits(shop: AppDeps, digits: str) -> None:
    """Used to crash: hmac.compare_digest refuses non-ASCII strings."""
    async with shop.uow() as uow:
        result = await shop.services(uow).linking.verify_guest(BOB, "SO-1000001", digits)
    assert result.outcome is GuestOutcome.VERIFIED


async def test_digits_that_are_not_decimal_are_refused_not_crashed_on(shop: AppDeps) -> None:
    async with shop.uow() as uow:
        result = await shop.services(uow).linking.verify_guest(BOB, "SO-1000001", "¹¹¹¹")
    assert result.outcome is GuestOutcome.MISMATCH


async def test_verifying_an_own_order_does_not_erase_earlier_failures(shop: AppDeps) -> None:
    """Used to reset the count: an account could guess forever between verifications."""
    async with shop.uow() as uow:
        await shop.services(uow).identity.resolve(Sender(user_id=BOB, chat_id=BOB))
    async with shop.uow() as uow:
        linking = shop.services(uow).linking
        before = [await linking.verify_guest(BOB, "SO-1000001", "0000") for _ in range(4)]
        own = await linking.verify_guest(BOB, "SO-2000001", "bob@example.com")
        after = await linking.verify_guest(BOB, "SO-1000002", "0000")
        locked = await linking.verify_guest(BOB, "SO-1000002", "1111")
    assert [r.outcome for r in before] == [GuestOutcome.MISMATCH] * 4
    assert own.outcome is GuestOutcome.VERIFIED
    assert (after.outcome, after.attempts_left) == (GuestOutcome.LOCKED, 0)
    assert locked.outcome is GuestOutcome.LOCKED


async def test_a_locked_out_owner_still_links_by_contact_and_deep_link(
    shop: AppDeps,
) -> None:
    """Strangers exhausting an order's guesses must not lock its owner out of it."""
    for attacker in range(900, 911):
        async with shop.uow() as uow:
            await shop.services(uow).identity.resolve(Sender(user_id=attacker, chat_id=attacker))
            await shop.services(uow).linking.verify_guest(attacker, "SO-1000001", "0000")
    async with shop.uow() as uow:
        linking = shop.services(uow).linking
        as_guest = await linking.verify_guest(ANN, "SO-1000001", "1111")
        by_contact = await linking.link_by_contact(ANN, ANN, "+8613800001111")
    assert as_guest.outcome is GuestOutcome.LOCKED
    assert by_contact.outcome is LinkOutcome.LINKED
    async with shop.uow() as uow:
        ann = await uow.customers.by_external_id("C-ANN")
        assert ann is not None
        visible = await uow.orders.visible_to(ANN, ann.id, NOW)
    assert "SO-1000001" in {order.number for order in visible}
    tokens = shop.service_config.link_tokens
    assert tokens is not None
    async with shop.uow() as uow:
        await shop.services(uow).identity.resolve(Sender(user_id=777, chat_id=777))
        by_link = await shop.services(uow).linking.link_by_token(
            777, tokens.issue("C-ANN", NOW + timedelta(days=1))
        )
    assert by_link.outcome is LinkOutcome.LINKED


async def test_a_deep_link_links_once_whoever_uses_it_again(shop: AppDeps) -> None:
    tokens = shop.service_config.link_tokens
    assert tokens is not None
    token = tokens.issue("C-BOB", NOW + timedelta(days=1))
    async with shop.uow() as uow:
        linking = shop.services(uow).linking
        first = await linking.link_by_token(BOB, token)
        again_by_owner = await linking.link_by_token(BOB, token)
        again_by_stranger = await linking.link_by_token(ANN, token)
    assert first.outcome is LinkOutcome.LINKED
    assert again_by_owner.outcome is again_by_stranger.outcome is LinkOutcome.USED_TOKEN
    async with shop.uow() as uow:
        bob = await uow.customers.by_external_id("C-BOB")
    assert bob is not None
    assert bob.telegram_user_id == BOB


async def test_the_previous_account_is_told_when_another_takes_the_link(shop: AppDeps) -> None:
    tokens = shop.service_config.link_tokens
    assert tokens is not None
    async with shop.uow() as uow:
        linking = shop.services(uow).linking
        await linking.link_by_contact(ANN, ANN, "+8613800001111")
        await shop.services(uow).identity.resolve(Sender(user_id=333, chat_id=333))
        moved = await linking.link_by_token(333, tokens.issue("C-ANN", NOW + timedelta(days=1)))
        relinked_same = await linking.link_by_contact(ANN, ANN, "+8613800001111")
    assert moved.outcome is relinked_same.outcome is LinkOutcome.LINKED
    async with shop.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(row.chat_id, row.template, row.context["via"]) for row in rows] == [
        (ANN, "notify/account_moved", "deep_link"),
        (333, "notify/account_moved", "contact"),
    ]
