"""FSM states of every flow. FSM data holds JSON scalars only; the case lives in the database."""

from aiogram.fsm.state import State, StatesGroup


class LinkFlow(StatesGroup):
    guest_order_number = State()
    guest_secret = State()


class CancelFlow(StatesGroup):
    """The cancellation conversation; FSM data holds `case_id` and nothing else."""

    order = State()
    items = State()
    reason = State()
    reason_text = State()
    condition = State()
    photo = State()
    photo_text = State()  # no photo: the problem described in words instead
    decision = State()
    method = State()
    confirm = State()


class SurveyFlow(StatesGroup):
    """Waiting for an optional comment after a rating; FSM data holds `survey_id`, `until`."""

    comment = State()
