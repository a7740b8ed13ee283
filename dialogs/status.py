"""/status: the customer's orders, cancellations in progress and refunds; a refund's timeline."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.container import Services
from bot.services.identity import Identity
from bot.texts import Texts
from dialogs.callbacks import MenuAction, MenuCallback, RefundTimeline
from dialogs.filters import Intent
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
    await target.answer(
        t(
            "status/overview",
            orders=overview.orders,
            requests=overview.requests,
            refunds=overview.refunds,
        ),
        reply_markup=status_keyboard(overview.refunds, t),
    )


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
        await callback.message.answer(
            t("status/timeline", refund=timeline.refund, events=timeline.events),
            reply_markup=back_to_status(t),
        )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(status_command, Command("status"))
    router.message.register(status_command, Intent("status"))
    router.callback_query.register(
        status_button, MenuCallback.filter(F.action == MenuAction.STATUS)
    )
    router.callback_query.register(timeline_button, RefundTimeline.filter())
    return router
