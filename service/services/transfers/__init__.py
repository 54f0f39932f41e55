"""Transfer orders: create (allocating at the source), ship, receive, close, cancel, read."""
