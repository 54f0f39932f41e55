"""PostgreSQL: an order's JSON columns are compressed with lz4, not pglz

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 18:40:00

An order row carries its plan's explanation (about 7.7 kB for 3 lines: every line's ranked
candidates with their factors), its 201 body and its plan, so PostgreSQL compresses it as it
goes in. With the default pglz that was about a twentieth of PostgreSQL's CPU for an order
(perf, bench/changes.md); lz4 compresses the same text in about half the time or less, and
reads back faster too (GET /v1/orders/{id}).

`orders` is partitioned (0027): its partitions made later (`CREATE TABLE ... PARTITION OF`,
store/order_partitions.py) take the parent's setting, the ones that exist now are set here
one by one (ALTER TABLE does not pass the setting down to them). Rows already written keep
their pglz values (both are read alike). A server built without lz4 keeps pglz: the
migration then changes nothing. Downgrade restores the server's default.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_COLUMNS = ("ship_to", "attributes", "plan", "explanation", "response")


def _set_compression(method: str) -> str:
    """A DO block setting `method` on the JSON columns of orders and of each partition."""
    columns = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION {method}" for c in JSON_COLUMNS)
    return f"""
DO $$
DECLARE t regclass;
BEGIN
  FOR t IN SELECT 'orders'::regclass
           UNION ALL SELECT inhrelid::regclass FROM pg_inherits
                     WHERE inhparent = 'orders'::regclass
  LOOP
    EXECUTE format('ALTER TABLE %s {columns}', t);
  END LOOP;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not supported by this server: orders keep %', current_setting(
    'default_toast_compression');
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_set_compression("lz4"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_set_compression("default"))
