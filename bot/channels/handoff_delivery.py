"""How the notifier delivers what the agents' group and the relay need (issue 9).

Rows for the group name a customer's topic (`OutboxMessage.topic_id`). Before a row goes
out, `Topics.thread` makes sure the topic exists on Telegram: created when the case is
new (the row was claimed in the database before), reopened for a new case if the bot
closed it. Telegram sends no update when an agent deletes or closes a topic, so a send
that fails with "message thread not found", TOPIC_DELETED, TOPIC_ID_INVALID or
TOPIC_CLOSED marks the topic lost; the same row then gets a new topic, the case card and
a digest of the recent transcript first, and nothing queued is lost (the rows behind it
wait in order).

Every request, topic creation and card edits included, goes through the row's `Gate`,
so it counts against the group's budget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiogram.enums import ParseMode
from aiogram.methods import (
    CloseForumTopic,
    CopyMessage,
    CopyMessages,
    CreateForumTopic,
    DeleteForumTopic,
    EditForumTopic,
    EditMessageCaption,
    EditMessageText,
    ReopenForumTopic,
    SendMessage,
    SendPhoto,
)
from aiogram.types import InlineKeyboardMarkup

from bot.channels.notifier import (
    Delivered,
    Failure,
    FailureKind,
    Gate,
    MessageDelivery,
    Outcome,
)
from bot.services.domain.clock import Clock
from bot.services.handoff.card import Card, load_card
from bot.services.handoff.customers import HandoffService
from bot.services.outbox import decode_context
from bot.services.policy import Policy
from bot.texts import Renderer, Texts
from storage.enums import DeliveryKind, HandoffState
from storage.models import AgentTopic, Handoff, OutboxMessage
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]
CardKeyboard = Callable[[Card, Texts], InlineKeyboardMarkup | None]

TOPIC_GONE = ("message thread not found", "TOPIC_DELETED", "TOPIC_ID_INVALID", "TOPIC_CLOSED")
NOT_MODIFIED = ("message is not modified", "TOPIC_NOT_MODIFIED")
MESSAGE_GONE = ("message to edit not found", "message can't be edited", "MESSAGE_ID_INVALID")
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_TOPIC_NAME = 128
DIGEST_LINES = 15


def failed_with(result: object, phrases: tuple[str, ...]) -> bool:
    return (
        isinstance(result, Failure)
        and result.kind is FailureKind.PERMANENT
        and any(phrase in result.reason for phrase in phrases)
    )


class Topics:
    """Customers' topics as Telegram has them: created, reopened, recovered on demand."""

    def __init__(self, uow: UowFactory, renderer: Renderer, cards: CardSender) -> None:
        self._uow = uow
        self._renderer = renderer
        self._cards = cards

    async def thread(self, row: OutboxMessage, gate: Gate) -> int | Failure | None:
        """The topic's thread id for `row`, creating or reopening it; None when the topic
        is gone and its case closed: there is nobody left to show the row to."""
        assert row.topic_id is not None
        async with self._uow() as uow:
            topic = await uow.handoffs.topic(row.topic_id)
            handoff = await uow.handoffs.current_handoff(row.topic_id) if topic else None
        if topic is None or topic.chat_id < 0:
            return None  # none, or its customer was forgotten (bot.services.erasure)
        case_open = handoff is not None and handoff.state is not HandoffState.CLOSED
        thread = topic.thread_id
        if topic.closed and not case_open and row.kind is not DeliveryKind.TOPIC_NAME:
            return None  # closed with its case: late rows (an edit, a notice) stay out
        if thread is None:
            if not case_open or row.kind is DeliveryKind.TOPIC_CLOSE:
                return None
            created = await self._create(topic, row.locale, gate)
            if isinstance(created, Failure):
                return created
            thread = created
        elif topic.closed and case_open:
            reopened = await gate.call(
                ReopenForumTopic(chat_id=topic.group_chat_id, message_thread_id=thread)
            )
            if isinstance(reopened, Failure) and not failed_with(reopened, NOT_MODIFIED):
                if failed_with(reopened, TOPIC_GONE):
                    await self.lost(topic.id, thread)
                return reopened
            await self._set(topic.id, closed=False)
        if handoff is not None and case_open:
            recovered = await self._recover(row, topic.id, handoff, thread, gate)
            if isinstance(recovered, Failure):
                return recovered
        return thread

    async def lost(self, topic_id: int, thread_id: int) -> None:
        """Telegram says the topic is gone: the next row makes a new one, with the card and
        a digest. Only the thread that failed is forgotten (another row may have replaced
        it already)."""
        async with self._uow() as uow, uow.transaction():
            topic = await uow.handoffs.topic_for_update(topic_id)
            if topic is None or topic.thread_id != thread_id:
                return
            topic.thread_id, topic.closed, topic.needs_digest = None, False, True
            handoff = await uow.handoffs.current_handoff(topic_id)
            if handoff is not None:
                handoff.card_message_id = None
        log.warning("agents' topic %d (thread %d) is gone; a new one follows", topic_id, thread_id)

    async def name(self, uow: UnitOfWork, topic: AgentTopic, locale: str) -> str:
        """The topic's name for its newest case: state, order number, customer."""
        handoff = await uow.handoffs.current_handoff(topic.id)
        ticket = await uow.handoffs.ticket(handoff.ticket_id) if handoff else None
        customer = await uow.customers.get(topic.customer_id) if topic.customer_id else None
        account = await uow.telegram_users.get(ticket.telegram_user_id) if ticket else None
        case = await uow.cases.get(ticket.case_id) if ticket and ticket.case_id else None
        order = await uow.orders.get(case.order_id) if case and case.order_id else None
        name = self._renderer.render(
            locale,
            "agent/plain/topic_name",
            state=handoff.state.value if handoff else HandoffState.NEW.value,
            order_number=order.number if order else None,
            customer_name=(customer.name if customer else account.first_name if account else ""),
            chat_id=topic.chat_id,
        )
        return " ".join(str(name).split())[:MAX_TOPIC_NAME] or str(topic.chat_id)

    async def _create(self, topic: AgentTopic, locale: str, gate: Gate) -> int | Failure:
        async with self._uow() as uow:
            name = await self.name(uow, topic, locale)
        created = await gate.call(CreateForumTopic(chat_id=topic.group_chat_id, name=name))
        if isinstance(created, Failure):
            return created
        async with self._uow() as uow, uow.transaction():
            stored = await uow.handoffs.topic_for_update(topic.id)
            assert stored is not None
            stored.thread_id, stored.name, stored.closed = created.message_thread_id, name, False
            stored.created_count += 1
        return created.message_thread_id

    async def _recover(
        self, row: OutboxMessage, topic_id: int, handoff: Handoff, thread: int, gate: Gate
    ) -> Failure | None:
        """In a topic made anew after the old one was lost: the card, then the digest."""
        async with self._uow() as uow:
            topic = await uow.handoffs.topic(topic_id)
        if topic is None or not topic.needs_digest:
            return None
        if handoff.card_message_id is None and row.kind is not DeliveryKind.CARD:
            posted = await self._cards.send(handoff.id, row.locale, row.chat_id, thread, gate)
            if isinstance(posted, Failure):
                return posted
        async with self._uow() as uow:
            ticket = await uow.handoffs.ticket(handoff.ticket_id)
            lines = (
                await uow.handoffs.transcript_tail(ticket.conversation_id, DIGEST_LINES)
                if ticket
                else []
            )
        text = self._renderer.render(
            row.locale,
            "agent/digest",
            lines=[
                {
                    "direction": line.direction.value,
                    "kind": line.kind,
                    "text": line.text,
                    "at": line.created_at,
                }
                for line in lines
                if line.kind not in ("button", "edit_buttons", "alert")
            ],
        )
        sent = await gate.call(
            SendMessage(
                chat_id=row.chat_id,
                text=_fit(text, MAX_TEXT),
                parse_mode=ParseMode.HTML,
                message_thread_id=thread,
            )
        )
        if isinstance(sent, Failure):
            return sent
        await self._set(topic_id, needs_digest=False)
        return None

    async def _set(self, topic_id: int, **values: Any) -> None:
        async with self._uow() as uow, uow.transaction():
            topic = await uow.handoffs.topic_for_update(topic_id)
            if topic is not None:
                for name, value in values.items():
                    setattr(topic, name, value)


