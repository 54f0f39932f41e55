from collections import Counter

from service.services.demo.network import generate_network


def test_the_generator_is_deterministic():
    a, b = generate_network(20, 50, seed=3), generate_network(20, 50, seed=3)
    assert a.locations == b.locations and a.products == b.products
    assert list(a.stock()) == list(b.stock())


def test_the_demo_network_has_dcs_a_3pl_a_dropshipper_and_stores():
    network = generate_network()
    kinds = Counter(loc["type"] for loc in network.locations)
    assert kinds == {"dc": 3, "3pl": 1, "dropship": 1, "store": 45}
    assert len(network.products) == 2000
    assert len({p["category"] for p in network.products}) >= 6


def test_locations_sit_at_real_us_city_coordinates():
    first = generate_network(5, 1).locations[0]
    assert first["postal_code"] == "10001" and abs(first["lat"] - 40.75) < 0.1
    for loc in generate_network(200, 1).locations:
        assert 18 < loc["lat"] < 72 and -170 < loc["lon"] < -65


def test_the_benchmark_size_stocks_every_sku_everywhere():
    network = generate_network(40, 25, store_coverage=1.0)
    assert sum(1 for _ in network.stock()) == 40 * 25
    assert len({loc["id"] for loc in generate_network(1000, 1).locations}) == 1000
