"""Conversation flows: one Router per flow, thin handlers over the services."""

from aiogram import Router

from dialogs import (
    cancellation,
    common,
    fallback,
    link,
    merchant_offers,
    smalltalk,
    start,
    status,
    survey,
)
from dialogs.agents import customer_relay


def build_router() -> Router:
    """All customer flows in the order they must be tried.

    Commands and flow-wide escapes come first so that /cancel works in every state;
    each flow's own steps next; the catch-all fallbacks last, or they would answer
    messages a step was waiting for.
    """
    router = Router(name="dialogs")
    router.include_routers(
        customer_relay.build_router(),  # first: while a person helps, the flows wait
        survey.build_router(),  # a command ends the wait for a comment
        start.build_router(),
        common.build_router(),
        status.build_router(),
        link.build_router(),
        cancellation.build_router(),
        merchant_offers.build_router(),
        smalltalk.build_router(),  # everyday words no flow took: greetings, thanks, questions
        fallback.build_router(),
    )
    return router
