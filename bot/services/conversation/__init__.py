"""What the chat shows around the flows: status, transcript, intents, tickets, surveys."""
