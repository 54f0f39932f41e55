"""A deterministic, realistic retail network: real US city coordinates, an assortment, stock.

The same generator serves `oms demo seed` (about 50 locations x 2,000 SKUs) and the
benchmarks (1,000 locations x 1,000 SKUs). City coordinates come from the `zipcodes` package,
which ships US ZIP data offline; the largest cities (by number of ZIP codes) come first.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import zipcodes

REGIONS = {
    "northeast": "CT ME MA NH RI VT NJ NY PA",
    "midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "south": "DE FL GA MD NC SC VA DC WV AL KY MS TN AR LA OK TX",
    "west": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
}
STATE_REGION = {state: region for region, states in REGIONS.items() for state in states.split()}

CATEGORIES: dict[str, tuple[tuple[str, ...], float, float]] = {
    # category: (brands, low price, high price)
    "apparel": (("Northfield", "Urban Thread", "Coastline", "Pioneer"), 9.0, 120.0),
    "footwear": (("Stride", "Trailhead", "Cobble"), 25.0, 180.0),
    "electronics": (("Voltix", "Brightwave", "Acoustica", "Nimbus"), 15.0, 1200.0),
    "home": (("Hearth & Co", "Linenworks", "Oakline"), 5.0, 400.0),
    "beauty": (("Glow Lab", "Pure Botanics"), 4.0, 80.0),
    "toys": (("Playcraft", "Brickhouse"), 6.0, 150.0),
    "sports": (("Summit", "Fieldday", "Aquafin"), 10.0, 600.0),
    "grocery": (("Pantry Pride", "Green Valley"), 1.5, 30.0),
}
ITEM_WORDS = ("Classic", "Essential", "Pro", "Lite", "Max", "Everyday", "Deluxe", "Compact")
PRODUCT_TAGS = ("clearance", "new-arrival", "online-only", "bulky", "fragile", "seasonal")


@dataclass(frozen=True)
class City:
    name: str
    state: str
    postal_code: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def largest_cities() -> tuple[City, ...]:
    """US cities ordered by how many ZIP codes they have (a proxy for size), then by name."""
    by_city: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in zipcodes.list_all():
        if row["zip_code_type"] == "STANDARD" and row["state"] in STATE_REGION and row["lat"]:
            by_city[(row["city"], row["state"])].append(row)
    ranked = sorted(by_city.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    cities = []
    for (name, state), rows in ranked:
        first = min(rows, key=lambda r: r["zip_code"])
        cities.append(
            City(name, state, first["zip_code"], float(first["lat"]), float(first["long"]))
        )
    return tuple(cities)


def generate_locations(count: int = 50, seed: int = 7) -> list[dict[str, Any]]:
    """count locations: DCs (3, or 1 in 50 at scale), one 3PL, one drop-shipper, the rest stores."""
    rng = random.Random(seed)
    cities = largest_cities()[:count]
    dcs = max(3, count // 50)
    kinds = ["dc"] * dcs + ["3pl", "dropship"] + ["store"] * (count - dcs - 2)
    pairs = enumerate(zip(kinds, cities, strict=True))
    return [_location(i, kind, city, rng) for i, (kind, city) in pairs]


def _location(index: int, kind: str, city: City, rng: random.Random) -> dict[str, Any]:
    prefix = {"dc": "DC", "3pl": "3PL", "dropship": "DS", "store": "ST"}[kind]
    capacity = {"dc": 5000, "3pl": 2000, "dropship": 800, "store": rng.choice((40, 60, 80, 120))}
    hours = {"dc": 12.0, "3pl": 18.0, "dropship": 48.0, "store": rng.choice((4.0, 6.0, 8.0))}
    return {
        "id": f"{prefix}-{index + 1:04d}",
        "name": f"{city.name.title()} {kind.upper() if kind != 'store' else 'Store'}",
        "type": kind,
        "lat": city.lat,
        "lon": city.lon,
        "postal_code": city.postal_code,
        "country": "US",
        "region": STATE_REGION[city.state],
        "can_ship": kind != "store" or rng.random() < 0.7,
        "can_pickup": kind == "store",
        "daily_capacity": capacity[kind],
        "processing_hours": hours[kind],
        "priority": {"dc": 1, "3pl": 2, "store": 3, "dropship": 4}[kind],
        "tags": ["flagship"] if kind == "store" and index < 8 else [],
        "active": True,
    }


def generate_products(count: int = 2000, seed: int = 7) -> list[dict[str, Any]]:
    """count SKUs across categories, with brands, prices and a few tags."""
    rng = random.Random(seed + 1)
    names = sorted(CATEGORIES)
    products = []
    for i in range(count):
        category = names[i % len(names)]
        brands, low, high = CATEGORIES[category]
        price = round(low * (high / low) ** rng.random(), 2)
        tags = [t for t in PRODUCT_TAGS if rng.random() < 0.08]
        brand = rng.choice(brands)
        products.append(
            {
                "sku": f"SKU-{i + 1:06d}",
                "name": f"{brand} {rng.choice(ITEM_WORDS)} {category.title()} {i + 1}",
                "category": category,
                "brand": brand,
                "price": price,
                "tags": tags,
                "attributes": {"weight_kg": round(rng.uniform(0.1, 15.0), 2)},
            }
        )
    return products


def generate_stock(
    locations: list[dict[str, Any]],
    products: list[dict[str, Any]],
    seed: int = 7,
    store_coverage: float = 0.4,
) -> Iterator[tuple[str, str, int]]:
    """(location_id, sku, on_hand) rows: DCs carry most of the range, stores part of it.

    store_coverage >= 1.0 stocks every SKU at every location (the benchmark network).
    """
    rng = random.Random(seed + 2)
    for location in locations:
        kind = location["type"]
        coverage = {"dc": 0.9, "3pl": 0.5, "dropship": 0.3}.get(kind, store_coverage)
        if store_coverage >= 1.0:  # full assortment everywhere (benchmarks)
            coverage = 1.0
        low, high = {"dc": (20, 400), "3pl": (10, 200), "dropship": (50, 500)}.get(kind, (0, 12))
        for product in products:
            if coverage >= 1.0 or rng.random() < coverage:
                yield location["id"], product["sku"], rng.randint(low, high)


@dataclass(frozen=True)
class DemoNetwork:
    locations: list[dict[str, Any]]
    products: list[dict[str, Any]]
    seed: int
    store_coverage: float

    def stock(self) -> Iterator[tuple[str, str, int]]:
        """The stock rows, regenerated on each call (1M rows need not sit in memory)."""
        return generate_stock(self.locations, self.products, self.seed, self.store_coverage)


def generate_network(
    locations: int = 50, skus: int = 2000, seed: int = 7, store_coverage: float = 0.4
) -> DemoNetwork:
    """The whole network; store_coverage=1.0 stocks every SKU everywhere (benchmarks)."""
    return DemoNetwork(
        generate_locations(locations, seed), generate_products(skus, seed), seed, store_coverage
    )
