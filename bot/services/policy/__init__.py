"""The refund policy: a merchant-editable file, a pure engine, offers and an explanation.

A caller loads the policy once (`load_policy`), copies an order into `OrderFacts`,
asks `decide` with the clock's `now`, then `offers_for` with the decision, and stores
`decision.to_json(offers)` with the cancellation request.
"""

from bot.services.policy.engine import (
    Approval,
    ApprovalReason,
    BreakdownLine,
    Decision,
    ExcludedItem,
    Exclusion,
    RefundOption,
    SelectedLine,
    decide,
    select_lines,
)
from bot.services.policy.explain import ExplainRow, explain_rows
from bot.services.policy.facts import (
    CustomerFacts,
    Given,
    GivenKind,
    ItemFacts,
    OfferHistory,
    OrderFacts,
    RequestFacts,
    StockFacts,
    StockLookup,
    StockTable,
)
from bot.services.policy.model import (
    DEFAULT_POLICY_FILE,
    NO_RULE,
    Arrival,
    ArrivalUnit,
    DecisionKind,
    Photo,
    Policy,
    PolicyError,
    SlaSettings,
    load_policy,
    parse_policy,
)
from bot.services.policy.offers import OfferSpec, offers_for
from storage.enums import OfferType

__all__ = [
    "DEFAULT_POLICY_FILE",
    "NO_RULE",
    "Approval",
    "ApprovalReason",
    "Arrival",
    "ArrivalUnit",
    "BreakdownLine",
    "CustomerFacts",
    "Decision",
    "DecisionKind",
    "ExcludedItem",
    "Exclusion",
    "ExplainRow",
    "Given",
    "GivenKind",
    "ItemFacts",
    "OfferHistory",
    "OfferSpec",
    "OfferType",
    "OrderFacts",
    "Photo",
    "Policy",
    "PolicyError",
    "RefundOption",
    "RequestFacts",
    "SelectedLine",
    "SlaSettings",
    "StockFacts",
    "StockLookup",
    "StockTable",
    "decide",
    "explain_rows",
    "load_policy",
    "offers_for",
    "parse_policy",
    "select_lines",
]
