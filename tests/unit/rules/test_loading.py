"""Loading rule files: every problem at once, located; hostile input refused cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from service.rules import format_problem, load_directory, load_file, load_text

ROOT = Path(__file__).resolve().parents[3]
RULESETS = ROOT / "rulesets"

GOOD = """\
name: demo
version: 1
channels:
  web:
    rules:
      - name: store-buffer
        conditions: {all: [{name: location_type, operator: equal_to, value: store}]}
        actions: [{name: hold_back_units, params: {units: 2}}]
"""

BAD = """\
name: demo
version: 1
channels:
  web:
    rules:
      - name: a
        conditions: {all: [{name: skuu, operator: equal_to, value: x}]}
        actions: [{name: hold_back_units, params: {units: 2}}]
      - name: a
        conditions:
          all:
            - {name: price, operator: starts_with, value: x}
            - {name: price, operator: equal_to, value: "12"}
            - {name: sku, operator: matches_regex, value: "(a+)+"}
            - {name: sku, operator: matches_regex, value: "[unclosed"}
        actions:
          - {name: hold_back_percent, params: {percent: 120}}
          - {name: hold_back_units}
          - {name: add_cost, params: {points: 1}}
          - {name: exclude_location, params: {why: 1}}
"""


def codes(result) -> list[str]:
    return [p.code for p in result.problems]


def test_shipped_rulesets_load_without_problems_whatever_versions_they_hold():
    load = load_directory(RULESETS)
    assert [p for p in load.problems] == []
    assert len(load.rulesets) == len(load.results) > 0
    for ruleset in load.rulesets:  # each file is named for its version, in its name's folder
        assert ruleset.path == str(RULESETS / ruleset.name / f"v{ruleset.version}.yaml")


def test_shipped_rulesets_point_editors_at_the_schema():
    for path in RULESETS.rglob("*.yaml"):
        first = path.read_text().splitlines()[0]
        target = first.split("$schema=")[1]
        schema = "experiments" if path.stem == "experiments" else "ruleset"
        assert (path.parent / target).resolve() == ROOT / "schemas" / f"{schema}.schema.json"


def test_a_valid_file_becomes_an_immutable_ruleset_with_defaults():
    result = load_text(GOOD, "demo.yaml")
    rs = result.ruleset
    assert result.problems == () and rs is not None
    assert rs.ref == "demo@1" and len(rs.content_hash) == 64
    assert rs.sourcing.weights["backlog_ratio"] == 100
    assert rs.sourcing.split.mode == "allow_split" and rs.sourcing.split.max_shipments == 3
    assert rs.returns.default_disposition == "restock"
    with pytest.raises(TypeError):
        rs.channels["web"] = ()  # type: ignore[index]
    with pytest.raises(AttributeError):
        rs.name = "other"  # type: ignore[misc]


def test_every_problem_in_a_file_is_reported_at_once_with_its_position():
    result = load_text(BAD, "bad.yaml")
    assert result.ruleset is None
    assert set(codes(result)) >= {
        "unknown-variable", "duplicate-rule", "unknown-operator", "value-type",
        "regex-unsupported", "regex-invalid", "percent-range", "missing-param",
        "unknown-action", "unknown-param"}
    unknown = next(p for p in result.problems if p.code == "unknown-variable")
    assert (unknown.line, unknown.col) == (7, 35)
    assert unknown.pointer == "/channels/web/rules/0/conditions/all/0/name"
    assert format_problem(unknown).startswith("bad.yaml:7:35: error: unknown variable 'skuu'")


def test_a_string_value_for_a_numeric_variable_is_an_error():
    result = load_text(BAD, "bad.yaml")
    wrong = [p for p in result.problems if p.code == "value-type"]
    assert wrong and "expected a number" in wrong[0].message


def test_unquoted_yaml_booleans_get_a_quoting_hint():
    text = GOOD.replace("value: store", "value: no")
    problem = load_text(text, "x.yaml").errors[0]
    assert "quote it" in problem.message


def test_warnings_do_not_stop_a_file_from_loading():
    text = GOOD.replace("value: store", "value: warehouse")
    result = load_text(text, "w.yaml")
    assert result.ruleset is not None
    assert codes(result) == ["never-matches"]
    assert result.ruleset.warnings == result.problems


@pytest.mark.parametrize("percent", [130, 100.5, -1])
def test_a_percent_outside_0_to_100_is_an_error_that_stops_the_file(percent):
    text = GOOD.replace("hold_back_units, params: {units: 2}",
                        f"hold_back_percent, params: {{percent: {percent}}}")
    result = load_text(text, "p.yaml")
    assert result.ruleset is None
    [error] = result.errors
    assert (error.code, error.line) == ("percent-range", 8)
    assert error.message == f"percent: expected a number 0–100, got {percent}"


def test_a_percent_written_as_text_says_what_it_got():
    text = GOOD.replace("hold_back_units, params: {units: 2}",
                        'hold_back_percent, params: {percent: "30%"}')
    [error] = load_text(text, "p.yaml").errors
    assert error.message == "percent: expected a number 0–100, got the string '30%'"
    assert error.pointer == "/channels/web/rules/0/actions/0/params/percent"


def test_a_shadowed_returns_rule_is_a_warning():
    text = """\
