"""The store: every table and every SQL statement of the service.

Owns the SQLAlchemy 2.0 models and their Alembic migrations (`models`, `migrations`), engine
and session wiring (`db`, `kept_connections`), the repositories the use cases reach through a
unit of work (`unit_of_work`: positions, ats, orders, reservations, activations, master, feeds,
keys, leases, snapshot_files) with their fast PostgreSQL paths (`allocation_pg`, `orders_pg`,
`bulk_counts`, `position_diff`, `snapshot_staging`), the availability lookup on kept
connections (`ats_lookup`) and the per-process catalog of product and location facts.
"""
