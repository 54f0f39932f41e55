"""Adapters to external solvers (the domain's ports): HiGHS for exact sourcing plans."""
