"""The customer side: private chats only, with who-is-writing and the transcript attached."""

from __future__ import annotations

from aiogram import Router
from aiogram.utils.callback_answer import CallbackAnswerMiddleware

import dialogs
from bot.middlewares import IdentityMiddleware, TranscriptMiddleware
from bot.texts import Renderer
from dialogs.filters import PrivateChat


def build_private_chat_router(renderer: Renderer) -> Router:
    router = Router(name="private_chat")
    private = PrivateChat()  # async: a synchronous filter costs a thread hop per update
    router.message.filter(private)
    router.callback_query.filter(private)
    # Who is writing is known before any filter runs (filters such as WithAgents read the
    # live ticket off the identity instead of asking the database again). Inner
    # middlewares run once a handler matched, outermost first: the transcript (which
    # needs the conversation), then the automatic callback answer, so an alert it sends
    # is in the transcript too.
    for observer in (router.message, router.callback_query):
        observer.outer_middleware(IdentityMiddleware(renderer))
        observer.middleware(TranscriptMiddleware())
    router.callback_query.middleware(CallbackAnswerMiddleware())
    router.include_router(dialogs.build_router())
    return router
