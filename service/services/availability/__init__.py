"""Availability: what each channel may sell, as the API reads it.

Owns the reads of ATS (`reads`): the kept per-channel figures looked up in one statement (the
hot path), and the live per-location detail and pickup reads that explain every figure.
Reads never count an expired reservation: past a SKU's deadline they expire its overdue
reservations first (`services.inventory.reservations`).
"""
