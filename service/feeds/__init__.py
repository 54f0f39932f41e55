"""Feeds: configured sources of stock and master data (files in a folder, HTTP URLs).

`spec` reads a feed's settings, `readers` turns CSV, JSON or NDJSON into rows with their line
numbers, `sources` finds new files and fetches URLs. The use case that applies them is
`service.services.feeds`.
"""
