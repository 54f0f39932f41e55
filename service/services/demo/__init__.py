"""Demo data: a deterministic network with real geography (`network`), loaded into the
database with keys for the demo roles (`seed`); `make run` and the benchmarks use it."""
