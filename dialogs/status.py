"""/status: the customer's orders, cancellations in progress and refunds."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.services.container import Services
from bot.services.identity import Identity
from bot.texts import Texts
from dialogs.callbacks import MenuAction, MenuCallback
from dialogs.filters import Intent
from dialogs.keyboards import main_menu
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
        reply_markup=main_menu(t),
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(status_command, Command("status"))
    router.message.register(status_command, Intent("status"))
    router.callback_query.register(
        status_button, MenuCallback.filter(F.action == MenuAction.STATUS)
    )
    return router
