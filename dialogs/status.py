"""/status: the customer's orders, cancellations in progress and refunds; a refund's timeline.

Both always fit in one message (dialogs.fitting): entries that do not are counted instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.container import Services
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.callbacks import MenuAction, MenuCallback, RefundTimeline
from dialogs.filters import Intent
from dialogs.fitting import fit
from dialogs.keyboards import back_to_status, main_menu, status_keyboard
from dialogs.screens import Target, ask_to_link


async def status_command(
    message: Message, services: Services, identity: Identity, t: Texts
) -> None:
    await show_status(message, services, identity, t)


async def status_button(
    callback: CallbackQuery, services: Services, identity: Identity, t: Texts
) -> None:
    if callback.message is not None:
        await show_status(callback.message, services, identity, t)


async def show_status(target: Target, services: Services, identity: Identity, t: Texts) -> None:
    overview = await services.status.overview(identity)
    if not overview.orders:
        if identity.linked:
            await target.answer(t("status/empty"), reply_markup=main_menu(t))
        else:
            await ask_to_link(target, t)
        return
    lists = {
        "refunds": overview.refunds,
        "requests": overview.requests,
        "orders": overview.orders,
    }

    def render(shown: Mapping[str, int]) -> str:
        return t(
            "status/overview",
            **{name: entries[: shown[name]] for name, entries in lists.items()},
            **{f"more_{name}": len(entries) - shown[name] for name, entries in lists.items()},
        )

    text, shown = fit(render, {name: len(entries) for name, entries in lists.items()})
    await target.answer(text, reply_markup=status_keyboard(overview.refunds[: shown["refunds"]], t))


async def timeline_button(
    callback: CallbackQuery,
    callback_data: RefundTimeline,
    callback_answer: CallbackAnswer,
    services: Services,
    identity: Identity,
    t: Texts,
) -> None:
    """The button's refund id is untrusted: someone else's refund reads as an unknown one."""
    timeline = await services.status.timeline(identity, callback_data.refund_id)
    if timeline is None:
        callback_answer.text, callback_answer.show_alert = t("plain/refund_not_found"), True
        return
    if callback.message is not None:
        events = timeline.events

        def render(shown: Mapping[str, int]) -> str:
            """The newest steps; the oldest go first when the history is too long."""
            kept = events[len(events) - shown["events"] :] if shown["events"] else ()
            return t(
                "status/timeline",
                refund=timeline.refund,
                events=kept,
                earlier=len(events) - shown["events"],
            )

        text, _ = fit(render, {"events": len(events)})
        await callback.message.answer(text, reply_markup=back_to_status(t))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(status_command, Command("status"))
    router.message.register(status_command, Intent("status"))
    router.callback_query.register(
        status_button, MenuCallback.filter(F.action == MenuAction.STATUS)
    )
    router.callback_query.register(timeline_button, RefundTimeline.filter())
    return router
