"""Refunds after a cancellation: their states, updates from the merchant, vouchers, the watchdog."""
