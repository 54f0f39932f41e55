"""A unit of work tells a duplicate key apart from every other refused write."""

import pytest
from sqlalchemy.exc import IntegrityError

from service.store.errors import DuplicateRow


def test_a_second_key_with_the_same_hash_is_a_duplicate_row(ctx):
    with ctx.transaction() as uow:
        uow.keys.add("h" * 64, "oms_x", "admin", None, ctx.clock.now())
    with pytest.raises(DuplicateRow), ctx.transaction() as uow:
        uow.keys.add("h" * 64, "oms_y", "admin", None, ctx.clock.now())


def test_a_row_naming_an_unknown_product_is_not_called_a_duplicate(small_network):
    ctx = small_network
    with pytest.raises(IntegrityError), ctx.transaction() as uow:
        uow.positions.insert([("DC-1", "NO-SUCH-SKU", 1)], ctx.clock.now())
