"""The vocabulary the API and CLI publish stays exactly what it was (pinned as JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from service.rules.vocabulary import export_vocabulary

PINNED = Path(__file__).with_name("vocabulary_export.json")


def test_the_exported_vocabulary_is_exactly_the_pinned_one():
    exported = export_vocabulary()
    assert exported == json.loads(PINNED.read_text(encoding="utf-8"))
    assert json.dumps(exported, indent=2) + "\n" == PINNED.read_text(encoding="utf-8")
