"""Inventory: the stock ledger's writers.

Owns counts coming in (deltas and full snapshots, pushed over HTTP or read from feed files,
with their safety limits: `deltas`, `snapshots`, `snapshot_plans`, `snapshot_copy`,
`pushes`, and the record of every run: `runs`), reservations (units set aside for a cart or a
checkout for a short time, and their expiry: `reservations`), and the one way every other
writer changes a position's allocated, reserved or on-hand units (`stock_changes`), which
moves the channels' ATS in the same transaction.
"""
