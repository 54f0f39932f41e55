from sqlalchemy import func, select

from service.services.demo import seed as demo_seed
from service.services.demo.network import generate_network
from service.store.models import Location, Product, StockPosition


def test_seeding_loads_locations_products_and_stock(ctx):
    network = generate_network(8, 30, seed=1)
    assert demo_seed.database_is_empty(ctx)
    counts = demo_seed.seed(ctx, network)
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Location)) == 8
        assert s.scalar(select(func.count()).select_from(Product)) == 30
        assert s.scalar(select(func.count()).select_from(StockPosition)) == counts["positions"]
    assert counts["positions"] == sum(1 for _ in network.stock())
    assert not demo_seed.database_is_empty(ctx)
