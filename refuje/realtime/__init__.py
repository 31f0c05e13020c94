"""Live events: the event bus and server-sent event streams."""
