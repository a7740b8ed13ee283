"""FSM states of every flow. FSM data holds JSON scalars only; the case lives in the database."""

from aiogram.fsm.state import State, StatesGroup


class LinkFlow(StatesGroup):
    guest_order_number = State()
    guest_secret = State()
