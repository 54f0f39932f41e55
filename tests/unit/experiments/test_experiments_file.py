"""The experiments file is checked like a rule file: every problem at file:line:col in plain
words, and the meaning checks (keys, variants, rulesets, channels) before it is accepted."""

from pathlib import Path

from service.rules.experiments import load_experiments, load_experiments_file
from service.rules.loader import load_directory, rule_files
from service.settings import PROJECT_ROOT

KNOWN = {"default@3", "dc-first@1"}.__contains__
HEAD = "# yaml-language-server: $schema=../schemas/experiments.schema.json\nexperiments:\n"


def one(key="a", status="running", channels="[web]", extra="", variants=None):
    variants = variants or ("      - {name: control, ruleset: default@3, weight: 0.5}\n"
                            "      - {name: b, ruleset: dc-first@1, weight: 0.5}\n")
    chan = f"    channels: {channels}\n" if channels else ""
    return (f"  - key: {key}\n    unit: customer_id\n{chan}    coverage: 0.5\n"
            f"    status: {status}\n{extra}    variants:\n{variants}")


def problems(text, known=KNOWN):
    return [(p.line, p.col, p.severity, p.message) for p in
            load_experiments(text, "experiments.yaml", known).problems]


def test_the_shipped_experiments_file_is_valid_and_starts_with_the_schema_modeline():
    path = PROJECT_ROOT / "rulesets" / "experiments.yaml"
    assert path.read_text().splitlines()[0] == \
        "# yaml-language-server: $schema=../schemas/experiments.schema.json"
    loaded = load_experiments_file(path, KNOWN)
    assert loaded.ok and loaded.problems == ()
    assert [e.key for e in loaded.experiments] == ["dc-first-test"]


def test_the_rules_folder_does_not_take_the_experiments_file_for_a_ruleset():
    root = PROJECT_ROOT / "rulesets"
    assert root / "experiments.yaml" not in rule_files(root)
    assert load_directory(root).problems == ()


def test_a_valid_file_loads_its_experiments():
    loaded = load_experiments(HEAD + one() + one("b", channels="[app]"), "x.yaml", KNOWN)
    assert loaded.ok
    assert [(e.key, e.channels, e.control.name) for e in loaded.experiments] == [
        ("a", ("web",), "control"), ("b", ("app",), "control")]


def test_a_schema_error_names_line_column_and_what_was_expected():
    text = HEAD + one(status="live")
    assert problems(text) == [(7, 13, "error", "'live' is not one of ['draft', 'running', "
                                               "'stopped', 'shadow']")]


def test_an_unknown_key_is_named_with_what_is_allowed():
    found = problems(HEAD + one(extra="    colour: red\n"))
    assert len(found) == 1 and found[0][:3] == (8, 13, "error")
    assert found[0][3].startswith("unknown key 'colour' (expected: key, seed, unit")


def test_one_variant_is_not_an_experiment():
    found = problems(HEAD + one(variants="      - {name: c, ruleset: default@3, weight: 1}\n"))
    assert found == [(9, 7, "error", "[{'name': 'c', 'ruleset': 'default@3', 'weight': 1}] is "
                                     "too short")]


def test_duplicate_keys_and_variant_names_are_errors_at_their_line():
    twice = "      - {name: b, ruleset: default@3, weight: 0.5}\n" * 2
    found = problems(HEAD + one("a", channels="[web]") + one("a", "draft", variants=twice))
    assert (11, 10, "error", "duplicate experiment key 'a' (first used by experiment 0)") in found
    assert (18, 16, "error", "duplicate variant name 'b'") in found


def test_a_running_experiment_must_name_published_rulesets_a_draft_need_not():
    bad = ("      - {name: control, ruleset: default@3, weight: 0.5}\n"
           "      - {name: b, ruleset: default@9, weight: 0.5}\n")
    assert problems(HEAD + one(variants=bad)) == [(10, 28, "error", (
        "ruleset default@9 is not published (or does not load): a running experiment needs "
        "every variant's ruleset"))]
    assert problems(HEAD + one(status="draft", variants=bad)) == []


def test_two_running_experiments_may_not_claim_the_same_channel():
    text = HEAD + one("a", channels="[web, app]") + one("b", channels="[app]")
    assert problems(text) == [(13, 15, "error", (
        "channel 'app' is already claimed by running experiment 'a': two running experiments "
        "may not share a channel (one without channels claims every channel)"))]
    assert problems(HEAD + one("a", channels="[web]") + one("b", "stopped", "[web]")) == []


def test_an_experiment_without_channels_claims_every_channel():
    found = problems(HEAD + one("a", channels="[web]") + one("b", channels=None))
    assert [f[3].split(" is already")[0] for f in found] == ["every channel"]
    found = problems(HEAD + one("a", channels=None) + one("b", channels="[web]"))
    assert len(found) == 1 and "claimed by running experiment 'a'" in found[0][3]


def test_weights_not_adding_up_to_one_are_a_warning_about_equal_shares():
    skewed = ("      - {name: control, ruleset: default@3, weight: 0.5}\n"
              "      - {name: b, ruleset: dc-first@1, weight: 0.3}\n")
    loaded = load_experiments(HEAD + one(variants=skewed), "x.yaml", KNOWN)
    assert loaded.ok
    assert [(p.severity, p.message) for p in loaded.problems] == [("warning", (
        "the weights add up to 0.8, not 1: every variant gets an equal share instead (as "
        "GrowthBook does)"))]


def test_an_end_before_the_start_is_an_error():
    window = "    start: 2026-12-02T00:00:00Z\n    end: 2026-12-01T00:00:00Z\n"
    assert problems(HEAD + one(extra=window)) == [(9, 10, "error", (
        "end (2026-12-01T00:00:00Z) must be after start (2026-12-02T00:00:00Z)"))]


def test_malformed_yaml_is_located():
    assert problems(HEAD + "  - key: [a\n")[0][:3] == (4, 1, "error")


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path):
    loaded = load_experiments_file(tmp_path / "experiments.yaml")
    assert not loaded.ok and loaded.errors[0].code == "unreadable"
