"""What a serving worker sets up for itself: its start-up objects out of the collector's way,
and request ids shaped as before (uuid4().hex) when the caller sends none."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from service.api.boundary import new_request_id

ROOT = Path(__file__).resolve().parents[2]


def test_the_gunicorn_entry_point_freezes_what_start_up_made(tmp_path):
    env = {**os.environ, "OMS_DATABASE_URL": f"sqlite:///{tmp_path / 'oms.db'}",
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c",
         "import gc, service.wsgi; print(gc.get_freeze_count(), callable(service.wsgi.app))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
    frozen, app = out.split()
    assert int(frozen) > 10_000 and app == "True"


def test_a_new_request_id_is_the_hex_of_a_random_version_4_uuid():
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for found in ids:
        parsed = uuid.UUID(hex=found)
        assert parsed.hex == found and len(found) == 32
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
