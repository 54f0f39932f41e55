"""WSGI entry point for gunicorn: `gunicorn service.wsgi:app`.

Each worker imports this module after the fork (no --preload) and then serves for hours: the
app's ~200,000 objects (modules, rules, routes, caches) are moved out of the collector's
generations (gc.freeze), so a full collection no longer walks them. Measured in process on
the 1M bench database: a full collection every ~5,000 availability reads took 100-250 ms
(the request that met it waited that long); frozen, none in 5,000.
"""

import gc

from service.app import create_app

app = create_app()
gc.freeze()  # after start-up: what start-up made lives as long as the worker
