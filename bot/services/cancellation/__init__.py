"""The cancellation conversation's rules: cases, finding the order, the review of what is
missing, requests, offers and exchanges."""
