"""Reservation deadlines stay at or before every active reservation's expiry, whoever
writes first."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from service.services.inventory import reservations
from service.store import reservation_deadlines
from service.store.migrate import upgrade
from service.store.models import Reservation, ReservationDeadline


def utcnow() -> datetime:
    return datetime.now(UTC)


def deadline(ctx, sku="A"):
    with ctx.sessions() as session:
        return session.scalar(select(ReservationDeadline.due_at)
                              .where(ReservationDeadline.sku == sku))


def test_noting_a_reservation_keeps_the_earliest_expiry(small_network):
    ctx, now = small_network, utcnow()
    for minutes in (10, 5, 20):
        with ctx.sessions.begin() as session:
            reservation_deadlines.note(session, "A", now + timedelta(minutes=minutes))
    assert deadline(ctx) == now + timedelta(minutes=5)


def test_moving_on_leaves_deadlines_that_have_not_passed_and_skus_not_asked_for(small_network):
    ctx, now = small_network, utcnow()
    with ctx.sessions.begin() as session:
        reservation_deadlines.note(session, "A", now - timedelta(seconds=1))
        reservation_deadlines.note(session, "B", now + timedelta(minutes=1))
        reservation_deadlines.note(session, "C", now - timedelta(seconds=1))
    with ctx.sessions.begin() as session:
        assert reservation_deadlines.move_on(session, now, ["A", "B"]) == 1
    assert deadline(ctx, "A") is None  # no active reservation of A: removed
    assert deadline(ctx, "B") == now + timedelta(minutes=1)
    assert deadline(ctx, "C") == now - timedelta(seconds=1)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_reservation_made_while_a_pass_moves_the_deadline_is_not_lost(small_network):
    """The pass locks the deadline, then reads the next reservations: one noted meanwhile waits
    for the lock and lowers the deadline after the pass commits."""
    ctx, now = small_network, utcnow()
    with ctx.sessions.begin() as session:
        reservation_deadlines.note(session, "A", now - timedelta(seconds=1))
    new_due = now + timedelta(minutes=3)
    noted = threading.Event()

    def reserve_meanwhile():
        with ctx.sessions.begin() as other:
            reservation_deadlines.note(other, "A", new_due)
        noted.set()

    with ctx.sessions.begin() as session:
        lock = (select(ReservationDeadline.sku).where(ReservationDeadline.sku == "A")
                .with_for_update())
        session.execute(lock)  # the pass holds the deadline...
        writer = threading.Thread(target=reserve_meanwhile)
        writer.start()
        time.sleep(0.3)
        assert not noted.is_set()  # ...so the new reservation's note waits
        reservation_deadlines.move_on(session, now, ["A"])  # no active reservation: removed
    writer.join(10)
    assert noted.is_set() and deadline(ctx) == new_due


def test_upgrading_gives_every_sku_with_active_reservations_its_earliest_expiry(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006")
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO products (sku, name, category, brand, price, tags,"
                          " tags_text, attributes, updated_at) VALUES ('A', 'a', 'c', 'b', 1,"
                          " '[]', '', '{}', '2026-01-01 00:00:00')"))
        for hold_id, status, expires in (("h1", "active", "2026-01-01 10:00:00"),
                                         ("h2", "active", "2026-01-01 09:00:00"),
                                         ("h3", "expired", "2026-01-01 08:00:00")):
            conn.execute(text("INSERT INTO reservations (id, channel, sku, location_id,"
                              " quantity, status, expires_at, created_at) VALUES (:i, 'web',"
                              " 'A', 'L', 1, :s, :e, '2026-01-01 00:00:00')"),
                         {"i": hold_id, "s": status, "e": expires})
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sku, due_at FROM reservation_deadlines")).all() == [
            ("A", "2026-01-01 09:00:00")]
    engine.dispose()


def test_the_expiry_job_repairs_deadlines_of_reservations_made_without_one(small_network):
    """A writer that did not note its reservations (an older version during a rolling deploy)."""
    ctx, now = small_network, utcnow()
    with ctx.sessions.begin() as session:
        reservation_deadlines.note(session, "B", now + timedelta(minutes=30))
        session.add_all([
            Reservation(channel="web", sku="A", location_id="DC-1", quantity=1,
                        created_at=now, expires_at=now + timedelta(minutes=10)),
            Reservation(channel="web", sku="A", location_id="DC-1", quantity=1,
                        created_at=now, expires_at=now + timedelta(minutes=5)),
            Reservation(channel="web", sku="B", location_id="DC-1", quantity=1,
                        created_at=now, expires_at=now + timedelta(minutes=20)),
            Reservation(channel="web", sku="C", location_id="DC-1", quantity=1,
                        created_at=now, expires_at=now + timedelta(minutes=1),
                        status="released")])
    reservations.expire(ctx)
    assert deadline(ctx, "A") == now + timedelta(minutes=5)
    assert deadline(ctx, "B") == now + timedelta(minutes=20)  # lowered to its earliest hold
    assert deadline(ctx, "C") is None  # no active hold
