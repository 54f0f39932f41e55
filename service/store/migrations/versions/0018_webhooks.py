"""webhooks: subscriptions, one delivery per event and subscription, every attempt

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06 11:00:00

Three new tables. `webhook_subscriptions`: a receiver's URL, the event globs it wants, an
optional location or channel filter, its signing secret encrypted with OMS_SECRET_KEY (a dump
alone does not reveal it), where it was declared (api or config, `name` unique for config
ones), and when it was disabled (a 410 Gone) or deleted. `webhook_deliveries`: one row per
event and subscription (unique), its status (queued behind an earlier event of its order for
that subscriber, pending, in_flight, delivered, failed, dead), the attempts made, when the
next is due and the last answer. `webhook_attempts`: every attempt,
its status code, latency and error.

Indexes: `ix_webhook_deliveries_due` (next_attempt_at; pending, in_flight and failed rows: at
most one per order and subscriber, the rest are queued) is the worker's claim, reading only
what is due; `ix_webhook_deliveries_lane` (subscription_id, order_key, event_id; rows not yet
done) finds an order's open deliveries to a subscriber when one is routed or finishes (the
next queued one is then made pending), which keeps one event in flight per order and
subscriber; `ix_webhook_deliveries_status`
(status, id) pages `GET /v1/webhooks/deliveries?status=`; `ix_webhook_attempts_delivery`
lists a delivery's attempts. On `events`, `ix_events_unrouted` (id where delivered_at is
null) is the router's queue: `events.delivered_at` now means "handed to webhook deliveries"
(the column was never used); events written before this release are marked handed, so a new
subscription never receives the history unless asked to (replay).

PostgreSQL: a statement trigger on `events` sends NOTIFY oms_events while some subscription
is active, waking the delivery worker within its commit (no NOTIFY, and so no commit-time
notify lock, when nobody subscribes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUE = sa.text("status IN ('pending', 'in_flight', 'failed')")
_LANE = sa.text("status IN ('queued', 'pending', 'in_flight', 'failed')")
_UNROUTED = sa.text("delivered_at IS NULL")

NOTIFY = """
CREATE FUNCTION oms_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM webhook_subscriptions
             WHERE disabled_at IS NULL AND deleted_at IS NULL) THEN
    PERFORM pg_notify('oms_events', '');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION oms_events_notify();
"""


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.Column("disabled_reason", sa.String(length=255), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("source IN ('api', 'config')",
                           name=op.f("ck_webhook_subscriptions_source_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
        sa.UniqueConstraint("name", name=op.f("uq_webhook_subscriptions_name")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("order_key", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'pending', 'in_flight', 'delivered', 'failed', 'dead')",
            name=op.f("ck_webhook_deliveries_status_known")),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"],
                                name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_webhook_deliveries_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("subscription_id", "event_id",
                            name=op.f("uq_webhook_deliveries_subscription_id")),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at"],
                    postgresql_where=_DUE, sqlite_where=_DUE)
    op.create_index("ix_webhook_deliveries_lane", "webhook_deliveries",
                    ["subscription_id", "order_key", "event_id"],
                    postgresql_where=_LANE, sqlite_where=_LANE)
    op.create_index("ix_webhook_deliveries_status", "webhook_deliveries", ["status", "id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.id"],
                                name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])
    op.execute("UPDATE events SET delivered_at = created_at WHERE delivered_at IS NULL")
    op.create_index("ix_events_unrouted", "events", ["id"],
                    postgresql_where=_UNROUTED, sqlite_where=_UNROUTED)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_notify ON events")
        op.execute("DROP FUNCTION IF EXISTS oms_events_notify()")
    op.drop_index("ix_events_unrouted", table_name="events")
    op.drop_index("ix_webhook_attempts_delivery", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_status", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_lane", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
