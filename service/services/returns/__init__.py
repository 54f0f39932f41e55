"""Returns: open a return for shipped units, receive it at any location that takes returns
(the active ruleset's `returns` rules decide each line's disposition), read it."""
