"""Browser tests: the console served over real HTTP (a server thread on a free port, SQLite)
and driven by Playwright in Debian's Chromium (`make test` installs it: Playwright cannot
download its own browser here). One server and one browser per module; every page visited
is checked with axe (no serious or critical violation) and photographed to docs/console/."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from service.app import create_app
from service.bootstrap import build_context
from service.services.access.keys import create_key
from service.services.context import Context
from service.services.masterdata import upserts
from service.services.rulesets import governance
from service.settings import settings_from_dict
from service.store.migrate import upgrade
from tests.conftest import SMALL_LOCATIONS, SMALL_PRODUCTS
from tests.support import FIXTURES, T1, snapshot

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
STOCK = {"ST-1": {"A": 10, "C": 3}, "DC-1": {"A": 20, "B": 5}}


@dataclass
class Served:
    """The served console: its URL, its context, and an admin key for API calls."""

    url: str
    ctx: Context
    admin: str
    keys: dict[str, str] = field(default_factory=dict)

    def key(self, role: str) -> str:
        """A key of the role (one per role and module)."""
        if role not in self.keys:
            self.keys[role] = create_key(self.ctx, role)
        return self.keys[role]

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the API over HTTP with the admin key; the JSON answer."""
        request = urllib.request.Request(
            self.url + path, method=method, data=json.dumps(body).encode() if body else None,
            headers={"Authorization": f"Bearer {self.admin}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:  # noqa: S310 (our own server)
            return json.loads(response.read())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The small network with stock, served on a free port."""
    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'oms.db'}"
    upgrade(url)
    settings = settings_from_dict(
        {"database_url": url, "rulesets": {"directory": str(FIXTURES / "rulesets"),
                                           "active": "default@2", "reload_seconds": 1}},
        base_dir=folder)
    ctx = build_context(settings)
    upserts.upsert_locations(ctx, SMALL_LOCATIONS)
    upserts.upsert_products(ctx, SMALL_PRODUCTS)
    governance.start(ctx)
    server = make_server("127.0.0.1", 0, create_app(ctx=ctx), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found = Served(f"http://127.0.0.1:{server.server_port}", ctx, create_key(ctx, "admin"))
    for location, counts in STOCK.items():
        found.api("POST", "/v1/inventory/snapshots", snapshot(location, T1, counts))
    yield found
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (one per module)."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and its page."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


AXE = Axe()


def check(page: Page, shot: str | None = None) -> None:
    """No serious or critical accessibility violation on the page; its screenshot."""
    results = AXE.run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{page.url}: {bad}"
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)


def sign_in(page: Page, served: Served, role: str) -> None:
    """Sign in through the form with a key of the role."""
    page.goto(served.url + "/console/")
    page.fill("#key", served.key(role))
    page.click("form[action='/console/sign-in'] button[type=submit]")
    page.wait_for_url("**/console/")
