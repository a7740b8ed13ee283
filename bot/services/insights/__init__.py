"""The merchant's numbers: why customers cancel, how many were kept, how fast money came
back, how happy they were. One service computes them; every surface shows them.

The package exports the figures' types only. The service (`.service`) and one case's
story (`.timeline`) are imported where they are used, so a bot process loads them with
the first /stats, report or dashboard request rather than at start.
"""

from bot.services.insights.figures import CaseOutcome, Dimension, Period, Rate, Report

__all__ = ["CaseOutcome", "Dimension", "Period", "Rate", "Report"]
