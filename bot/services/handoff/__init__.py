"""Human agents in a forum supergroup (issue 9): one topic per customer, a case card,
a two-way relay, agent actions through the shared services, queue and working hours.

- board: what the group must show (topic, card, notices), staged as outbox rows
- customers: asking for a person, the customer's messages while with agents, leaving
- agents: an agent's messages to the customer and their actions on the case
- card: the case card's facts, read when it is sent
- sweep: re-announcing cases nobody took
- desk: the verified agents' group

Import the modules themselves: the refund and ticket services import `board`, so this
package imports nothing on its own.
"""
