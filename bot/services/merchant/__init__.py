"""The merchant's side: their API's commands and views, feeds, and the webhook events
sent to them."""
