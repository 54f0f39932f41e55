"""Available-to-sell (ATS), kept current per channel and SKU.

Owns the meaning of ATS (docs/architecture.md, "Words"): what one position lets a channel
sell under a ruleset (`position`), how a change of positions moves each channel's ATS
(`deltas`), and keeping the stored ATS in step (`kept`: deltas applied by every stock writer
in its own transaction, and set-based recomputation when the active ruleset or master data
change). Reads of ATS are `services.availability`; the writers of stock are
`services.inventory` and `services.orders`.
"""
