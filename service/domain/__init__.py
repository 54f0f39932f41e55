"""The domain: the service's rules on plain objects, with no Flask, SQL, I/O or clock.

Owns roles and the one permission check (`roles`), the stock ledger's rules (`ledger`), the
Order aggregate with its fulfilments and their state machine (`orders`), sourcing (`sourcing`:
costs, the split policy, the exact planner) and geography (`geo`). It imports nothing of the
service but `service.errors`.
"""
