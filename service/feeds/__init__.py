"""Feeds: what comes in, read (files in a folder, HTTP URLs, pushed bodies).

`spec` reads a feed's settings, `sources` finds new files and fetches URLs, `readers` turns
CSV, JSON or NDJSON into rows with their line numbers, `stock_rows` types and checks stock
rows, `metering` counts the bytes read, `file_parts` cuts a large file at location
boundaries. The use cases that apply them are `service.services.feeds` and
`service.services.inventory`.
"""
