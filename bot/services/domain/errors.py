"""Errors the services raise for the channels to turn into a sentence for the person."""


class DomainError(Exception):
    """Base class; `template` names the message that explains it (under templates/<locale>/)."""

    template = "errors/generic"


class NotLinked(DomainError):
    template = "link/needed"


class OrderNotVisible(DomainError):
    """The order does not exist or is not this customer's: the same answer for both."""

    template = "errors/order_not_found"