name: r
version: 1
returns:
  rules:
    - name: damaged
      conditions: {all: [{name: condition, operator: equal_to, value: damaged}]}
      actions: [{name: set_disposition, params: {disposition: discard}}]
    - name: damaged-and-late
      conditions:
        all:
          - {name: days_since_delivery, operator: greater_than, value: 30}
          - {name: condition, operator: equal_to, value: damaged}
      actions: [{name: set_disposition, params: {disposition: return_to_vendor}}]
"""
    result = load_text(text, "r.yaml")
    assert codes(result) == ["shadowed-rule"]
    assert result.problems[0].line == 8


@pytest.mark.parametrize(("text", "code", "line"), [
    ("name: x\nversion: [1\n", "yaml-syntax", 3),
    ("a: &a [1, 2]\nb: *a\n", "yaml-alias", 1),
    ("- 1\n- 2\n", "not-mapping", 1),
    ("", "not-mapping", 1),
    ("name: x\nname: y\n", "duplicate-key", 2),
    ("name: x\n---\nname: y\n", "yaml-syntax", 2),
])
def test_malformed_yaml_is_one_located_error(text, code, line):
    result = load_text(text, "m.yaml")
    assert result.ruleset is None
    assert [(p.code, p.line) for p in result.problems] == [(code, line)]


def test_a_yaml_alias_bomb_is_refused_without_expanding_it():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(8))
    result = load_text(bomb, "bomb.yaml")
    assert codes(result) == ["yaml-alias"]


def test_deeply_nested_documents_are_refused():
    result = load_text("a: " + "[" * 5000 + "]" * 5000, "deep.yaml")
    assert result.ruleset is None and result.problems


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * 3_000_000 + b"\n")
    result = load_file(big, max_bytes=1_000_000)
    assert codes(result) == ["file-too-large"]


def test_non_utf8_bytes_are_an_error_with_their_position():
    result = load_text(b"name: x\nversion: 1\ndescription: caf\xe9\n", "latin1.yaml")
    assert [(p.code, p.line, p.col) for p in result.problems] == [("encoding", 3, 17)]


def test_nan_and_infinity_are_refused():
    text = GOOD + "sourcing:\n  weights: {distance_km: .nan, priority: .inf}\n"
    assert codes(load_text(text, "n.yaml")).count("non-finite") == 2


def test_json_files_load_to_the_same_ruleset_as_yaml():
    data = yaml.safe_load(GOOD)
    from_json = load_text(json.dumps(data, indent="\t"), "demo.json")
    assert from_json.ruleset is not None
    assert from_json.ruleset.content_hash == load_text(GOOD, "demo.yaml").ruleset.content_hash


def test_json_problems_carry_line_and_column():
    data = yaml.safe_load(GOOD)
    data["channels"]["web"]["rules"][0]["conditions"]["all"][0]["name"] = "nope"
    text = json.dumps(data, indent=2)
    problem = load_text(text, "demo.json").errors[0]
    lines = text.splitlines()
    assert '"nope"' in lines[problem.line - 1][problem.col - 1:]


def test_malformed_json_reports_json_position():
    result = load_text('{"name": "x",\n  "version": }', "bad.json")
    assert [(p.code, p.line) for p in result.problems] == [("json-syntax", 2)]


def test_comments_and_layout_do_not_change_the_content_hash():
    reformatted = "# a comment\n" + GOOD.replace("{units: 2}", "{ units:   2 }")
    assert load_text(reformatted, "a.yaml").ruleset.content_hash == \
        load_text(GOOD, "b.yaml").ruleset.content_hash


def test_to_dict_gives_back_the_normalised_document():
    rs = load_text(GOOD, "demo.yaml").ruleset
    again = load_text(json.dumps(rs.to_dict()), "again.json").ruleset
    assert again is not None and again.to_dict() == rs.to_dict()


def test_two_files_with_the_same_name_and_version_clash(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text(GOOD.replace("units: 2", "units: 3"))
    load = load_directory(tmp_path)
    assert [rs.ref for rs in load.rulesets] == ["demo@1"]
    clash = [p for p in load.problems if p.code == "version-clash"]
    assert clash and clash[0].path.endswith("b.yml") and clash[0].line == 2


def test_no_input_operators_need_no_value():
    text = GOOD.replace("{name: location_type, operator: equal_to, value: store}",
                        "{name: can_pickup, operator: is_true}")
    rs = load_text(text, "x.yaml").ruleset
    assert rs is not None
    facts = {"can_pickup": True}
    assert rs.channels["web"][0].predicate(facts)