class CardSender:
    """Posts a case's card once, then edits it in place; it is read when sent."""

    def __init__(self, uow: UowFactory, renderer: Renderer, keyboard: CardKeyboard) -> None:
        self._uow = uow
        self._renderer = renderer
        self._keyboard = keyboard

    async def send(
        self, handoff_id: int, locale: str, chat_id: int, thread: int, gate: Gate
    ) -> Delivered | Failure:
        async with self._uow() as uow:
            card = await load_card(uow, handoff_id, locale)
        if card is None:
            return Delivered(None)
        texts = self._renderer.for_locale(locale)
        text = render_card(card, texts)
        markup = self._keyboard(card, texts)
        if card.card_message_id is not None:
            edited = await gate.call(
                EditMessageText(
                    chat_id=chat_id,
                    message_id=card.card_message_id,
                    text=text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            )
            if not isinstance(edited, Failure) or failed_with(edited, NOT_MODIFIED):
                return Delivered(card.card_message_id)
            if not failed_with(edited, MESSAGE_GONE):
                return edited
        posted = await gate.call(
            SendMessage(
                chat_id=chat_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                message_thread_id=thread,
            )
        )
        if isinstance(posted, Failure):
            return posted
        async with self._uow() as uow, uow.transaction():
            handoff = await uow.handoffs.handoff_for_update(handoff_id)
            if handoff is not None:
                handoff.card_message_id = posted.message_id
        return Delivered(posted.message_id)


class InTopic:
    """Wraps a delivery of rows for a customer's topic: finds (or makes) the topic, sends,
    and if Telegram says the topic is gone, makes a new one and sends once more."""

    def __init__(self, topics: Topics, send: Callable[..., Any]) -> None:
        self._topics = topics
        self._send = send

    async def deliver(self, row: OutboxMessage, gate: Gate) -> Delivered | Failure:
        if row.topic_id is None:
            result: Delivered | Failure = await self._send(row, gate, None)
            return result
        for attempt in range(2):
            thread = await self._topics.thread(row, gate)
            if thread is None:
                return Delivered(None)
            if isinstance(thread, Failure):
                return thread
            result = await self._send(row, gate, thread)
            if attempt == 0 and failed_with(result, TOPIC_GONE):
                await self._topics.lost(row.topic_id, thread)
                continue
            return result
        return result

    async def settled(self, uow: UnitOfWork, row: OutboxMessage, outcome: Outcome) -> None:
        return None


class HandoffDeliveries:
    """The deliveries of every kind of row the handoff queues, for `Notifier(deliveries=…)`."""

    def __init__(
        self,
        uow: UowFactory,
        renderer: Renderer,
        clock: Clock,
        policy: Policy,
        messages: MessageDelivery,
        card_keyboard: CardKeyboard,
    ) -> None:
        self._uow = uow
        self._renderer = renderer
        self._clock = clock
        self._policy = policy
        self._messages = messages
        self._cards = CardSender(uow, renderer, card_keyboard)
        self.topics = Topics(uow, renderer, self._cards)

    def kinds(self) -> dict[DeliveryKind, Any]:
        return {
            DeliveryKind.MESSAGE: InTopic(self.topics, self._message),
            DeliveryKind.CARD: InTopic(self.topics, self._card),
            DeliveryKind.TOPIC_NAME: InTopic(self.topics, self._rename),
            DeliveryKind.TOPIC_CLOSE: InTopic(self.topics, self._close),
            DeliveryKind.PHOTO: InTopic(self.topics, self._photo),
            DeliveryKind.COPY: _Copies(self.topics, self._copy, self._unreachable),
            DeliveryKind.EDIT: InTopic(self.topics, self._edit),
            DeliveryKind.TOPIC_DELETE: TopicDeletion(),
        }

    # -- one kind each ----------------------------------------------------------------------

    async def _message(self, row: OutboxMessage, gate: Gate, thread: int | None) -> Any:
        return await self._messages.send(row, gate, thread_id=thread)

    async def _card(self, row: OutboxMessage, gate: Gate, thread: int | None) -> Any:
        if thread is None:
            return Failure(FailureKind.PERMANENT, "a case card needs a topic")
        return await self._cards.send(
            int(row.context["handoff_id"]), row.locale, row.chat_id, thread, gate
        )

    async def _rename(self, row: OutboxMessage, gate: Gate, thread: int | None) -> Any:
        assert row.topic_id is not None
        async with self._uow() as uow:
            topic = await uow.handoffs.topic(row.topic_id)
            if topic is None or thread is None:
                return Delivered(None)
            name = await self.topics.name(uow, topic, row.locale)
        if name == topic.name:
            return Delivered(None)  # created with it, or a newer change already applied
        edited = await gate.call(
            EditForumTopic(chat_id=row.chat_id, message_thread_id=thread, name=name)
        )
        if isinstance(edited, Failure) and not failed_with(edited, NOT_MODIFIED):
            return edited
        async with self._uow() as uow, uow.transaction():
            stored = await uow.handoffs.topic_for_update(row.topic_id)
            if stored is not None and stored.thread_id == thread:
                stored.name = name
        return Delivered(None)

    async def _close(self, row: OutboxMessage, gate: Gate, thread: int | None) -> Any:
        assert row.topic_id is not None
        async with self._uow() as uow:
            topic = await uow.handoffs.topic(row.topic_id)
            handoff = await uow.handoffs.current_handoff(row.topic_id)
        if topic is None or thread is None or topic.closed:
            return Delivered(None)
        if handoff is not None and handoff.state is not HandoffState.CLOSED:
            return Delivered(None)  # a new case opened in the topic since
        closed = await gate.call(CloseForumTopic(chat_id=row.chat_id, message_thread_id=thread))
        if isinstance(closed, Failure) and not failed_with(closed, NOT_MODIFIED):
            return closed
        async with self._uow() as uow, uow.transaction():
            stored = await uow.handoffs.topic_for_update(row.topic_id)
            if stored is not None and stored.thread_id == thread:
                stored.closed = True
        return Delivered(None)

    async def _photo(self, row: OutboxMessage, gate: Gate, thread: int | None) -> Any:
        context = decode_context(row.context)
        caption = self._renderer.render(row.locale, row.template, **context)
        sent = await gate.call(
            SendPhoto(
                chat_id=row.chat_id,
                photo=str(context["file_id"]),
                caption=_fit(caption, MAX_CAPTION),
                parse_mode=ParseMode.HTML,
                message_thread_id=thread,
            )
        )
        return sent if isinstance(sent, Failure) else Delivered(sent.message_id)

    async def _copy(self, row: OutboxMessage, gate: Gate, thread: int | None) -> Any:
        """copyMessage (copyMessages for an album): entities kept, the sender not shown.

        An agent with an alias signs their message: a text is sent as the signed text, a
        caption gets the signature; an album goes unsigned (it has no single caption).
        """
        context = decode_context(row.context)
        source, ids = int(context["from_chat_id"]), [int(i) for i in context["message_ids"]]
        alias, html = context.get("alias"), context.get("html")
        signed = (
            self._renderer.render(row.locale, row.template, alias=alias, html=html)
            if alias and html and len(ids) == 1
            else None
        )
        sent: Any
        if signed is not None and context.get("kind") == "text" and len(signed) <= MAX_TEXT:
            sent = await gate.call(
                SendMessage(
                    chat_id=row.chat_id,
                    text=signed,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread,
                )
            )
            copies = None if isinstance(sent, Failure) else [sent.message_id]
        elif len(ids) == 1:
            caption = signed if signed is not None and len(signed) <= MAX_CAPTION else None
            copied = await gate.call(
                CopyMessage(
                    chat_id=row.chat_id,
                    from_chat_id=source,
                    message_id=ids[0],
                    message_thread_id=thread,
                    caption=caption,
                    parse_mode=ParseMode.HTML if caption else None,
                )
            )
            copies = None if isinstance(copied, Failure) else [copied.message_id]
            sent = copied
        else:
            many = await gate.call(
                CopyMessages(
                    chat_id=row.chat_id,
                    from_chat_id=source,
                    message_ids=sorted(ids),
                    message_thread_id=thread,
                )
            )
            copies = None if isinstance(many, Failure) else [m.message_id for m in many]
            sent = many
        if isinstance(sent, Failure):
            return sent
        assert copies is not None
        return Delivered(
            copies[0] if copies else None,
            text=context.get("text") or html,
            kind="agent" if row.topic_id is None else "notice",
            record=self._copied(row.id, copies),
        )

    def _copied(self, outbox_id: int, copies: list[int]) -> Callable[[UnitOfWork], Any]:
        """Remember each source → copy pair, for mirroring edits."""

        async def record(uow: UnitOfWork) -> None:
            relays = await uow.handoffs.relays_of_outbox(outbox_id)
            if len(relays) != len(copies):
                return  # Telegram skipped a message it could not copy: no safe pairing
            now = self._clock.now()
            for relay, copy_id in zip(relays, copies, strict=True):
                relay.copy_message_id, relay.copied_at = copy_id, now

        return record

    async def _edit(self, row: OutboxMessage, gate: Gate, thread: int | None) -> Any:
        context = decode_context(row.context)
        async with self._uow() as uow:
            relay = await uow.handoffs.relay(int(context["relay_id"]))
        if relay is None or relay.copy_message_id is None:
            return Delivered(None)  # never copied (yet): nothing to edit
        html = str(context["html"])
        if context.get("alias"):
            html = self._renderer.render(
                row.locale, "person/agent_message", alias=context["alias"], html=html
            )
        if context.get("caption"):
            method: Any = EditMessageCaption(
                chat_id=relay.copy_chat_id,
                message_id=relay.copy_message_id,
                caption=_fit(html, MAX_CAPTION),
                parse_mode=ParseMode.HTML,
            )
        else:
            method = EditMessageText(
                chat_id=relay.copy_chat_id,
                message_id=relay.copy_message_id,
                text=_fit(html, MAX_TEXT),
                parse_mode=ParseMode.HTML,
            )
        edited = await gate.call(method)
        if failed_with(edited, NOT_MODIFIED + MESSAGE_GONE):
            return Delivered(None)
        return edited if isinstance(edited, Failure) else Delivered(None)

    async def _unreachable(self, uow: UnitOfWork, row: OutboxMessage, outcome: Outcome) -> None:
        """An agent's message did not reach the customer (they blocked the bot): say so in
        their topic, in the same transaction that records it."""
        if outcome is Outcome.UNREACHABLE and row.topic_id is None:
            await HandoffService(uow, self._clock, self._policy).customer_unreachable(
                row.chat_id, self._clock.now(), key=f"outbox:{row.id}"
            )


class _Copies(InTopic):
    """Copies both ways; a copy to a customer who blocked the bot is shown to the agents."""

    def __init__(
        self,
        topics: Topics,
        send: Callable[..., Any],
        unreachable: Callable[[UnitOfWork, OutboxMessage, Outcome], Any],
    ) -> None:
        super().__init__(topics, send)
        self._unreachable = unreachable

    async def settled(self, uow: UnitOfWork, row: OutboxMessage, outcome: Outcome) -> None:
        await self._unreachable(uow, row, outcome)


class TopicDeletion:
    """Deletes a forgotten customer's topic, and with it every copy of their messages in the
    agents' group. The thread is in the row itself: the topic's row no longer names it."""

    async def deliver(self, row: OutboxMessage, gate: Gate) -> Delivered | Failure:
        thread = int(row.context["thread_id"])
        deleted = await gate.call(DeleteForumTopic(chat_id=row.chat_id, message_thread_id=thread))
        if isinstance(deleted, Failure) and not failed_with(deleted, TOPIC_GONE):
            return deleted
        return Delivered(None)

    async def settled(self, uow: UnitOfWork, row: OutboxMessage, outcome: Outcome) -> None:
        return None


def render_card(card: Card, texts: Texts) -> str:
    """The card under Telegram's 4096 characters: the oldest messages go first."""
    messages = card.messages
    text = ""
    for keep in sorted({len(messages), 4, 2, 0}, reverse=True):
        if keep > len(messages):
            continue
        text = texts("agent/card", **card.context, messages=messages[len(messages) - keep :])
        if len(text) <= MAX_TEXT:
            return text
    return _fit(text, MAX_TEXT)


def _fit(text: str, limit: int) -> str:
    """Cut an (HTML) text that is too long at a line break, so no tag is cut in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 2]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else ""
    return (cut or "…").rstrip() + "\n…"
