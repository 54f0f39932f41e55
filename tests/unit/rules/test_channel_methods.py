"""A channel's `sells` (the fulfilment methods it sells): loaded, validated with its position,
defaulted to both, normalised only when it says something, and shown by a diff."""

from __future__ import annotations

from service.rules import diff, load_text

BASE = """\
name: demo
version: {version}
channels:
  web:
{sells}    rules: []
  app:
    rules: []
"""


def load(sells: str = "", version: int = 1):
    return load_text(BASE.format(version=version, sells=sells), "demo.yaml")


def test_a_channel_sells_what_its_file_says_and_both_methods_by_default():
    rs = load("    sells: [pickup, ship]\n").ruleset
    assert rs.sells("web") == ("ship", "pickup") and rs.sells("app") == ("ship", "pickup")
    only = load("    sells: [ship]\n").ruleset
    assert only.sells("web") == ("ship",) and only.sells("app") == ("ship", "pickup")
    assert only.sells("unknown-channel") == ("ship", "pickup")


def test_a_location_serves_a_channel_when_it_can_do_something_the_channel_sells():
    ship_only = load("    sells: [ship]\n").ruleset
    assert ship_only.serves("web", {"can_ship": True, "can_pickup": False})
    assert not ship_only.serves("web", {"can_ship": False, "can_pickup": True})
    assert ship_only.serves("app", {"can_ship": False, "can_pickup": True})
    assert not ship_only.serves("app", {"can_ship": False, "can_pickup": False})


def test_an_unknown_method_an_empty_list_and_a_repeat_are_located_errors():
    for sells, line in (("    sells: [deliver]\n", 5), ("    sells: []\n", 5),
                        ("    sells: [ship, ship]\n", 5)):
        result = load(sells)
        assert result.ruleset is None, sells
        problem, = result.problems
        assert problem.pointer.startswith("/channels/web/sells") and problem.line == line, (
            sells, problem)


def test_saying_the_default_means_and_hashes_the_same_as_not_saying_it():
    said, unsaid = load("    sells: [ship, pickup]\n").ruleset, load().ruleset
    assert said.content_hash == unsaid.content_hash
    assert "sells" not in said.to_dict()["channels"]["web"]
    narrowed = load("    sells: [ship]\n").ruleset
    assert narrowed.to_dict()["channels"]["web"]["sells"] == ["ship"]
    assert narrowed.content_hash != unsaid.content_hash


def test_a_diff_shows_what_a_channel_sells_old_and_new():
    change = diff(load(version=1).ruleset, load("    sells: [ship]\n", version=2).ruleset)
    assert change.sells == {"web": (["ship", "pickup"], ["ship"])} and not change.empty
    assert 'web: ["ship", "pickup"] → ["ship"]' in change.format_text()
