"""The merchant's numbers: why customers cancel, how many were kept, how fast money came
back, how happy they were. One service computes them; every surface shows them."""

from bot.services.insights.figures import CaseOutcome, Dimension, Period, Rate, Report
from bot.services.insights.service import InsightsConfig, InsightsService
from bot.services.insights.timeline import CaseTimeline

__all__ = [
    "CaseOutcome",
    "CaseTimeline",
    "Dimension",
    "InsightsConfig",
    "InsightsService",
    "Period",
    "Rate",
    "Report",
]
