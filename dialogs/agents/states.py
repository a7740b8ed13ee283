"""The agents' FSM: one question at a time per agent (a reason, an amount), in one topic."""

from aiogram.fsm.state import State, StatesGroup


class AgentPrompt(StatesGroup):
    """Waiting for the agent's next message in a topic; FSM data holds `action`,
    `handoff_id`, `refund_id` and `thread_id`."""

    answer = State()
