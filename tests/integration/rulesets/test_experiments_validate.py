"""`oms rules validate` checks the experiments file too: in a folder and by its path, with
errors at file:line:col, its rulesets known from the rule files beside it."""

import shutil

from service.cli import main
from tests.support import FIXTURES

HEAD = "# yaml-language-server: $schema=../schemas/experiments.schema.json\nexperiments:\n"
GOOD = HEAD + """\
  - key: dc-test
    unit: customer_id
    coverage: 0.5
    status: running
    variants:
      - {name: control, ruleset: ledger@1, weight: 0.5}
      - {name: dc-first, ruleset: dc-first@1, weight: 0.5}
"""


def folder_with(tmp_path, text):
    root = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rulesets", root)
    (root / "experiments.yaml").write_text(text)
    return root


def test_a_folder_with_a_valid_experiments_file_passes_and_counts_it(tmp_path, capsys):
    root = folder_with(tmp_path, GOOD)
    rule_files = len(list(root.rglob("v*.yaml")))
    assert main(["rules", "validate", str(root)]) == 0
    assert f"{rule_files + 1} file(s): 0 error(s)" in capsys.readouterr().err


def test_an_experiment_naming_an_unknown_ruleset_fails_with_its_line_and_column(tmp_path,
                                                                               capsys):
    root = folder_with(tmp_path, GOOD.replace("dc-first@1", "dc-first@4"))
    assert main(["rules", "validate", str(root)]) == 1
    assert capsys.readouterr().out == (
        f"{root / 'experiments.yaml'}:9:35: error: ruleset dc-first@4 is not published (or "
        "does not load): a running experiment needs every variant's ruleset (at "
        "/experiments/0/variants/1/ruleset)\n")


def test_the_file_validated_by_its_path_knows_the_rulesets_beside_it(tmp_path, capsys):
    root = folder_with(tmp_path, GOOD)
    assert main(["rules", "validate", str(root / "experiments.yaml")]) == 0
    (root / "experiments.yaml").write_text(GOOD.replace("coverage: 0.5", "coverage: 2"))
    assert main(["rules", "validate", str(root / "experiments.yaml")]) == 1
    assert f"{root / 'experiments.yaml'}:5:15: error: 2 is greater than the maximum of 1" in \
        capsys.readouterr().out


def test_a_lone_experiments_file_without_its_rulesets_is_checked_for_form_only_when_draft(
        tmp_path, capsys):
    path = tmp_path / "experiments.yaml"
    path.write_text(GOOD.replace("status: running", "status: draft"))
    assert main(["rules", "validate", str(path)]) == 0
    path.write_text(GOOD)
    assert main(["rules", "validate", str(path)]) == 1
    assert "ruleset ledger@1 is not published" in capsys.readouterr().out
