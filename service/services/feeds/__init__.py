"""Feeds: stock and master data brought in on a schedule from folders and URLs.

Owns running a configured feed (`running`: each new file once, in name order; a URL with a
conditional GET) and applying one payload with its run record (`applying`: the stock path
through `services.inventory`, master data through `services.masterdata`). Reading files and
bodies is `service.feeds` (readers, sources, specs), below every use case.
"""
