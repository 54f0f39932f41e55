"""Availability: what each channel may sell, as the API reads it.

Owns the reads of ATS (`reads`): the kept per-channel ATS looked up in one statement (the hot
path), and the live per-location detail and pickup reads that explain every unit of it.
Reads never count an expired reservation: past a SKU's deadline they expire its overdue
reservations first (`services.inventory.reservations`).
"""
